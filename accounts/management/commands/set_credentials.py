import getpass
import sys

from accounts.services import credential_set
from infra.commands import OpsCommand, refuse, text_problem, user_get


class Command(OpsCommand):
    help = ("Store an account's API key and secret (encrypted). Secrets are read from a prompt, or from stdin "
            "when it is not a terminal (line 1 API key, line 2 secret, optional line 3 passphrase; UTF-8); never "
            "from the command line, where they would land in shell history and process lists.")
    field_names = {"account_id": "account", "api_key": "API key (stdin line 1)", "secret": "secret (stdin line 2)",
                   "passphrase": "passphrase (stdin line 3)"}

    def add_arguments(self, parser):
        parser.add_argument("account")
        parser.add_argument("--passphrase", action="store_true", help="the venue also needs a passphrase (prompted)")
        parser.add_argument("--user", default="", help="record this user as the one who made the change")

    def read_stdin(self) -> list[str]:
        raw = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8", "surrogateescape")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise refuse("stdin", f"is not UTF-8 text (byte {exc.start + 1}); nothing was stored") from None
        lines = [line.strip() for line in text.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        if len(lines) > 3:
            raise refuse("stdin", f"expected 2 or 3 lines (API key, secret, optional passphrase), got {len(lines)}; "
                                  f"nothing was stored")
        return lines

    def read_secrets(self, want_passphrase: bool) -> tuple[str, str, str]:
        if sys.stdin.isatty():
            try:
                api_key = getpass.getpass("API key: ").strip()
                secret = getpass.getpass("Secret: ").strip()
                passphrase = getpass.getpass("Passphrase: ").strip() if want_passphrase else ""
            except (EOFError, KeyboardInterrupt):
                raise refuse("stdin", "no answer at the prompt; nothing was stored") from None
        else:
            api_key, secret, passphrase = (self.read_stdin() + ["", "", ""])[:3]
        for field, value in (("api_key", api_key), ("secret", secret), ("passphrase", passphrase)):
            problem = text_problem(value)  # the value itself is never echoed
            if problem:
                raise refuse(self.field_names[field], f"{problem}; nothing was stored")
        if not api_key or not secret:
            raise refuse("secret" if api_key else "API key", "an API key and a secret are both required (nothing "
                                                             "was stored)")
        return api_key, secret, passphrase

    def handle(self, *args, **o):
        user = user_get(o["user"])
        from accounts.selectors import account_get

        account_get(o["account"])  # before a prompt asks for secrets
        api_key, secret, passphrase = self.read_secrets(o["passphrase"])
        cred = credential_set(account=o["account"], api_key=api_key, secret=secret, passphrase=passphrase, user=user)
        self.stdout.write(self.style.SUCCESS(f"credentials stored for {o['account']} (API key …{cred.key_hint})"))
