"""The followed-page-turn benchmark (bench/pageturn.py, issue 17 item 4) runs end to end with a
small hall: a real server, a real published book, real sockets. What it must show holds on any
machine, busy or not: a hall holding the book reads a few hundred bytes per tablet on a turn,
a hall fetching on show reads the page image and its words. (Times are reported, not checked.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.harness import free_port

ROOT = Path(__file__).resolve().parent.parent
LATENCIES = ("ready_p50_ms", "ready_p95_ms", "ready_max_ms", "event_p50_ms", "event_p95_ms")


@pytest.mark.timeout(600)
def test_a_hall_holding_the_book_reads_far_fewer_bytes_per_turn_than_one_fetching_on_show():
    tablets, turns = 5, 2
    command = [sys.executable, str(ROOT / "bench" / "pageturn.py"), "--tablets", str(tablets)]
    command += ["--turns", str(turns), "--port", str(free_port()), "--timeout", "540"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=580)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    assert report["benchmark"] == "pageturn"
    assert report["tablets"] == tablets
    book = report["book"]
    assert book["pages"] >= 2
    assert book["image_width"] in (320, 640, 960, 1280, 1600, 2048)
    # every tablet downloaded the same whole book, and it is real page images
    assert book["bytes_per_tablet_min_max"] == [book["bytes_per_tablet"]] * 2
    assert book["bytes_per_tablet"] > book["pages"] * 5_000
    assert book["all_tablets_bytes"] == tablets * book["bytes_per_tablet"]

    fetching, holding = report["fetch_on_show"], report["book_on_tablet"]
    for mode in (fetching, holding):
        assert mode["turns"] == turns and len(mode["bytes_per_turn_each"]) == turns
        assert mode["missed"] == 0 and mode["errors"] == [] and mode["disconnects"] == 0
        assert all(isinstance(mode[key], float) for key in LATENCIES)
        assert mode["ws_bytes_per_turn"] > 0  # every tablet got the event
    # fetching on show: each tablet read an image and its words, at least 5 kB a tablet
    assert fetching["http_bytes_per_turn"] > tablets * 5_000
    # holding the book: nothing over HTTP, only the event, a few hundred bytes a tablet
    assert holding["http_bytes_per_turn"] == 0
    assert holding["bytes_per_turn_per_tablet"] < 1_000
    assert holding["bytes_per_turn"] * 50 < fetching["bytes_per_turn"]
    assert report["bytes_ratio"] > 50
    assert report["server_log_errors"] == {}
