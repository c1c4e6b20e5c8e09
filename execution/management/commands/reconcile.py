import json
from datetime import UTC, datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from accounts.models import Account, Market
from execution.reconcile import reconcile
from oms_project.management.commands._ops import EXIT_ERROR
from orders.models_reconcile import ReconciliationRun

EXIT_AGREE, EXIT_DRIFT = 0, 1


def since_arg(value: str) -> datetime:
    """ISO time (UTC when no offset is given) or a duration back from now: 90m, 6h, 2d."""
    units = {"m": 60, "h": 3600, "d": 86400}
    if value[-1:] in units and value[:-1].isdigit():
        return timezone.now() - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--since: {value!r} is neither an ISO time nor a duration like 6h", returncode=EXIT_ERROR)
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


class Command(BaseCommand):
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
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")

    def handle(self, *args, **o):
        if o["account"] and not Account.objects.filter(name=o["account"]).exists():
            raise CommandError(f"--account: no account named {o['account']!r}", returncode=EXIT_ERROR)
        since = since_arg(o["since"]) if o["since"] else None
        kwargs = {"account": o["account"], "market": o["market"], "since": since, "fix": o["fix"], "settle_seconds": o["settle"]}
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
