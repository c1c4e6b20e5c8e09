from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.services import TOKEN_LIFETIME_MAX, api_token_create, member_add, user_create, username_check
from infra.commands import OpsCommand, duration_check, refuse


class Command(OpsCommand):
    help = ("Create a bearer token for gRPC/REST. The token is printed once; only its digest is stored. Every "
            "argument is checked first and the whole command is one transaction: on an error nothing is created "
            "(no user, membership or token) and it exits 2 naming the argument.")
    field_names = {"username": "username", "account_id": "--account", "role": "--account", "name": "--name",
                   "expires_at": "--expires-in"}

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. the bot's name")
        parser.add_argument("--create-user", action="store_true", help="create the user when it does not exist")
        parser.add_argument("--account", action="append", default=[], metavar="ACCOUNT[:ROLE]",
                            help="make the user a member of ACCOUNT (role trader or viewer, default trader); repeatable")
        parser.add_argument("--expires-in", default="", metavar="DURATION",
                            help="the token is refused after this long: 90m, 12h, 30d, 2w (default: until revoked)")

    def handle(self, *args, **o):
        username = username_check(o["username"])
        lifetime = (duration_check("--expires-in", o["expires_in"], maximum_seconds=TOKEN_LIFETIME_MAX.total_seconds())
                    if o["expires_in"] else None)
        memberships = []
        for spec in o["account"]:
            account, _, role = spec.partition(":")
            if not account:
                raise refuse("--account", f"{spec!r} names no account (ACCOUNT[:trader|viewer])")
            memberships.append((account, role or "trader"))
        with transaction.atomic():  # a refusal below undoes the user and memberships made before it
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                if not o["create_user"]:
                    raise refuse("username", f"no user named {username!r} (use --create-user)")
                user = user_create(username=username)
            for account, role in memberships:
                member_add(account=account, user=user, role=role)
            expires_at = timezone.now() + lifetime if lifetime else None
            token = api_token_create(user=user, name=o["name"], expires_at=expires_at)
        self.stderr.write(f"token for {user.get_username()} (shown once, store it now"
                          f"{f'; valid until {expires_at:%Y-%m-%d %H:%M} UTC' if expires_at else ''}):")
        self.stdout.write(token)
