"""In a real browser: the secretary's meeting page says the journal's chain holds; after a
named vote a delegate reads their own recorded choice; after a secret vote everyone reads
that the ballots equal the voters who cast."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.test_browser_votes import cast, open_live, signed_in

pytestmark = pytest.mark.browser


def run_vote(chair, title: str, secret: bool = False) -> None:  # type: ignore[no-untyped-def]
    form = chair.locator("#vote-form")
    form.locator("[name=title]").fill(title)
    if secret:
        form.locator("[name=secret]").check()
    chair.locator("#vote-create").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "draft")
    chair.locator("#vote-open").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "open")


def close_vote(chair) -> None:  # type: ignore[no-untyped-def]
    chair.locator("#vote-close").click()
    chair.locator("#vote-close-confirm").click()
    expect(chair.locator("#vote-current")).to_have_attribute("data-status", "closed")


def test_a_voter_reads_their_own_choice_and_a_secret_vote_its_counts(
    browser, live_server, tmp_path
):
    chair_context, chair = signed_in(browser, live_server, "chutoa")
    open_live(chair, "/meetings/1")
    first_context, first = signed_in(browser, live_server, "daibieu01")
    open_live(first, "/meetings/1/read")
    second_context, second = signed_in(browser, live_server, "daibieu02")
    open_live(second, "/meetings/1/read")

    run_vote(chair, "Thông qua chương trình kỳ họp")
    cast(first, "yes", "Tán thành")
    cast(second, "no", "Không tán thành")
    close_vote(chair)
    mine = first.locator("#ballot .vote-mine")
    expect(mine).to_have_text("Biểu quyết của bạn đã được ghi: Tán thành")
    expect(second.locator("#ballot .vote-mine")).to_have_text(
        "Biểu quyết của bạn đã được ghi: Không tán thành"
    )
    expect(chair.locator("#vote-current .vote-mine")).to_have_count(0)  # the chair did not vote
    first.set_viewport_size({"width": 1024, "height": 768})
    first.screenshot(path=tmp_path / "named-1024.png")
    first.locator("#ballot .ballot-dismiss").click()
    second.locator("#ballot .ballot-dismiss").click()

    chair.reload()
    expect(chair.locator("html")).to_have_attribute("data-live", "online")
    run_vote(chair, "Bầu Trưởng ban Kinh tế - Ngân sách", secret=True)
    cast(first, "yes", "Tán thành")
    cast(second, "yes", "Tán thành")
    close_vote(chair)
    counts = first.locator("#ballot .vote-ballots")
    expect(counts).to_have_text("2 phiếu = 2 người đã bỏ phiếu")
    expect(first.locator("#ballot .vote-mine")).to_have_count(0)  # a secret vote keeps none
    first.set_viewport_size({"width": 800, "height": 1280})
    first.screenshot(path=tmp_path / "secret-800.png")

    secretary_context, secretary = signed_in(browser, live_server, "thuky")
    secretary.goto(live_server.url + "/meetings/1")
    line = secretary.locator(".journal-chain")
    expect(line).to_have_attribute("data-holds", "1")
    expect(line).to_have_text(
        re.compile(r"✓ Chuỗi nhật ký nguyên vẹn: \d+ sự kiện, đầu chuỗi [0-9a-f]{16}")
    )
    secretary.set_viewport_size({"width": 1024, "height": 768})
    secretary.screenshot(path=tmp_path / "meeting-1024.png")
    secretary.set_viewport_size({"width": 800, "height": 1280})
    secretary.screenshot(path=tmp_path / "meeting-800.png")
    for context in (chair_context, first_context, second_context, secretary_context):
        context.close()
