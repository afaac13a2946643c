"""Prometheus figures at /metrics from a real server with real tablets, who may read them, the
Grafana dashboard's queries, and log lines that name the request, the user and the meeting."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from server import logs, metrics
from server.conference.standalone import create_bridge_app
from server.models import Meeting
from server.settings import Settings
from tests.browser import BUSY_MACHINE_MS
from tests.live import Tablet, close_all
from tests.points import Point, conference_meeting

TOKEN = "bi-mat-giam-sat-0123456789"
DASHBOARD = Path(__file__).parent.parent / "deploy" / "grafana" / "phonghop.json"


@pytest.fixture
def settings(settings):
    # loopback is not allowed here: the test's own requests stand for a stranger's address
    return replace(settings, metrics_token=TOKEN, metrics_allow=["10.9.8.0/24"])


@pytest.fixture
def council(accounts, database):
    body = accounts.body()
    meeting = Meeting(body_id=body.id, title="Kỳ họp", starts_at=datetime(2026, 12, 15, tzinfo=UTC))
    database.add(meeting)
    database.commit()
    accounts.join(accounts.user("chutoa"), meeting.id, "chair")
    accounts.join(accounts.user("daibieu01"), meeting.id, "delegate")
    return meeting.id


# --- a strict reader of Prometheus's text format (0.0.4) -------------------------------------

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"({_NAME})(?:\{{(.*)\}})? (\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def _labels(text: str) -> tuple[tuple[str, str], ...]:
    found, at = [], 0
    while at < len(text):
        match = _LABEL.match(text, at)
        assert match, f"bad labels: {text!r}"
        value = re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m[1], m[1]), match[2])
        found.append((match[1], value))
        at = match.end()
    names = [n for n, _ in found]
    assert len(names) == len(set(names)), f"a label twice: {text!r}"
    return tuple(found)


def parse(text: str) -> tuple[dict[str, str], dict[tuple[str, tuple], float]]:
    """The families' types and every sample; fails on anything the format does not allow."""
    assert text.endswith("\n")
    kinds: dict[str, str] = {}
    helped: set[str] = set()
    samples: dict[tuple[str, tuple], float] = {}
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert re.fullmatch(_NAME, name) and name not in helped, line
            helped.add(name)
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in kinds, f"two TYPE lines for {name}"
            kinds[name] = kind
        else:
            match = _SAMPLE.fullmatch(line)
            assert match, f"not a sample: {line!r}"
            name, labels, value = match[1], _labels(match[2] or ""), float(match[3])
            family = re.sub(r"_(bucket|sum|count)$", "", name)
            assert name in kinds or kinds.get(family) == "histogram", f"no TYPE before {name}"
            assert (name, labels) not in samples, f"twice: {line}"
            samples[name, labels] = value
    for (name, labels), value in samples.items():
        if name.endswith("_bucket"):
            assert labels[-1][0] == "le"
        if name.endswith("_count") and kinds.get(name[:-6]) == "histogram":
            base = name[:-6]
            buckets = sorted(
                (float(le), v)
                for (n, ls), v in samples.items()
                if n == f"{base}_bucket" and ls[:-1] == labels
                for le in [ls[-1][1]]
            )
            assert buckets[-1][0] == math.inf and buckets[-1][1] == value, base
            assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:], strict=False)), base
    return kinds, samples


def value(samples, name, **labels) -> float:
    return samples.get((name, tuple(labels.items())), 0.0)


async def scrape(url: str, **headers: str) -> tuple[dict[str, str], dict[tuple[str, tuple], float]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(
            f"{url}/metrics", headers={"authorization": f"Bearer {TOKEN}", **headers}
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(answer.text)


async def until(condition, within_s: float = BUSY_MACHINE_MS / 1000):
    """Waits for `condition()` (sync or async) to hold, checking every 20 ms."""
    async with asyncio.timeout(within_s):
        while True:
            held = condition()
            if asyncio.iscoroutine(held):
                held = await held
            if held:
                return
            await asyncio.sleep(0.02)


async def device(served, username, meeting_id):
    tablet = await (await Tablet(served, username).sign_in()).connect(meeting_id)
    assert (await tablet.request("hello", since=None))["type"] == "ack"
    return tablet


async def http(tablet, method, url, body=None):
    headers = {"X-CSRFToken": tablet.http.cookies["csrftoken"]}
    return await tablet.http.request(method, url, json=body, headers=headers)


# --- the stories -----------------------------------------------------------------------------


async def test_a_hello_an_event_and_a_ballot_show_in_the_figures(served, council):
    _, before = await scrape(served.url)
    chair = await device(served, "chutoa", council)
    delegate = await device(served, "daibieu01", council)
    vote = await http(chair, "POST", f"/api/meetings/{council}/votes", {"title": "Thông qua"})
    assert vote.status_code == 201, vote.text
    opened = await http(chair, "POST", f"/api/votes/{vote.json()['id']}/open")
    assert opened.status_code == 200, opened.text
    await delegate.until(lambda m: m.get("type") == "vote.opened")
    ack = await delegate.request("vote.cast", vote_id=vote.json()["id"], option="yes")
    assert ack["type"] == "ack", ack

    kinds, after = await scrape(served.url)

    meeting = str(council)
    assert value(after, "phonghop_sockets", meeting=meeting) == 2
    assert kinds["phonghop_sockets"] == "gauge"
    for counter in ("phonghop_events_total", "phonghop_deliveries_total"):
        assert kinds[counter] == "counter"
        assert value(after, counter) > value(before, counter)
    # vote.opened went to both tablets
    grown = value(after, "phonghop_deliveries_total") - value(before, "phonghop_deliveries_total")
    assert grown >= 2
    for name, labels in (
        ("phonghop_hello_seconds", {"kind": "snapshot"}),
        ("phonghop_snapshot_seconds", {}),
        ("phonghop_ballot_seconds", {"outcome": "stored"}),
    ):
        assert kinds[name] == "histogram"
        counted = value(after, f"{name}_count", **labels) - value(before, f"{name}_count", **labels)
        assert counted >= (2 if name != "phonghop_ballot_seconds" else 1), name
        assert value(after, f"{name}_sum", **labels) > value(before, f"{name}_sum", **labels)
    assert value(after, "phonghop_loop_lag_seconds_count") > 0
    await close_all(chair, delegate)


async def test_a_tablet_gone_leaves_the_socket_gauge(served, council):
    delegate = await device(served, "daibieu01", council)
    _, during = await scrape(served.url)
    assert value(during, "phonghop_sockets", meeting=str(council)) == 1
    await delegate.close()

    async def gone():
        _, after = await scrape(served.url)
        return value(after, "phonghop_sockets", meeting=str(council)) == 0

    await until(gone)  # the server notices the close on its own time


async def test_only_the_right_token_or_an_allowed_address_reads_the_figures(served):
    async with httpx.AsyncClient(base_url=served.url) as client:
        nothing = await client.get("/metrics")
        assert nothing.status_code == 401
        assert nothing.json()["code"] == "metrics_token_needed"
        for guess in ("Bearer doan-sai", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer đoán"):
            wrong = await client.get("/metrics", headers={"authorization": guess.encode()})
            assert wrong.status_code == 401, guess
            assert wrong.json()["code"] == "metrics_bad_token"
            assert "phonghop_" not in wrong.text
        right = await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert "# TYPE phonghop_sockets gauge" in right.text

        # no token set: the address decides
        figures = served.app.state.metrics
        served.app.state.metrics = metrics.Metrics(figures.families, "", ["10.9.8.0/24"])
        stranger = await client.get("/metrics", headers={"accept-language": "vi"})
        assert stranger.status_code == 403
        assert stranger.json()["code"] == "metrics_forbidden"
        assert "127.0.0.1" in stranger.json()["message"]
        served.app.state.metrics = metrics.Metrics(figures.families, "", ["127.0.0.0/8"])
        assert (await client.get("/metrics")).status_code == 200
        # through a proxy everyone looks like the proxy: an address is not enough
        proxied = await client.get("/metrics", headers={"x-forwarded-for": "127.0.0.1"})
        assert proxied.status_code == 403
        assert "phonghop_" not in proxied.text


def test_the_metrics_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PHONGHOP_DATA_DIR", str(tmp_path))
    assert Settings.from_env().metrics_allow == ["127.0.0.1", "::1"]
    monkeypatch.setenv("PHONGHOP_METRICS_TOKEN", TOKEN)
    monkeypatch.setenv("PHONGHOP_METRICS_ALLOW", "10.0.0.0/8, 192.168.1.7")
    settings = Settings.from_env()
    assert settings.metrics_token == TOKEN
    assert settings.metrics_allow == ["10.0.0.0/8", "192.168.1.7"]
    monkeypatch.setenv("PHONGHOP_METRICS_ALLOW", "10.0.0.0/8,mạng nội bộ")
    with pytest.raises(SystemExit, match="PHONGHOP_METRICS_ALLOW"):
        Settings.from_env()


async def test_every_figure_the_dashboard_asks_for_exists(served):
    kinds, samples = await scrape(served.url)
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    variables = [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
    asked = {
        name for query in queries + variables for name in re.findall(r"\bphonghop_[a-z_]+", query)
    }
    assert len(queries) >= 9 and asked
    for name in asked:
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in kinds or kinds.get(family) == "histogram", f"{name} is not in /metrics"
    for family in ("phonghop_sockets", "phonghop_bridge_points", "phonghop_recording"):
        assert any(family in query for query in queries), family


def test_labels_and_help_are_escaped():
    odd = metrics.Counter("phonghop_test_total", "help with \\ and\nnewline", ("who",))
    odd.of('a "quoted"\\ name\nnext').inc(2)
    lat = metrics.Histogram("phonghop_test_seconds", "h", (0.1, 1))
    for seconds in (0.05, 0.1, 0.5, 7):
        lat.observe(seconds)

    async def read():
        return [(("x",), 1.5)]

    gauge = metrics.Collected("phonghop_test_gauge", "g", read, ("k",))
    text = asyncio.run(metrics.exposition([odd, lat, gauge]))
    assert "# HELP phonghop_test_total help with \\\\ and\\nnewline" in text
    kinds, samples = parse(text)
    assert value(samples, "phonghop_test_total", who='a "quoted"\\ name\nnext') == 2
    assert value(samples, "phonghop_test_seconds_bucket", le="0.1") == 2  # le is inclusive
    assert value(samples, "phonghop_test_seconds_bucket", le="1") == 3
    assert value(samples, "phonghop_test_seconds_bucket", le="+Inf") == 4
    assert value(samples, "phonghop_test_seconds_sum") == pytest.approx(7.65)
    assert value(samples, "phonghop_test_gauge", k="x") == 1.5


async def test_log_lines_name_the_request_the_user_and_the_meeting(served, council, caplog):
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="phonghop.live")
    delegate = await device(served, "daibieu01", council)
    named = await delegate.http.get(
        f"/api/meetings/{council}", headers={"x-request-id": "hall-proxy-0001"}
    )
    assert named.status_code == 200, named.text
    assert named.headers["x-request-id"] == "hall-proxy-0001"
    odd = await delegate.http.get(f"/api/meetings/{council}", headers={"x-request-id": "x\ty"})
    assert re.fullmatch(r"[0-9a-f]{16}", odd.headers["x-request-id"])
    await delegate.close()

    def lines(predicate):
        return [r for r in caplog.records if predicate(r)]

    # the socket's last line comes once the server has seen it close
    await until(lambda: lines(lambda r: r.getMessage().startswith("socket closed")))
    access = lines(lambda r: getattr(r, "request_id", None) == "hall-proxy-0001")
    assert access, "the access line of the named request"
    assert all(r.user == "daibieu01" and r.meeting_id == council for r in access)
    user_id = access[0].user_id
    assert isinstance(user_id, int)
    assert lines(lambda r: getattr(r, "request_id", "") == odd.headers["x-request-id"])
    socket_closed = lines(lambda r: r.getMessage().startswith("socket closed"))
    assert socket_closed
    assert socket_closed[0].user_id == user_id
    assert socket_closed[0].meeting_id == council
    assert re.fullmatch(r"[0-9a-f]{16}", socket_closed[0].request_id)
    as_json = json.loads(logs.JsonFormatter().format(socket_closed[0]))
    assert as_json["user"] == "daibieu01" and as_json["meeting_id"] == council
    # outside any request nothing is made up
    quiet = logging.getLogger("phonghop.test").makeRecord("t", logging.INFO, "f", 1, "m", (), None)
    assert not hasattr(quiet, "request_id")


async def test_a_bridge_process_shows_its_own_figures_to_prometheus(settings, database):
    app = create_bridge_app(settings)
    async with AsyncTestClient(app) as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 401
        assert refused.json()["code"] == "metrics_token_needed"
        answer = await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    kinds, samples = parse(answer.text)
    assert kinds["phonghop_bridge_points"] == "gauge"
    assert kinds["phonghop_bridge_frames_received_total"] == "counter"
    assert kinds["phonghop_loop_lag_seconds"] == "histogram"
    assert "phonghop_sockets" not in kinds  # a server's figure, not the bridge's


async def test_the_bridge_figures_count_points_and_their_frames(served, accounts, database):
    meeting = conference_meeting(accounts, database, ["hall", "phuong1"])
    hall = await Point(served.url, "hall", meeting, (220, 30, 30), 440.0).join()
    ward = await Point(served.url, "phuong1", meeting, (30, 200, 40), 700.0).join()
    await asyncio.gather(hall.wait_for_colour((220, 30, 30)), ward.wait_for_colour((220, 30, 30)))
    kinds, first = await scrape(served.url)
    assert value(first, "phonghop_bridge_points", meeting=str(meeting)) == 2
    at = {
        lv: value(first, "phonghop_bridge_points_by_level", meeting=str(meeting), level=lv)
        for lv in ("hd", "sd", "slides")
    }
    assert sum(at.values()) == 2, at  # every point gets one level (it starts at SD)
    ids = {
        dict(labels)["point"]
        for name, labels in first
        if name == "phonghop_bridge_frames_sent_total" and dict(labels)["meeting"] == str(meeting)
    }
    assert len(ids) == 2

    def grown(now, name, point):
        where = {"meeting": str(meeting), "point": point}
        return value(now, name, **where) - value(first, name, **where)

    async def frames_flow():
        _, now = await scrape(served.url)
        return all(
            grown(now, "phonghop_bridge_frames_sent_total", point) >= 15  # a second of program
            and grown(now, "phonghop_bridge_frames_received_total", point) > 0  # its camera
            for point in ids
        )

    await until(frames_flow)
    await asyncio.gather(hall.leave(), ward.leave())
    await until(lambda: served.app.state.conferences.get(meeting) is None)
    _, after = await scrape(served.url)
    assert value(after, "phonghop_bridge_points", meeting=str(meeting)) == 0
