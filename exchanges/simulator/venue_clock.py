"""Venue time: the clock that schedules funding (and ages history), apart from the wire clock. The wire clock
(`Venue.now()`: wall time plus the `clock_skew_ms` fault) stamps requests, answers, orders, trades and income rows,
so clients' timestamps and recvWindow keep working whatever venue time does. Venue time starts equal to wall time
and runs `speed` times as fast (`POST /_venue/clock {"speed": …}`) or jumps forward (`{"advance_ms": …}`), so a
test sees an 8-hour funding interval pass in a second.

A minimal version, interface-compatible with the one of the venue-strictness work (`now_ms`, `set_speed`,
`advance`, `describe`), so the two fold into one."""
import time

MAX_SPEED = 10_000_000.0


def wall_ms() -> int:
    return int(time.time() * 1000)


class VenueClock:
    def __init__(self) -> None:
        start = wall_ms()
        self._wall0, self._venue0, self._speed = start, float(start), 1.0

    @property
    def speed(self) -> float:
        return self._speed

    def now_ms(self) -> int:
        """Venue time now, in ms since the epoch."""
        return int(self._venue0 + (wall_ms() - self._wall0) * self._speed)

    def set_speed(self, speed: float) -> None:
        """From now on venue time runs `speed` times as fast as wall time (1 = real time); it never jumps back."""
        if not 0 < speed <= MAX_SPEED:
            raise ValueError(f"speed must be above 0 and at most {MAX_SPEED:g}")
        self._venue0, self._wall0, self._speed = float(self.now_ms()), wall_ms(), float(speed)

    def advance(self, ms: int) -> None:
        """Venue time jumps `ms` forward now (never back)."""
        if ms < 0:
            raise ValueError("advance_ms must not be negative")
        self._venue0, self._wall0 = float(self.now_ms() + ms), wall_ms()

    def describe(self) -> dict:
        now = wall_ms()
        venue = self.now_ms()
        return {"venue_ms": venue, "wall_ms": now, "speed": self._speed, "ahead_ms": venue - now}
