from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.services import api_token_create, member_add, user_create, username_check
from oms_project.management.commands._ops import OpsCommand, refuse


class Command(OpsCommand):
    help = ("Create a bearer token for gRPC/REST. The token is printed once; only its digest is stored. Every "
            "argument is checked first and the whole command is one transaction: on an error nothing is created "
            "(no user, membership or token) and it exits 2 naming the argument.")
    field_names = {"username": "username", "account_id": "--account", "role": "--account", "name": "--name"}

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. the bot's name")
        parser.add_argument("--create-user", action="store_true", help="create the user when it does not exist")
        parser.add_argument("--account", action="append", default=[], metavar="ACCOUNT[:ROLE]",
                            help="make the user a member of ACCOUNT (role trader or viewer, default trader); repeatable")

    def handle(self, *args, **o):
        username = username_check(o["username"])
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
            token = api_token_create(user=user, name=o["name"])
        self.stderr.write(f"token for {user.get_username()} (shown once, store it now):")
        self.stdout.write(token)
