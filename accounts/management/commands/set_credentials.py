import getpass
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.services import credential_set
from oms_project.management.commands._ops import EXIT_ERROR, service_errors, user_get


class Command(BaseCommand):
    help = ("Store an account's API key and secret (encrypted). Secrets are read from a prompt, or from stdin "
            "when it is not a terminal (line 1 API key, line 2 secret, optional line 3 passphrase); never from "
            "the command line, where they would land in shell history and process lists.")

    def add_arguments(self, parser):
        parser.add_argument("account")
        parser.add_argument("--passphrase", action="store_true", help="the venue also needs a passphrase (prompted)")
        parser.add_argument("--user", default="", help="record this user as the one who made the change")

    def read_secrets(self, want_passphrase: bool) -> tuple[str, str, str]:
        if sys.stdin.isatty():
            api_key = getpass.getpass("API key: ")
            secret = getpass.getpass("Secret: ")
            passphrase = getpass.getpass("Passphrase: ") if want_passphrase else ""
        else:
            lines = [line.strip() for line in sys.stdin.read().splitlines()]
            api_key, secret, passphrase = (lines + ["", "", ""])[:3]
        if not api_key or not secret:
            raise CommandError("an API key and a secret are both required (nothing was stored)", returncode=EXIT_ERROR)
        return api_key, secret, passphrase

    def handle(self, *args, **o):
        user = user_get(o["user"])
        api_key, secret, passphrase = self.read_secrets(o["passphrase"])
        with service_errors():
            cred = credential_set(account=o["account"], api_key=api_key, secret=secret, passphrase=passphrase, user=user)
        self.stdout.write(self.style.SUCCESS(f"credentials stored for {o['account']} (API key …{cred.key_hint})"))
