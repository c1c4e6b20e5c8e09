"""Venue time: the clock that ages the venue's state (history retention, funding intervals), apart from the wire
clock. The wire clock (`Venue.now()`: wall time plus the `clock_skew_ms` fault) stamps requests, answers, orders
and trades, so clients' timestamps and recvWindow keep working whatever venue time does. Venue time starts equal
to wall time and runs `speed` times as fast (the `clock_speed` knob, `POST /_venue/clock`), or jumps forward
(`advance_ms`), so a test sees three days of retention or an 8-hour funding interval pass in a second.

Every wire timestamp maps to the venue time it happened at (`at`), also across speed changes, so "older than
three days" means three days of venue time whatever the speed was meanwhile."""
import time
from bisect import bisect_right

MAX_SPEED = 10_000_000.0


def wall_ms() -> int:
    return int(time.time() * 1000)


class VenueClock:
    def __init__(self) -> None:
        start = wall_ms()
        # Segments (wall start, venue start, speed), wall starts ascending; before the first one, venue = wall.
        self._walls: list[int] = [start]
        self._segments: list[tuple[int, float, float]] = [(start, float(start), 1.0)]

    @property
    def speed(self) -> float:
        return self._segments[-1][2]

    def at(self, wall: int) -> int:
        """The venue time (ms) at wall time `wall` (a wire timestamp without skew)."""
        n = bisect_right(self._walls, wall) - 1
        if n < 0:
            return wall
        w0, v0, speed = self._segments[n]
        return int(v0 + (wall - w0) * speed)

    def now_ms(self) -> int:
        """Venue time now, in ms since the epoch."""
        return self.at(wall_ms())

    def _begin(self, venue_start: float, speed: float) -> None:
        now = wall_ms()
        while self._walls and self._walls[-1] >= now:  # a second change within the same ms replaces the first
            self._walls.pop()
            self._segments.pop()
        self._walls.append(now)
        self._segments.append((now, venue_start, speed))

    def set_speed(self, speed: float) -> None:
        """From now on venue time runs `speed` times as fast as wall time (1 = real time); it never jumps back."""
        if not 0 < speed <= MAX_SPEED:
            raise ValueError(f"clock_speed must be above 0 and at most {MAX_SPEED:g}")
        self._begin(float(self.now_ms()), float(speed))

    def advance(self, ms: int) -> None:
        """Venue time jumps `ms` forward now (never back)."""
        if ms < 0:
            raise ValueError("advance_ms must not be negative")
        self._begin(float(self.now_ms() + ms), self.speed)

    def describe(self) -> dict:
        now = wall_ms()
        return {"venue_ms": self.at(now), "wall_ms": now, "speed": self.speed, "ahead_ms": self.at(now) - now}

    def state(self) -> dict:
        return {"ahead_ms": self.now_ms() - wall_ms()}

    def restore(self, state: dict | None) -> None:
        """Venue time continues from a snapshot at real speed: as far ahead of wall time as it was when saved."""
        ahead = int((state or {}).get("ahead_ms", 0))
        if ahead > 0:
            self._begin(float(wall_ms() + ahead), 1.0)
