"""What a point's line can carry, from what its receiver tells the bridge, and which of the
program's levels it should get: HD, the 640x360 picture, or sound with the presented page as
still pictures ("slides").

Every second or so a point's browser reports loss and round trip (RTCP receiver reports) and
its own estimate of the bitrate it can take (REMB). Trouble steps the point down within two
reports, to the level that fits; a report of heavy loss (`VERY_LOSSY`) goes to slides at once,
as the sound suffers already. Trouble is loss, a slow round trip, or an estimate that has
reached what the level sends and fallen back well under it: an estimate climbs only a few
percent a second towards what the point gets, so until it has reached the level it says
nothing. Going up is tried, not guessed: estimates stay near what a point gets, so a point on
slides could never show it can carry video. After a calm spell (`CALM_S`; `AFTER_TROUBLE_S`
after stepping down) the point gets the next level up; if trouble comes within `TRIAL_S`, it
goes back and waits twice as long before the next try.
"""

from __future__ import annotations

from dataclasses import dataclass

SLIDES, SD, HD = "slides", "sd", "hd"
LEVELS = (SLIDES, SD, HD)  # from the least to the most a line must carry
PICTURE_BPS = {SLIDES: 120_000, SD: 500_000, HD: 1_500_000}  # what the program's encoders aim at
SOUND_BPS = 60_000  # the mix with its packets' overhead
SENDS_BPS = {level: bps + SOUND_BPS for level, bps in PICTURE_BPS.items()}
NEEDS_BPS = {SLIDES: 0, SD: 700_000, HD: 2_000_000}  # and headroom
BEHIND = 0.8  # an estimate this far under what is sent says the line cannot carry it
LOSSY = 0.05  # a fraction of packets lost that is trouble
VERY_LOSSY = 0.15  # trouble bad enough to go straight to what fits
SLOW_RTT_S = 0.8
TROUBLED_REPORTS = 2
CALM_S = 8.0  # good reports this long before a level up is tried
TRIAL_S = 6.0  # trouble this soon after going up: back down, wait longer
FIRST_WAIT_S, LONGEST_WAIT_S = CALM_S, 120.0
# After stepping down for trouble: a line that just failed is likely still bad, and every
# try on it costs the sound a moment, so the first try waits this long.
AFTER_TROUBLE_S = 20.0
# Sound goes first: on a line that loses packets each sound packet is also sent again a moment
# later (32 kbit/s more), from the first report of loss until this long after the last.
SOUND_TWICE_LOSS = 0.01
SOUND_TWICE_S = 30.0


@dataclass(frozen=True)
class Report:
    at: float  # monotonic seconds
    lost: float  # fraction of packets lost since the last report, 0..1
    rtt_s: float | None = None
    estimate_bps: int | None = None  # the receiver's estimate (REMB), when it sends one


class Downlink:
    """One point's line and the level it gets; `report` returns the new level on a change."""

    def __init__(self, now: float, level: str = SD, best: str = HD) -> None:
        self.level = level
        self.best = best  # the most this point may get (the bridge's program, audio-only)
        self._troubled = 0
        self._calm_since = now
        self._raised_at: float | None = None
        self._wait = FIRST_WAIT_S
        self._estimate_reached = False  # the estimate has reached what this level sends
        self._sound_twice_until = float("-inf")

    def sound_twice(self, now: float) -> bool:
        """Whether each sound packet should go twice: the line lost some lately."""
        return now < self._sound_twice_until

    def report(self, report: Report) -> str | None:
        if report.lost >= SOUND_TWICE_LOSS:
            self._sound_twice_until = report.at + SOUND_TWICE_S
        if self._trouble(report):
            return self._down(report)
        self._troubled = 0
        if self._raised_at is not None and report.at - self._raised_at >= TRIAL_S:
            self._raised_at, self._wait = None, FIRST_WAIT_S  # the last level up held
        if report.at - self._calm_since >= self._wait and self._rank(self.level) < self._rank(
            self.best
        ):
            return self._up(report.at)
        return None

    def cap(self, best: str) -> str | None:
        """The most this point may get changed; returns its new level if it had more."""
        self.best = best
        if self._rank(self.level) > self._rank(best):
            self.level = best
            return best
        return None

    def _trouble(self, report: Report) -> bool:
        if report.lost >= LOSSY or (report.rtt_s is not None and report.rtt_s >= SLOW_RTT_S):
            return True
        # A receiver's estimate climbs a few percent a second towards what it gets: until it
        # has reached what this level sends it says nothing; falling back under it, it says
        # the line cannot carry the level.
        estimate = report.estimate_bps
        if estimate is None or self.level == SLIDES:
            return False
        enough = estimate >= BEHIND * SENDS_BPS[self.level]
        self._estimate_reached |= enough
        return self._estimate_reached and not enough

    def _down(self, report: Report) -> str | None:
        self._calm_since = report.at
        self._troubled += 1
        tried = self._raised_at is not None and report.at - self._raised_at < TRIAL_S
        if tried:  # the last level up did not hold: back at once, try again later
            self._raised_at = None
            self._wait = min(self._wait * 2, LONGEST_WAIT_S)
            return self._set(LEVELS[max(0, self._rank(self.level) - 1)])
        if self.level == SLIDES:
            return None
        if report.lost >= VERY_LOSSY:  # no second report needed: the sound suffers already
            return self._stepped_down(SLIDES)
        if self._troubled < TROUBLED_REPORTS:
            return None
        fits = self._fitting(report.estimate_bps if self._estimate_reached else None)
        one_down = LEVELS[self._rank(self.level) - 1]
        return self._stepped_down(min(fits, one_down, key=self._rank))

    def _stepped_down(self, level: str) -> str | None:
        self._troubled = 0
        self._wait = max(self._wait, AFTER_TROUBLE_S)
        return self._set(level)

    def _up(self, now: float) -> str | None:
        self._calm_since, self._raised_at = now, now
        return self._set(LEVELS[self._rank(self.level) + 1])

    def _fitting(self, estimate: int | None) -> str:
        if estimate is None:
            return HD
        return max((level for level in LEVELS if NEEDS_BPS[level] <= estimate), key=self._rank)

    def _set(self, level: str) -> str | None:
        if level == self.level:
            return None
        self.level, self._estimate_reached = level, False
        return level

    @staticmethod
    def _rank(level: str) -> int:
        return LEVELS.index(level)
