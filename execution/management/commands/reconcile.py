import json
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from accounts.management.commands._accounts import account_names_check
from accounts.models import Market
from execution.reconcile import reconcile
from infra.commands import (
    EXIT_ERROR,
    OpsCommand,
    duration_seconds,
    number_check,
    refuse,
)
from orders.models_reconcile import ReconciliationRun

EXIT_AGREE, EXIT_DRIFT = 0, 1


SINCE_MAX = timedelta(days=3650)


def since_arg(value: str) -> datetime:
    """ISO time (UTC when no offset is given) or a duration back from now: 90m, 6h, 2d; at most SINCE_MAX back,
    not in the future; always returned in UTC (PostgreSQL takes offsets only up to ±15:59)."""
    now = timezone.now()
    seconds = duration_seconds(value)
    if seconds is not None:
        if seconds > SINCE_MAX.total_seconds():
            raise refuse("--since", f"{value!r} reaches back more than {SINCE_MAX.days} days")
        return now - timedelta(seconds=seconds)
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well-formed but impossible (a 31st of February, hour 25)
        parsed = None
    if parsed is None:
        raise refuse("--since", f"{value!r} is neither an ISO time nor a duration like 6h")
    if parsed.utcoffset() is not None and abs(parsed.utcoffset()) > timedelta(hours=14):
        raise refuse("--since", f"{value!r} has a UTC offset beyond ±14:00")
    try:
        since = parsed.astimezone(UTC) if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
    except OverflowError:
        raise refuse("--since", f"{value!r} is out of range") from None
    if since < now - SINCE_MAX:
        raise refuse("--since", f"{value!r} is more than {SINCE_MAX.days} days back")
    if since > now:
        raise refuse("--since", f"{value!r} is in the future")
    return since


class Command(OpsCommand):
    help = ("Compare the ledger with the venue per account: open orders, trades, balances, positions. --fix applies "
            "the venue's truth through the services (events with source 'reconcile'; history is never deleted). "
            "Exit 0 when they agree (or every difference was repaired), 1 when drift remains, 2 on errors.")

    def add_arguments(self, parser):
        parser.add_argument("--account", default="")
        parser.add_argument("--market", choices=Market.values, default="")
        parser.add_argument("--since", default="", help="trades since this ISO time or duration (6h, 2d); "
                                                        "default OMS_RECONCILE_LOOKBACK_HOURS")
        parser.add_argument("--fix", action="store_true", help="repair the ledger from the venue")
        parser.add_argument("--settle", type=float, default=None,
                            help="leave orders changed in the last N seconds alone (default OMS_RECONCILE_SETTLE_SECONDS)")
        parser.add_argument("--open-books", action="store_true",
                            help="spot: book each asset's venue balance as the opening balance of the ledger's computed "
                                 "holdings (adjustments), once; later full runs then compare holdings with balances")
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")

    def handle(self, *args, **o):
        if o["account"]:
            account_names_check([o["account"]], "--account")
        number_check("--settle", o["settle"], maximum=86400)
        since = since_arg(o["since"]) if o["since"] else None
        kwargs = {"account": o["account"], "market": o["market"], "since": since, "fix": o["fix"], "settle_seconds": o["settle"],
                  "open_books": o["open_books"]}
        if o["json"]:
            runs = reconcile(**kwargs)
            self.stdout.write(json.dumps([self.as_dict(run) for run in runs], indent=2, default=str))
        else:
            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("reconciling", total=None)

                def progress(done, total, label):
                    bar.update(task, completed=done, total=total, description=f"reconciling {label}")

                runs = reconcile(**kwargs, progress=progress)
            self.report(runs)
        raise SystemExit(self.exit_code(runs))

    @staticmethod
    def exit_code(runs: list[ReconciliationRun]) -> int:
        if any(run.outcome == ReconciliationRun.Outcome.ERROR for run in runs):
            return EXIT_ERROR
        if any(run.outcome == ReconciliationRun.Outcome.DRIFT for run in runs):
            return EXIT_DRIFT
        return EXIT_AGREE

    @staticmethod
    def as_dict(run: ReconciliationRun) -> dict:
        return {
            "run": run.id, "account": run.account.name, "market": run.market, "outcome": run.outcome, "fix": run.fix,
            "error": run.error, "drift": [
                {"kind": d.kind, "symbol": d.symbol, "reference": d.reference, "order_id": d.order_id,
                 "ledger": d.ledger, "venue": d.venue, "fixed": d.fixed, "note": d.note}
                for d in run.drifts.all()],
        }

    def report(self, runs: list[ReconciliationRun]) -> None:
        console = Console(file=self.stdout, highlight=False)
        if not runs:
            console.print("no accounts with credentials to reconcile")
        for run in runs:
            style = {"agree": "green", "fixed": "yellow", "drift": "red", "error": "bold red"}[run.outcome]
            console.print(f"[{style}]{run.account.name} {run.market}: {run.get_outcome_display()}[/]"
                          f"{' — ' + run.error if run.error else ''}")
            drifts = list(run.drifts.all())
            if drifts:
                table = Table("kind", "symbol", "reference", "ledger", "venue", "fixed", "note")
                for d in drifts:
                    table.add_row(d.kind, d.symbol, d.reference, json.dumps(d.ledger), json.dumps(d.venue),
                                  "yes" if d.fixed else "no", d.note)
                console.print(table)
