"""A ward point behind a firewall that lets out only the TURN port still joins the conference:
through coturn with the short-lived credentials the server hands out (use-auth-secret), while
coturn refuses old credentials and relaying to private addresses other than the bridge."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aioice import stun
from aioice.turn import TurnClientUdpProtocol

from server.settings import turn_credentials
from tests.browser import free_port
from tests.conftest import need
from tests.live import serving
from tests.netns import Line, lines  # noqa: F401  (the fixture)
from tests.points import conference_meeting

PRIVATE = (
    "0.0.0.0-0.255.255.255",
    "10.0.0.0-10.255.255.255",
    "100.64.0.0-100.127.255.255",
    "127.0.0.0-127.255.255.255",
    "169.254.0.0-169.254.255.255",
    "172.16.0.0-172.31.255.255",
    "192.168.0.0-192.168.255.255",
)
TURN_READY_S = 30


def coturn_config(line: Line, port: int, secret: str, folder: Path) -> Path:
    """Like the deployment's: only its secret's credentials, no private peers but the bridge."""
    settings = [
        f"listening-ip={line.outside}",
        f"relay-ip={line.outside}",
        f"listening-port={port}",
        "min-port=40000",
        "max-port=40999",
        "use-auth-secret",
        f"static-auth-secret={secret}",
        "realm=phonghop.test",
        "fingerprint",
        "no-tls",
        "no-dtls",
        "no-cli",
        "no-multicast-peers",
        *(f"denied-peer-ip={span}" for span in PRIVATE),
        f"allowed-peer-ip={line.outside}",  # the bridge, on this machine
        f"pidfile={folder / 'turnserver.pid'}",
        "log-file=stdout",
        "simple-log",
    ]
    path = folder / "turnserver.conf"
    path.write_text("\n".join(settings) + "\n")
    return path


@contextlib.contextmanager
def coturn(config: Path, port: int, host: str) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        ["turnserver", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + TURN_READY_S
        while not _answers_stun(host, port):
            assert process.poll() is None, "coturn stopped at start"
            assert time.monotonic() < deadline, "coturn did not answer in time"
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers_stun(host: str, port: int) -> bool:
    import socket

    request = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.5)
        probe.sendto(bytes(request), (host, port))
        try:
            return bool(probe.recvfrom(2048))
        except OSError:
            return False


@pytest.fixture
def turn_line(lines, tmp_path):  # noqa: F811
    need(shutil.which("turnserver") is not None, "coturn is not installed (Debian: coturn)")
    line = lines.new()
    port, secret = free_port(), secrets.token_hex(16)
    with coturn(coturn_config(line, port, secret, tmp_path), port, line.outside):
        yield line, port, secret


async def _allocate(host: str, port: int, username: str, password: str) -> TurnClientUdpProtocol:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol((host, port), username, password, 600, 300),
        remote_addr=(host, port),
    )
    await protocol.connect()
    return protocol


async def test_a_point_that_can_reach_only_the_turn_port_joins_through_coturn(
    turn_line, settings, accounts, database
):
    line, turn_port, secret = turn_line
    meeting = conference_meeting(accounts, database, ["phuong1"])
    settings = replace(settings, turn_urls=[f"turn:{line.outside}:{turn_port}"], turn_secret=secret)
    with serving(settings, host=line.outside) as served:
        web_port = int(served.url.rsplit(":", 1)[1])
        line.only_reach(tcp=[web_port], udp=[turn_port])
        point = line.python("tests.ns_point", served.url, "phuong1", str(meeting), "server-ice")
        reader = _Lines(point)
        assert await reader.next(within=90) == {"joined": True}

        async def program_seen() -> bool:
            return (await reader.ask("fps"))["fps"] >= 5

        async def sent_to_coturn() -> bool:  # its sound and camera
            return line.packets_to("udp", turn_port) >= 200

        await until(program_seen, "the program video came through TURN")
        await until(sent_to_coturn, "the point's media went to coturn")
        assert line.packets_dropped() > 0  # and the bridge's own addresses were tried in vain
        assert await reader.ask("leave") == {"left": True}


async def test_old_credentials_and_private_peers_are_refused(turn_line):
    line, port, secret = turn_line
    expired = turn_credentials(secret, 7, int(time.time()) - 60)
    with pytest.raises(stun.TransactionFailed) as refused:
        await _allocate(line.outside, port, *expired)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401

    forged = (turn_credentials("not-the-secret", 7, int(time.time()) + 600)[0], "x" * 28)
    with pytest.raises(stun.TransactionFailed) as refused:
        await _allocate(line.outside, port, *forged)
    assert refused.value.response.attributes["ERROR-CODE"][0] == 401

    good = turn_credentials(secret, 7, int(time.time()) + 600)
    relay = await _allocate(line.outside, port, *good)
    try:
        for private in (line.inside, "192.168.1.10", "127.0.0.1"):
            with pytest.raises(stun.TransactionFailed) as refused:
                await relay.channel_bind(0x4000, (private, 5000))
            assert refused.value.response.attributes["ERROR-CODE"][0] == 403, private
        await relay.channel_bind(0x4001, (line.outside, 5000))  # the bridge's address
    finally:
        await relay.delete()


async def until(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.25)


class _Lines:
    """JSON lines from a point's process, with a deadline for each."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    async def next(self, within: float) -> dict[str, object]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), within)
        assert line, f"the point's process ended (exit {self.process.poll()})"
        return json.loads(line)

    async def ask(self, command: str, within: float = 30) -> dict[str, object]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return await self.next(within)
