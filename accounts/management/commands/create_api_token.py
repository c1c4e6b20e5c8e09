from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import api_token_create, member_add
from oms_project.management.commands._ops import EXIT_ERROR, service_errors


class Command(BaseCommand):
    help = "Create a bearer token for gRPC/REST. The token is printed once; only its digest is stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="what the token is for, e.g. the bot's name")
        parser.add_argument("--create-user", action="store_true", help="create the user when it does not exist")
        parser.add_argument("--account", action="append", default=[], metavar="ACCOUNT[:ROLE]",
                            help="make the user a member of ACCOUNT (role trader or viewer, default trader); repeatable")

    def handle(self, *args, **o):
        User = get_user_model()
        user = User.objects.filter(username=o["username"]).first()
        if user is None:
            if not o["create_user"]:
                raise CommandError(f"username: no user named {o['username']!r} (use --create-user)", returncode=EXIT_ERROR)
            user = User.objects.create_user(username=o["username"])
        with service_errors():
            for spec in o["account"]:
                account, _, role = spec.partition(":")
                member_add(account=account, user=user, role=role or "trader")
            token = api_token_create(user=user, name=o["name"])
        self.stderr.write(f"token for {user.get_username()} (shown once, store it now):")
        self.stdout.write(token)
