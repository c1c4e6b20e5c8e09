"""Exchange secrets are encrypted at rest and never shown."""
import pytest
from django.db import connection

from accounts import crypto, services
from accounts.models import ControlChange, Credential
from infra.errors import InvalidInput

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def raw_table_text() -> str:
    """The table as a dump would hold it: every column of every row, straight from PostgreSQL."""
    with connection.cursor() as cur:
        cur.execute("SELECT t::text FROM accounts_credential t")
        return "\n".join(row[0] for row in cur.fetchall())


def test_secret_is_not_readable_in_the_database(account):
    # when
    services.credential_set(account="main", api_key=API_KEY, secret=SECRET, passphrase="hunter2-passphrase")
    # then
    dump = raw_table_text()
    assert "gAAAAA" in dump  # Fernet tokens are what is stored
    for plain in (API_KEY, SECRET, "hunter2-passphrase"):
        assert plain not in dump
    assert Credential.objects.get().decrypted() == {"apiKey": API_KEY, "secret": SECRET, "password": "hunter2-passphrase"}


def test_secret_is_not_in_str_repr_or_the_audit(account):
    cred = services.credential_set(account="main", api_key=API_KEY, secret=SECRET)
    shown = str(cred) + repr(cred) + str(list(ControlChange.objects.values("before", "after")))
    assert SECRET not in shown and API_KEY not in shown
    assert API_KEY[-4:] in str(cred)


def test_rotated_key_still_reads_old_secrets(account, settings):
    from cryptography.fernet import Fernet

    # given a secret written under the current key
    services.credential_set(account="main", api_key=API_KEY, secret=SECRET)
    # when a new key is put first
    settings.OMS_FERNET_KEYS = [Fernet.generate_key().decode(), *settings.OMS_FERNET_KEYS]
    crypto.reset_cache()
    try:
        cred = Credential.objects.get()
        # then
        assert cred.decrypted()["secret"] == SECRET
        assert crypto.decrypt(crypto.rotate(cred.secret_encrypted)) == SECRET
    finally:
        crypto.reset_cache()


def test_missing_secret_is_refused(account):
    with pytest.raises(InvalidInput) as err:
        services.credential_set(account="main", api_key=API_KEY, secret="")
    assert err.value.field == "secret" and not Credential.objects.exists()
