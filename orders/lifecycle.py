"""The order state machine (DESIGN.md, "Order lifecycle") as data, and the one function that decides
what a venue report does to an order.

`decide()` is pure (no database) so every rule is testable on its own; `orders.services` applies its
decision under the order's row lock. Three outcomes besides applying a change:
  duplicate  the report says nothing new: no change, no event;
  stale      the report is older than what we know (lower filled quantity, a status behind ours):
             ignored and recorded as a STALE_IGNORED event, never applied;
  illegal    the move is impossible (a terminal order changing status, filled beyond quantity, a
             NEW order "rejected" after the venue accepted it): `IllegalTransition`, nothing changes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings

from infra.errors import FailedPrecondition, InvalidInput
from orders.models import OPEN_STATUSES, PENDING_STATUSES, TERMINAL_STATUSES, Status

# Where each status may go. Venue reports never produce PENDING_NEW/PENDING_CANCEL; those come
# from our own actions (placement, cancel request).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING_NEW: frozenset({Status.NEW, Status.PARTIALLY_FILLED, Status.FILLED, Status.REJECTED,
                                   Status.CANCELLED, Status.EXPIRED, Status.PENDING_CANCEL}),
    Status.NEW: frozenset({Status.PARTIALLY_FILLED, Status.FILLED, Status.PENDING_CANCEL,
                           Status.CANCELLED, Status.EXPIRED}),
    Status.PARTIALLY_FILLED: frozenset({Status.PARTIALLY_FILLED, Status.FILLED, Status.PENDING_CANCEL,
                                        Status.CANCELLED, Status.EXPIRED}),
    # "back" to NEW/PARTIALLY_FILLED when the venue refuses the cancel; REJECTED when the venue
    # never saw an order whose cancel was requested before it was submitted.
    Status.PENDING_CANCEL: frozenset({Status.NEW, Status.PARTIALLY_FILLED, Status.FILLED, Status.CANCELLED,
                                      Status.EXPIRED, Status.REJECTED}),
    Status.FILLED: frozenset(),
    Status.CANCELLED: frozenset(),
    Status.REJECTED: frozenset(),
    Status.EXPIRED: frozenset(),
}

# How far along an order is; a report whose status ranks below ours is stale.
RANK: dict[str, int] = {
    Status.PENDING_NEW: 0,
    Status.NEW: 1,
    Status.PARTIALLY_FILLED: 2,
    Status.PENDING_CANCEL: 2,
    Status.FILLED: 3,
    Status.CANCELLED: 3,
    Status.REJECTED: 3,
    Status.EXPIRED: 3,
}

# Statuses a venue can report (ours: PENDING_NEW, PENDING_CANCEL).
VENUE_STATUSES = (Status.NEW, Status.PARTIALLY_FILLED, Status.FILLED, Status.CANCELLED, Status.REJECTED, Status.EXPIRED)
CANCELLABLE_STATUSES = (Status.PENDING_NEW, Status.NEW, Status.PARTIALLY_FILLED)
WORKING_STATUSES = (Status.NEW, Status.PARTIALLY_FILLED)  # on the venue's book
# PENDING_STATUSES (orders.models): waiting for the venue's answer to our own request (a placement, a cancel): each
# such order needs its own look at the venue (a sweep of open orders cannot tell "never received" from "not visible
# yet"); recovery settles them.


class EventKind:
    """OrderEvent.kind values: what happened to the order."""

    PLACED = "PLACED"                      # accepted by the OMS, persisted PENDING_NEW
    ACCEPTED = "ACCEPTED"                  # the venue acknowledged it (NEW)
    REJECTED = "REJECTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"  # a venue report moved filled quantity
    FILLED = "FILLED"
    FILL = "FILL"                          # one venue trade recorded as a Fill row
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    CANCEL_REFUSED = "CANCEL_REFUSED"      # PENDING_CANCEL went back to working
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"
    UPDATED = "UPDATED"                    # same status, new facts (exchange order id, more filled on a closed order)
    STALE_IGNORED = "STALE_IGNORED"        # an out-of-date report, recorded and not applied
    ADOPTED = "ADOPTED"                    # a venue order the ledger never had, taken in by reconciliation
    AMEND_REQUESTED = "AMEND_REQUESTED"    # a new price and/or quantity asked for, on its way to the venue
    AMENDED = "AMENDED"                    # the venue confirmed the amend (payload: old and new values)
    AMEND_REFUSED = "AMEND_REFUSED"        # the venue refused it, or never received it: the order is as it was
    TRIGGERED = "TRIGGERED"                # a conditional order's stop was reached: it now works as MARKET/LIMIT


KIND_FOR_STATUS: dict[str, str] = {
    Status.NEW: EventKind.ACCEPTED,
    Status.PARTIALLY_FILLED: EventKind.PARTIALLY_FILLED,
    Status.FILLED: EventKind.FILLED,
    Status.CANCELLED: EventKind.CANCELLED,
    Status.REJECTED: EventKind.REJECTED,
    Status.EXPIRED: EventKind.EXPIRED,
}


class IllegalTransition(FailedPrecondition):
    """A move the state machine forbids; the order is left as it was."""


@dataclass(frozen=True)
class Decision:
    outcome: str  # "apply" | "stale" | "duplicate"
    to_status: str
    filled_quantity: Decimal
    kind: str
    why: str = ""

    @property
    def applies(self) -> bool:
        return self.outcome == "apply"


def is_terminal(status: str) -> bool:
    return status in TERMINAL_STATUSES


def is_open(status: str) -> bool:
    return status in OPEN_STATUSES


def working_status(filled: Decimal) -> str:
    """NEW and PARTIALLY_FILLED differ only by the filled quantity: a working order that has filled anything is
    PARTIALLY_FILLED. The one rule, for venue reports, sweeps and reconciliation."""
    return Status.PARTIALLY_FILLED if filled > 0 else Status.NEW


def settles_on_arrival(*, order_type: str, time_in_force: str) -> bool:
    """A MARKET, IOC or FOK order is filled or expired by the venue in the request that places it: NEW is only a
    step on the way, as is PARTIALLY_FILLED (the user-data stream may report them before the request's own answer)."""
    return order_type == "MARKET" or time_in_force in ("IOC", "FOK")


def is_pending(status: str) -> bool:
    return status in PENDING_STATUSES


def lookup_gate(*, submitted_at: datetime | None, created_at: datetime) -> datetime:
    """Before this moment an order request we sent may still reach the venue, so "not found" by client order id
    proves nothing yet. The request is signed after the claim, once the shared rate limiter lets it go (at most
    OMS_RATE_LIMIT_MAX_WAIT_SECONDS later), and the venue accepts it until recvWindow after that signature; the
    grace covers clock skew and the way to the venue. (The worker decides by it; the admin tells operators.)"""
    sent = submitted_at or created_at
    return sent + timedelta(milliseconds=settings.OMS_RECV_WINDOW_MS,
                            seconds=settings.OMS_RATE_LIMIT_MAX_WAIT_SECONDS + settings.OMS_UNKNOWN_GRACE_SECONDS)


def _working_status(filled: Decimal, quantity: Decimal) -> str:
    """A working order that has filled its quantity is FILLED; otherwise working_status."""
    if filled >= quantity:
        return Status.FILLED
    return working_status(filled)


def _report_target(report_status: str, report_filled: Decimal, quantity: Decimal) -> str:
    if report_status in (Status.NEW, Status.PARTIALLY_FILLED):
        return _working_status(report_filled, quantity)
    if report_status == Status.FILLED and report_filled != quantity:
        raise InvalidInput(f"a FILLED report must fill the whole quantity {quantity}, not {report_filled}",
                           field="filled_quantity")
    return report_status


def decide(*, status: str, quantity: Decimal, filled_quantity: Decimal, report_status: str,
           report_filled: Decimal | None = None, new_facts: bool = False) -> Decision:
    """What a venue report (status + cumulative filled quantity) does to an order in `status`.

    `new_facts` says the report carries something else we did not know (e.g. the exchange order id),
    which turns a same-status duplicate into an UPDATED event.
    """
    if report_status not in VENUE_STATUSES:
        raise InvalidInput(f"venue status must be one of {', '.join(VENUE_STATUSES)}, not {report_status!r}",
                           field="status")
    if report_filled is None:
        report_filled = quantity if report_status == Status.FILLED else filled_quantity
    if not report_filled.is_finite() or report_filled < 0:
        raise InvalidInput(f"filled quantity must be a finite number >= 0, not {report_filled}", field="filled_quantity")
    if report_filled > quantity:
        raise IllegalTransition(f"filled quantity {report_filled} exceeds the order quantity {quantity}",
                                field="filled_quantity")
    if report_filled < filled_quantity:
        return Decision("stale", status, filled_quantity, EventKind.STALE_IGNORED,
                        f"report fills {report_filled}, we already know {filled_quantity}")
    target = _report_target(report_status, report_filled, quantity)

    if target == status:
        if report_filled == filled_quantity and not new_facts:
            return Decision("duplicate", status, filled_quantity, "")
        kind = EventKind.UPDATED if is_terminal(status) or target == Status.NEW else KIND_FOR_STATUS[target]
        return Decision("apply", target, report_filled, kind)
    if target in TRANSITIONS[status]:
        kind = EventKind.CANCEL_REFUSED if status == Status.PENDING_CANCEL and not is_terminal(target) else KIND_FOR_STATUS[target]
        return Decision("apply", target, report_filled, kind)
    if RANK[target] < RANK[status] and report_filled == filled_quantity:
        return Decision("stale", status, filled_quantity, EventKind.STALE_IGNORED,
                        f"report says {target}, the order is already {status}")
    # A report behind us that fills more than we know is news, not history: a closed order filling.
    # A report behind us that fills more than we know is news, not history: a closed order filling.
    raise IllegalTransition(f"order is {status}{' (terminal)' if is_terminal(status) else ''}; "
                            f"a move to {target} is not allowed", field="status")


def request_cancel(status: str) -> bool:
    """Whether a cancel request moves the order to PENDING_CANCEL (False: already pending, nothing to do).

    Raises IllegalTransition when the order can no longer be cancelled."""
    if status == Status.PENDING_CANCEL:
        return False
    if status not in CANCELLABLE_STATUSES:
        raise IllegalTransition(f"order is {status}; only {', '.join(CANCELLABLE_STATUSES)} orders can be cancelled",
                                field="order_id")
    return True


def fill_status(*, status: str, quantity: Decimal, filled_quantity: Decimal) -> str:
    """The status after recorded trades bring the filled quantity to `filled_quantity`.

    Working orders follow the quantity; PENDING_CANCEL stays pending until fully filled; a closed order
    keeps its status (trades of a cancelled order may arrive after the cancel report)."""
    if is_terminal(status):
        return status
    if status == Status.PENDING_CANCEL and filled_quantity < quantity:
        return status
    return _working_status(filled_quantity, quantity)
