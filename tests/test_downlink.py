"""The level each point gets from what its receiver reports: down within two reports of
trouble, up only by a trial after a calm spell, longer waits after failed trials."""

from __future__ import annotations

from server.conference.downlink import (
    AFTER_TROUBLE_S,
    CALM_S,
    HD,
    SD,
    SLIDES,
    SOUND_TWICE_LOSS,
    SOUND_TWICE_S,
    TRIAL_S,
    Downlink,
    Report,
)


def feed(line: Downlink, start: float, seconds: float, **report: float) -> list[tuple[float, str]]:
    """One report a second; the changes with their times."""
    changes = []
    for tick in range(int(seconds)):
        at = start + tick
        changed = line.report(Report(at=at, **report))  # type: ignore[arg-type]
        if changed:
            changes.append((at, changed))
    return changes


def test_a_good_line_gets_hd_after_a_calm_spell_and_keeps_it():
    line = Downlink(now=0.0)
    assert feed(line, 0, CALM_S, lost=0.0, estimate_bps=3_000_000) == []
    assert feed(line, CALM_S, 60, lost=0.0, estimate_bps=3_000_000) == [(CALM_S, HD)]


def test_one_bad_report_moves_nothing_two_step_down():
    line = Downlink(now=0.0, level=HD)
    assert line.report(Report(at=1, lost=0.08)) is None
    assert line.report(Report(at=2, lost=0.0)) is None
    assert line.report(Report(at=3, lost=0.08)) is None
    assert line.report(Report(at=4, lost=0.08)) == SD


def test_heavy_loss_goes_straight_to_slides_and_a_falling_estimate_to_what_fits():
    line = Downlink(now=0.0, level=HD)
    assert feed(line, 1, 1, lost=0.2) == [(1, SLIDES)]  # one report is enough
    line = Downlink(now=0.0, level=HD)
    assert line.report(Report(at=1, lost=0.0, estimate_bps=2_400_000)) is None
    assert line.report(Report(at=2, lost=0.0, estimate_bps=900_000)) is None
    assert line.report(Report(at=3, lost=0.0, estimate_bps=850_000)) == SD
    line = Downlink(now=0.0, level=HD)
    falling = [2_400_000, 800_000, 300_000]
    assert [line.report(Report(at=i, lost=0.0, estimate_bps=e)) for i, e in enumerate(falling)][
        -1
    ] == SLIDES
    line = Downlink(now=0.0, level=SD)
    assert feed(line, 1, 2, lost=0.0, rtt_s=1.2) == [(2, SLIDES)]


def test_a_low_estimate_that_climbs_is_a_line_catching_up_and_slides_ignore_it():
    line = Downlink(now=0.0, level=HD)
    climbing = [900_000, 1_000_000, 1_100_000, 1_200_000]
    assert [
        line.report(Report(at=i, lost=0.0, estimate_bps=e)) for i, e in enumerate(climbing)
    ] == [None] * 4
    line = Downlink(now=0.0, level=SLIDES)  # little is sent, so the estimate is low and falls
    estimates = [90_000, 30_000, 8_000, 5_000, 20_000, 6_000, 5_000, 4_000, 3_000, 2_000]
    changes = [line.report(Report(at=i, lost=0.0, estimate_bps=e)) for i, e in enumerate(estimates)]
    assert changes[int(CALM_S)] == SD  # up after the calm spell all the same


def test_a_trial_that_fails_goes_back_at_once_and_the_next_waits_twice_as_long():
    line = Downlink(now=0.0, level=SLIDES)
    assert feed(line, 0, CALM_S + 1, lost=0.0) == [(CALM_S, SD)]
    assert line.report(Report(at=CALM_S + 2, lost=0.1)) == SLIDES  # the trial failed
    again = feed(line, CALM_S + 3, 3 * CALM_S, lost=0.0)
    assert again[0] == (CALM_S + 2 + 2 * CALM_S, SD)


def test_a_line_that_recovers_climbs_back_to_hd_one_level_at_a_time():
    line = Downlink(now=0.0, level=HD)
    changes = feed(line, 0, 10, lost=0.2)  # the impairment
    assert changes == [(0, SLIDES)]
    changes = feed(line, 10, 40, lost=0.0, estimate_bps=None)  # lifted
    assert [level for _, level in changes] == [SD, HD]
    (sd_at, _), (hd_at, _) = changes
    # the first try waits longer after trouble than after a join; the next one as usual
    assert sd_at - 9 == AFTER_TROUBLE_S and hd_at - sd_at == CALM_S


def test_a_point_capped_to_slides_never_climbs_above():
    line = Downlink(now=0.0, level=HD)
    assert line.cap(SLIDES) == SLIDES
    assert feed(line, 0, 60, lost=0.0) == []
    assert line.cap(HD) is None
    assert feed(line, 60, CALM_S + 1, lost=0.0) == [(60, SD), (60 + CALM_S, HD)]


def test_a_trial_is_judged_by_loss_not_by_the_estimate_still_catching_up():
    line = Downlink(now=0.0, level=SD)
    assert feed(line, 0, CALM_S + 1, lost=0.0, estimate_bps=900_000) == [(CALM_S, HD)]
    # the receiver's estimate lags behind HD's rate for the trial; the level holds
    assert feed(line, CALM_S + 1, TRIAL_S - 1, lost=0.0, estimate_bps=1_100_000) == []
    # once it has reached HD's rate, falling far under it steps down to what fits
    assert feed(line, CALM_S + TRIAL_S, 1, lost=0.0, estimate_bps=2_400_000) == []
    after = feed(line, CALM_S + TRIAL_S + 1, 2, lost=0.0, estimate_bps=1_000_000)
    assert after == [(CALM_S + TRIAL_S + 2, SD)]


def test_an_estimate_still_catching_up_after_a_level_up_neither_fails_it_nor_picks_the_level():
    line = Downlink(now=0.0, level=SLIDES)
    low = [20_000, 6_000, 5_000, 8_000, 4_000, 9_000, 5_000, 6_000, 7_000]
    changes = [line.report(Report(at=i, lost=0.0, estimate_bps=e)) for i, e in enumerate(low)]
    assert changes[int(CALM_S)] == SD
    # on SD the estimate starts far under SD's rate and wobbles as it climbs: the level holds
    wobbly = [9_000, 6_000, 12_000, 10_000, 15_000, 13_000, 20_000]  # before the next calm spell
    at = CALM_S + 1
    assert [
        line.report(Report(at=at + i, lost=0.0, estimate_bps=e)) for i, e in enumerate(wobbly)
    ] == [None] * len(wobbly)
    # loss on a line whose estimate never caught up steps one level down, not by the estimate
    line = Downlink(now=0.0, level=HD)
    assert feed(line, 1, 2, lost=0.08, estimate_bps=30_000) == [(2, SD)]


def test_sound_goes_twice_from_the_first_loss_until_the_line_has_been_clean_a_while():
    line = Downlink(now=0.0)
    feed(line, 0, 20, lost=0.0)
    assert not line.sound_twice(20.0)
    feed(line, 20, 1, lost=SOUND_TWICE_LOSS / 2)  # a stray lost packet is no lossy line
    assert not line.sound_twice(21.0)
    assert feed(line, 21, 1, lost=SOUND_TWICE_LOSS) == []  # before any level changes
    assert line.sound_twice(21.0) and line.level == HD
    feed(line, 22, 10, lost=0.0)
    assert line.sound_twice(21 + SOUND_TWICE_S - 0.1)
    assert not line.sound_twice(21 + SOUND_TWICE_S)
