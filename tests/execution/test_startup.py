"""The testnet account from the environment (what a starting worker does)."""
from accounts.models import Account, ControlChange
from execution import startup


def test_testnet_keys_in_the_environment_create_then_update_the_sandbox_account(db, monkeypatch):
    monkeypatch.setenv("BINANCE_TESTNET_API_KEY", "tn-key-1")
    monkeypatch.setenv("BINANCE_TESTNET_SECRET", "tn-secret-1")
    account = startup.testnet_account_from_env()
    assert (account.name, account.exchange, account.sandbox) == ("testnet", "binance", True)
    assert account.credential.decrypted() == {"apiKey": "tn-key-1", "secret": "tn-secret-1"}

    changes = ControlChange.objects.count()
    startup.testnet_account_from_env()  # the same keys again: nothing to change
    assert ControlChange.objects.count() == changes

    monkeypatch.setenv("BINANCE_TESTNET_SECRET", "tn-secret-2")
    startup.testnet_account_from_env()
    assert Account.objects.get(name="testnet").credential.decrypted()["secret"] == "tn-secret-2"


def test_without_testnet_keys_no_account_is_made(db, monkeypatch):
    monkeypatch.delenv("BINANCE_TESTNET_API_KEY", raising=False)
    monkeypatch.setenv("BINANCE_TESTNET_SECRET", "only-a-secret")
    assert startup.testnet_account_from_env() is None
    assert not Account.objects.filter(name="testnet").exists()
