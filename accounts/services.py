"""Writes to accounts and trading controls. Each records a ControlChange: who, when, what changed.

Secrets never enter a ControlChange, a log line or an exception message (only the key's last characters)."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from accounts.models import (
    TRADING_STATE_STRICTNESS,
    Account,
    AccountMember,
    ApiToken,
    ControlChange,
    Credential,
    RiskLimit,
    TradingState,
    TradingSwitch,
)
from accounts.selectors import account_get
from infra.errors import Conflict, FailedPrecondition, InvalidInput, NotFound, PermissionDenied, echo
from venues.symbols import symbol_normalize

TOKEN_PREFIX = "oms_"
RISK_LIMIT_FIELDS = ("max_order_notional", "max_open_orders", "max_position_notional", "allowed_symbols", "price_band_pct",
                     "max_daily_loss")


def _actor(user):
    return user if user is not None and user.pk else None


def _change(*, what: str, user=None, account: Account | None = None, before: dict | None = None,
            after: dict | None = None) -> ControlChange:
    return ControlChange.objects.create(what=what, user=_actor(user), account=account, before=before or {},
                                        after=after or {})


def account_create(*, name: str, exchange: str, sandbox: bool = False, base_url: str = "", user=None) -> Account:
    from venues.supported import base_url_check, exchange_check

    name = (name or "").strip()
    if not name:
        raise InvalidInput("account name is required", field="name")
    exchange = exchange_check(exchange)
    base_url = base_url_check(base_url)
    account = Account(name=name, exchange=exchange, sandbox=sandbox, base_url=base_url or "")
    try:
        account.full_clean(validate_unique=False)  # uniqueness is the constraint's job, below
    except ValidationError as exc:  # report the first field at fault
        field, messages = next(iter(exc.message_dict.items()))
        raise InvalidInput(" ".join(messages), field=field) from None
    try:
        with transaction.atomic():
            account.save(force_insert=True)
            _change(what="account_create", user=user, account=account,
                    after={"name": name, "exchange": exchange, "sandbox": sandbox, "base_url": base_url})
    except IntegrityError:
        raise Conflict(f"an account named {echo(name)} already exists", field="name") from None
    return account


VENUE_PERMISSION = "accounts.change_account_venue"
_UNSET = object()


@transaction.atomic
def account_set_venue(*, account: str, base_url=_UNSET, sandbox=_UNSET, user=None) -> Account:
    """Point the account at another API host (e.g. the local venue on a new port) and/or switch its sandbox flag.

    Where an account's signed requests (its API key) go is a privileged change: a person (`user`, the admin's
    logged-in user) needs the permission `accounts.change_account_venue`; None is the operator at the shell.
    Recorded with before and after."""
    from venues.supported import base_url_check

    changes: dict = {}
    if base_url is not _UNSET:
        changes["base_url"] = base_url_check(base_url)
    if sandbox is not _UNSET:
        if not isinstance(sandbox, bool):
            raise InvalidInput(f"sandbox must be true or false, not {echo(sandbox)}", field="sandbox")
        changes["sandbox"] = sandbox
    if not changes:
        raise InvalidInput("nothing to change: give base_url and/or sandbox", field="base_url")
    if user is not None and not user.has_perm(VENUE_PERMISSION):
        raise PermissionDenied("changing an account's venue URL or sandbox flag needs the permission "
                               "'Can change an account's venue URL and sandbox flag'", field=next(iter(changes)))
    acct = Account.objects.select_for_update().get(pk=account_get(account).pk)
    before = {f: getattr(acct, f) for f in changes}
    if before == changes:
        return acct
    for field, value in changes.items():
        setattr(acct, field, value)
    acct.save(update_fields=[*changes, "updated_at"])
    _change(what="account_set_venue", user=user, account=acct, before=before, after=changes)
    return acct


SECRET_MAX_CHARS = 1000


def _secret_check(field: str, value, *, spaces: bool = False) -> None:
    """Never echoes the value: says only what is wrong with it."""
    if not isinstance(value, str):
        raise InvalidInput(f"{field} must be text", field=field)
    if len(value) > SECRET_MAX_CHARS:
        raise InvalidInput(f"{field} is longer than {SECRET_MAX_CHARS} characters", field=field)
    if not value.isprintable() or (not spaces and any(c.isspace() for c in value)):
        raise InvalidInput(f"{field} holds a space, NUL or control character (or bytes that were not UTF-8)", field=field)


@transaction.atomic
def credential_set(*, account: str, api_key: str, secret: str, passphrase: str = "", user=None) -> Credential:
    if not api_key or not secret:
        raise InvalidInput("api_key and secret are both required", field="api_key" if not api_key else "secret")
    _secret_check("api_key", api_key)
    _secret_check("secret", secret)
    if passphrase:
        _secret_check("passphrase", passphrase, spaces=True)
    if not settings.OMS_FERNET_KEYS:
        raise FailedPrecondition("this process holds no OMS_FERNET_KEYS (in docker-compose.yml only the workers do): "
                                 "set credentials where the workers run, e.g. docker compose exec -T worker-sync "
                                 "python manage.py set_credentials ACCOUNT", field="secret")
    acct = account_get(account)
    cred = Credential.objects.filter(account=acct).first() or Credential(account=acct)
    before = {"key_hint": cred.key_hint} if cred.pk else {}
    cred.set_secrets(api_key=api_key, secret=secret, passphrase=passphrase)
    cred.save()
    _change(what="credential_set", user=user, account=acct, before=before, after={"key_hint": cred.key_hint})
    return cred


@transaction.atomic
def account_set_enabled(*, account: str, enabled: bool, reason: str = "", user=None) -> Account:
    acct = Account.objects.select_for_update().get(pk=account_get(account).pk)
    before = {"enabled": acct.enabled, "disabled_reason": acct.disabled_reason}
    acct.enabled = bool(enabled)
    acct.disabled_reason = "" if enabled else reason
    acct.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    _change(what="account_set_enabled", user=user, account=acct, before=before,
            after={"enabled": acct.enabled, "disabled_reason": acct.disabled_reason})
    return acct


@transaction.atomic
def member_add(*, account: str, user, role: str = AccountMember.Role.TRADER, by=None) -> AccountMember:
    if role not in AccountMember.Role.values:
        raise InvalidInput(f"role must be one of {', '.join(AccountMember.Role.values)}, not {echo(role)}", field="role")
    acct = account_get(account)
    before = AccountMember.objects.filter(user=user, account=acct).values_list("role", flat=True).first()
    member, _ = AccountMember.objects.update_or_create(user=user, account=acct, defaults={"role": role})
    _change(what="member_add", user=by, account=acct, before={"user": user.get_username(), "role": before} if before else {},
            after={"user": user.get_username(), "role": role})
    return member


@transaction.atomic
def member_remove(*, account: str, user, by=None) -> bool:
    """End `user`'s membership of the account (recorded); False when there was none."""
    acct = account_get(account)
    member = AccountMember.objects.select_for_update().filter(user=user, account=acct).first()
    if member is None:
        return False
    member.delete()
    _change(what="member_remove", user=by, account=acct, before={"user": user.get_username(), "role": member.role})
    return True


def username_check(username) -> str:
    """A user name as the user model's own field accepts it (length, characters), else InvalidInput naming username."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    field = cast(models.Field, model._meta.get_field(model.USERNAME_FIELD))  # a concrete column
    if not isinstance(username, str) or not username.strip():
        raise InvalidInput("a user name is required", field="username")
    try:
        return field.clean(username, None)
    except ValidationError as exc:
        raise InvalidInput(f"{echo(username)}: {' '.join(exc.messages)}", field="username") from None


@transaction.atomic
def user_create(*, username: str, by=None):
    """A user without a password (who signs in with API tokens only); recorded."""
    from django.contrib.auth import get_user_model

    username = username_check(username)
    model = get_user_model()
    if model.objects.filter(**{model.USERNAME_FIELD: username}).exists():
        raise Conflict(f"a user named {echo(username)} already exists", field="username")
    user = model.objects.create_user(**{model.USERNAME_FIELD: username})
    _change(what="user_create", user=by, after={"user": username})
    return user


TOKEN_NAME_MAX = cast(int, ApiToken._meta.get_field("name").max_length)  # a CharField's


def _token_name_check(name) -> str:
    name = (name or "").strip() if isinstance(name, str) else None
    if name is None:
        raise InvalidInput("the token's name must be text", field="name")
    if len(name) > TOKEN_NAME_MAX:
        raise InvalidInput(f"the token's name is at most {TOKEN_NAME_MAX} characters, not {len(name)}", field="name")
    if not name.isprintable():
        raise InvalidInput(f"the token's name {echo(name)} holds a control character", field="name")
    return name


ISSUE_FOR_OTHERS = "accounts.issue_token_for_others"


TOKEN_LIFETIME_MAX = timedelta(days=3650)


def api_token_create(*, user, name: str = "", by=None, expires_at: datetime | None = None) -> str:
    """A new bearer token for `user`, valid until `expires_at` (None: until revoked). Only its digest is stored:
    the returned plaintext is shown once.

    `by` is who asks (the admin's logged-in user); None is the operator at the shell (`create_api_token`).
    A person may create tokens for themselves; for anyone else they need the permission
    `accounts.issue_token_for_others`, and for a superuser they must be a superuser. The audit row names `by`."""
    name = _token_name_check(name)
    if expires_at is not None:
        now = timezone.now()
        if timezone.is_naive(expires_at):
            raise InvalidInput("the expiry needs a time zone", field="expires_at")
        if not now < expires_at <= now + TOKEN_LIFETIME_MAX:
            raise InvalidInput(f"the expiry must be in the future and at most {TOKEN_LIFETIME_MAX.days} days away",
                               field="expires_at")
    if by is not None:
        _token_issue_check(by=by, owner=user)
    with transaction.atomic():
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        ApiToken.objects.create(user=user, name=name, digest=ApiToken.digest_of(token), prefix=token[:10],
                                expires_at=expires_at)
        _change(what="api_token_create", user=by,
                after={"user": user.get_username(), "name": name, "prefix": token[:10],
                       "expires_at": expires_at.isoformat() if expires_at else None})
    return token


def _token_issue_check(*, by, owner) -> None:
    if not (by.is_active and by.pk):
        raise PermissionDenied("only an active user may create API tokens", field="user")
    if owner.pk == by.pk:
        return
    if not by.has_perm(ISSUE_FOR_OTHERS):
        raise PermissionDenied(f"you may create API tokens only for yourself ({echo(by.get_username())}); a token "
                               f"for {echo(owner.get_username())} needs the permission 'Can create API tokens for "
                               f"other users'", field="user")
    if owner.is_superuser and not by.is_superuser:
        raise PermissionDenied("only a superuser may create a token for a superuser", field="user")


@transaction.atomic
def api_token_revoke(*, token_id: int, user=None) -> ApiToken:
    token = ApiToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None:
        raise NotFound(f"API token {token_id} not found", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _change(what="api_token_revoke", user=user, after={"token": token.prefix, "owner": token.user.get_username()})
    return token


def _limit_value(field: str, value):
    if value in (None, ""):
        return [] if field == "allowed_symbols" else None
    if field == "allowed_symbols":
        if isinstance(value, str):
            value = value.split(",")
        # The spelling orders carry (BTC/USDT:USDT is the futures BTCUSDT), or the entry would never match one.
        return sorted({symbol_normalize(s) for s in value if s and s.strip()})
    if field == "max_open_orders":
        if isinstance(value, bool) or int(value) != value or int(value) < 0:
            raise InvalidInput(f"max_open_orders must be a whole number >= 0, not {echo(value)}", field=field)
        return int(value)
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"{field} must be a number, not {echo(value)}", field=field) from None
    if not number.is_finite() or number < 0:
        raise InvalidInput(f"{field} must be a finite number >= 0, not {echo(value, quote=False)}", field=field)
    if field == "max_daily_loss" and number == 0:  # a loss of nothing would stop the account at its first fee
        raise InvalidInput("max_daily_loss must be a positive number (a loss in quote), not 0", field=field)
    return number


@transaction.atomic
def risk_limit_update(*, account: str, user=None, **fields) -> RiskLimit:
    """Set some of the account's risk limits; None (or "") removes a limit."""
    unknown = sorted(set(fields) - set(RISK_LIMIT_FIELDS))
    if unknown:
        raise InvalidInput(f"unknown risk limit {', '.join(unknown)}; known: {', '.join(RISK_LIMIT_FIELDS)}",
                           field=unknown[0])
    acct = account_get(account)
    limit, _ = RiskLimit.objects.select_for_update().get_or_create(account=acct)
    before = {f: getattr(limit, f) for f in fields}
    for field, value in fields.items():
        setattr(limit, field, _limit_value(field, value))
    limit.updated_by = _actor(user)
    limit.save()
    _change(what="risk_limit_update", user=user, account=acct, before=_jsonable(before),
            after=_jsonable({f: getattr(limit, f) for f in fields}))
    return limit


def _jsonable(values: dict) -> dict:
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in values.items()}


@transaction.atomic
def kill_switch_set(*, on: bool, reason: str = "", user=None) -> TradingSwitch:
    """Halt (or resume) all new trading. Cancelling open orders is `orders.services.order_cancel_all`."""
    TradingSwitch.objects.get_or_create(pk=1)
    switch = TradingSwitch.objects.select_for_update().get(pk=1)
    before = {"kill_switch": switch.kill_switch, "reason": switch.reason}
    switch.kill_switch, switch.reason, switch.updated_by = bool(on), reason, _actor(user)
    switch.save()
    _change(what="kill_switch_set", user=user, before=before, after={"kill_switch": switch.kill_switch, "reason": reason})
    return switch


TRADING_STATE_PERMISSION = "accounts.set_trading_state"
REASON_MAX_CHARS = 1000


def _trading_state_clean(state, reason) -> tuple[TradingState, str]:
    value = state.strip().upper() if isinstance(state, str) else state
    if value not in TradingState.values:
        raise InvalidInput(f"state must be one of {', '.join(TradingState.values)}, not {echo(state)}", field="state")
    if not isinstance(reason, str):
        raise InvalidInput("reason must be text", field="reason")
    reason = reason.strip()
    if value != TradingState.ACTIVE and not reason:
        raise InvalidInput(f"a reason is required to move to {value} (it is recorded and shown with the refusals)",
                           field="reason")
    if len(reason) > REASON_MAX_CHARS or not reason.isprintable():
        raise InvalidInput(f"reason must be printable text of at most {REASON_MAX_CHARS} characters", field="reason")
    return TradingState(value), reason


@transaction.atomic
def trading_state_set(*, state: str, account: str = "", reason: str = "", user=None,
                      tighten_only: bool = False) -> Account | TradingSwitch:
    """Set an account's trading state (`account`), or the global one (no account): ACTIVE, REDUCING (only orders
    that reduce a position or holding) or HALTED (no new orders). Cancels are never affected. Recorded with before
    and after (nothing is recorded when nothing changes).

    `user` is the person acting (admin, REST) and needs the permission `accounts.set_trading_state`; None is the
    system or the operator at the shell. `tighten_only` (automatic moves, e.g. the daily-loss limit) changes
    nothing unless the new state is stricter than the current one, so nothing automatic ever loosens a state."""
    new, reason = _trading_state_clean(state, reason)
    if user is not None and not user.has_perm(TRADING_STATE_PERMISSION):
        raise PermissionDenied("setting a trading state needs the permission 'Can set trading states'", field="state")
    row: Account | TradingSwitch
    if account:
        row = Account.objects.select_for_update().get(pk=account_get(account).pk)
    else:
        TradingSwitch.objects.get_or_create(pk=1)
        row = TradingSwitch.objects.select_for_update().get(pk=1)
    before = {"state": row.trading_state, "reason": row.trading_state_reason}
    if tighten_only and TRADING_STATE_STRICTNESS[new] <= TRADING_STATE_STRICTNESS[TradingState(row.trading_state)]:
        return row
    if before == {"state": new.value, "reason": reason}:
        return row
    row.trading_state, row.trading_state_reason, row.trading_state_at = new.value, reason, timezone.now()
    row.save(update_fields=["trading_state", "trading_state_reason", "trading_state_at"])
    _change(what="trading_state_set", user=user, account=row if isinstance(row, Account) else None, before=before,
            after={"state": new.value, "reason": reason})  # no account: the global state
    return row
