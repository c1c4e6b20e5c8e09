"""`manage.py up`: the whole OMS on one machine, as one supervised process tree.

Starts the embedded PostgreSQL/Redis when DATABASE_URL/REDIS_URL are unset (the settings do that on
import; this command stops them on exit), migrates, collects static files, makes sure the demo
account `main` on `binance` (pointing at the local venue) and a local admin user exist, then runs
the processes of `oms_project.processes.CHILDREN` until Ctrl-C/SIGTERM or until one keeps dying.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Account, Credential
from exchanges.models import Instrument
from infra import embedded, metrics
from infra.supervisor import ChildFailed, Supervisor
from oms_project import processes

DEMO_ACCOUNT = "main"
SECOND_ACCOUNT = "second"  # a second demo account on a key of its own: the two trade with each other on the venue
DEMO_EXCHANGE = "binance"
ADMIN_USERNAME = "admin"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def venue_keys(var_dir: Path, account: str = DEMO_ACCOUNT) -> tuple[str, str]:
    """A demo account's key pair on the local venue, made once and kept under var/ (mode 0600):
    `venue_keys.json` for `main`, `venue_keys_<account>.json` for another."""
    path = var_dir / ("venue_keys.json" if account == DEMO_ACCOUNT else f"venue_keys_{account}.json")
    if not path.exists():
        from exchanges.simulator.privatefile import write_private

        var_dir.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps({"api_key": secrets.token_hex(32), "secret": secrets.token_hex(32)}).encode())
    data = json.loads(path.read_text())
    return data["api_key"], data["secret"]


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:  # a broken URL stored before the services checked it: not ours to touch
        return None


def _netloc(url: str) -> str | None:
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None


def demo_account_ensure(api_key: str, secret: str, name: str = DEMO_ACCOUNT) -> Account:
    """Account `name` (`main`, or `second`) on binance at the local venue, holding the venue key pair as its
    Credential. An account pointing elsewhere than a local venue is left alone."""
    base_url = f"http://{settings.OMS_VENUE_ADDR}"
    account = Account.objects.filter(name=name).first()
    if account is None:
        account = account_services.account_create(name=name, exchange=DEMO_EXCHANGE, base_url=base_url)
    elif account.base_url != base_url and _hostname(account.base_url) in LOCAL_HOSTS:
        account = account_services.account_set_venue(account=name, base_url=base_url)
    if _netloc(account.base_url) == settings.OMS_VENUE_ADDR:
        cred = Credential.objects.filter(account=account).first()
        if cred is None or cred.decrypted()["apiKey"] != api_key:
            account_services.credential_set(account=name, api_key=api_key, secret=secret)
    return account


def admin_ensure() -> str | None:
    """Create the local admin user once; returns its password then (shown once), else None."""
    users = get_user_model()
    if users.objects.filter(username=ADMIN_USERNAME).exists():
        return None
    password = secrets.token_urlsafe(12)
    users.objects.create_superuser(username=ADMIN_USERNAME, email="", password=password)
    return password


def url_without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


class Command(BaseCommand):
    help = "Run the whole OMS on this machine (embedded PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set)."

    def add_arguments(self, parser):
        parser.add_argument("--ready-timeout", type=float, default=90.0,
                            help="seconds to wait for every service to listen, the worker to answer and the demo "
                                 "account's instruments to be synced")

    def handle(self, *args, ready_timeout: float, **options):
        embedded_pg = not os.environ.get("DATABASE_URL")
        embedded_redis = not os.environ.get("REDIS_URL")
        stopping = threading.Event()
        supervisor = Supervisor(out=self.stdout)

        def on_signal(signum, frame):
            stopping.set()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            ctx = self.prepare()
            if stopping.is_set():
                return
            env = self.child_env()
            metrics.reset_multiprocess_dir(env["PROMETHEUS_MULTIPROC_DIR"])
            for child in processes.CHILDREN:
                if child.enabled():
                    supervisor.add(child.name, child.argv(ctx), {**env, **child.env(ctx)}, child.listens())
            since = timezone.now()  # a catalog written after this was synced by this run's worker
            supervisor.start()
            deadline = time.monotonic() + ready_timeout
            if not supervisor.wait_ready(timeout=ready_timeout, stopping=stopping):
                return
            if not self.wait_tradable(supervisor, since=since, deadline=deadline, stopping=stopping):
                return
            self.announce(embedded_pg, embedded_redis)
            supervisor.run_until(stopping)
        except ChildFailed as exc:
            raise CommandError(str(exc)) from None
        finally:
            self.stdout.write("stopping…")
            supervisor.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if embedded_pg:
                from django.db import connections

                connections.close_all()
                embedded.stop_postgres()
            if embedded_redis:
                embedded.stop_redis()
            self.stdout.write("stopped")

    def prepare(self) -> processes.UpContext:
        self.stdout.write("migrating the database…")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        api_key, secret = venue_keys(embedded.VAR_DIR)
        self.demo = demo_account_ensure(api_key, secret)
        second_key, second_secret = venue_keys(embedded.VAR_DIR, SECOND_ACCOUNT)
        demo_account_ensure(second_key, second_secret, SECOND_ACCOUNT)
        password = admin_ensure()
        if password:
            self.stdout.write(self.style.WARNING(
                f"created the admin user {ADMIN_USERNAME!r} with password {password} (shown once; change it in the admin)"))
        return processes.UpContext(var_dir=embedded.VAR_DIR, venue_api_key=api_key, venue_secret=secret,
                                   more_venue_keys=((second_key, second_secret),))

    def wait_tradable(self, supervisor: Supervisor, *, since, deadline: float, stopping: threading.Event) -> bool:
        """`ready` promises that an order can be placed at once: the worker answers (its queues and order lane
        run by then) and, when the demo account trades on the local venue, the worker's start-up sync has written
        that venue's instrument catalog, which every placement is validated against."""
        from celery.utils.nodenames import host_format

        from oms_project.celery import app

        node = host_format(processes.WORKER_NODENAME)
        began = time.monotonic()
        self.stdout.write(f"waiting for the worker {node} to consume…")
        if not supervisor.wait_for(lambda: app.control.ping(destination=[node], timeout=0.5), deadline=deadline,
                                   stopping=stopping, what=f"the worker {node} answering"):
            return False
        self.stdout.write(f"  the worker answers ({time.monotonic() - began:.1f} s)")
        account = self.demo
        if not account.enabled or _netloc(account.base_url) != settings.OMS_VENUE_ADDR:
            return True  # an account of the user's own, on a venue of theirs: its catalog is theirs to sync
        began = time.monotonic()
        self.stdout.write(f"waiting for the worker to sync the instruments of account {account.name!r} "
                          f"({account.exchange} at {account.base_url})…")
        synced = Instrument.objects.filter(exchange=account.exchange, active=True, updated_at__gte=since)
        if not supervisor.wait_for(synced.exists, deadline=deadline, stopping=stopping,
                                   what=f"the start-up sync of the instruments of account {account.name!r}"):
            return False
        self.stdout.write(f"  {synced.count()} instruments synced ({time.monotonic() - began:.1f} s)")
        return True

    @staticmethod
    def child_env() -> dict[str, str]:
        env = dict(os.environ)
        env.update(DATABASE_URL=settings.DATABASE_URL, REDIS_URL=settings.REDIS_URL, OMS_VAR_DIR=str(embedded.VAR_DIR),
                   PYTHONUNBUFFERED="1")
        # One host: every child writes its metric samples here, so the web tier's /metrics shows them all.
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", str(embedded.VAR_DIR / "prometheus"))
        if settings.DEBUG or env.get("OMS_DEV", "").lower() in ("1", "true", "yes", "on"):
            # A local run serves plain HTTP on loopback; production keeps the secure defaults.
            env.setdefault("OMS_SECURE_SSL_REDIRECT", "0")
            env.setdefault("OMS_SECURE_COOKIES", "0")
        return env

    def announce(self, embedded_pg: bool, embedded_redis: bool) -> None:
        w = self.stdout.write
        w("")
        w("OMS is up:")
        for child in processes.CHILDREN:
            if child.enabled():
                w(f"  {child.name:<11} {child.describe() or child.listens() or 'running'}")
        db = f"embedded, data in {embedded.VAR_DIR / 'pg'}" if embedded_pg else url_without_password(settings.DATABASE_URL)
        redis = f"embedded, {settings.REDIS_URL}" if embedded_redis else url_without_password(settings.REDIS_URL)
        w(f"  {'postgres':<11} {db}")
        w(f"  {'redis':<11} {redis}")
        w("")
        w("Try:  .venv/bin/python clients/python/oms_client.py balance")
        w("Stop: Ctrl-C")
        w(self.style.SUCCESS("ready"))
