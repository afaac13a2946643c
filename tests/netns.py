"""Network namespaces made by a test: a ward point on a line of its own.

Each `Line` is a namespace joined to this machine by a veth pair with a /30 of its own; what
runs inside it reaches this machine only through that pair. A line can be limited to some
ports (iptables inside the namespace) or impaired (`tc netem` on both ends). Everything is
removed when the fixture ends, also after a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def namespaces_possible() -> tuple[bool, str]:
    if os.geteuid() != 0:
        return False, "network namespaces need root"
    for program in ("ip", "tc", "iptables"):
        if shutil.which(program) is None:
            return False, f"{program} is not installed (Debian: iproute2, iptables)"
    probe = f"phprobe{secrets.token_hex(3)}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as error:
        return False, f"network namespaces are not allowed here: {error}"
    _ip("netns", "del", probe)
    return True, ""


def netem_possible() -> tuple[bool, str]:
    """Whether this kernel has `tc netem` (delay and loss); probed on a namespace's loopback."""
    possible, reason = namespaces_possible()
    if not possible:
        return possible, reason
    probe = f"phprobe{secrets.token_hex(3)}"
    _ip("netns", "add", probe)
    try:
        command = ["ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root"]
        done = subprocess.run(
            [*command, "netem", "delay", "1ms"], capture_output=True, text=True, timeout=30
        )
    finally:
        _ip("netns", "del", probe)
    if done.returncode != 0:
        return False, f"tc netem is not in this kernel (sch_netem): {done.stderr.strip()}"
    return True, ""


@dataclass
class Line:
    """A namespace `name` at `inside`, reaching this machine at `outside`."""

    name: str
    inside: str
    outside: str
    host_end: str
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def run(self, argv: Sequence[str], **options: object) -> subprocess.Popen[str]:
        """Starts a program inside the namespace (stdin/stdout as text pipes)."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            **options,  # type: ignore[call-overload]
        )
        self.processes.append(process)
        return process

    def python(self, module: str, *args: str) -> subprocess.Popen[str]:
        return self.run([sys.executable, "-m", module, *args])

    def exec(self, *argv: str) -> str:
        done = subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return done.stdout

    def only_reach(self, tcp: Sequence[int] = (), udp: Sequence[int] = ()) -> None:
        """Everything leaving the namespace is dropped but these ports on this machine."""
        rules = [["-o", "lo", "-j", "ACCEPT"]]
        for protocol, ports in (("tcp", tcp), ("udp", udp)):
            for port in ports:
                rules.append(
                    ["-p", protocol, "-d", self.outside, "--dport", str(port), "-j", "ACCEPT"]
                )
        rules.append(["-j", "DROP"])
        for rule in rules:
            self.exec("iptables", "-A", "OUTPUT", *rule)

    def packets_to(self, protocol: str, port: int) -> int:
        """How many packets the namespace sent to this machine's `port`."""
        return self._counted(lambda row: protocol in row.split() and f"dpt:{port}" in row)

    def packets_dropped(self) -> int:
        """How many packets `only_reach` kept from leaving."""
        return self._counted(lambda row: row.split()[2:3] == ["DROP"])

    def _counted(self, matches: Callable[[str], bool]) -> int:
        listing = self.exec("iptables", "-L", "OUTPUT", "-v", "-x", "-n")
        return sum(int(row.split()[0]) for row in listing.splitlines()[2:] if matches(row))

    def impair(
        self,
        rate: str | None = None,
        loss: float = 0.0,
        delay_ms: int = 0,
        queue_packets: int | None = None,
    ) -> None:
        """netem on both ends: `delay_ms` each way, `loss` % each way, `rate` each way, at most
        `queue_packets` waiting (netem's own limit, 1000, is far more than a modem holds)."""
        spec = ["delay", f"{delay_ms}ms"] if delay_ms else []
        spec += ["loss", f"{loss}%"] if loss else []
        spec += ["rate", rate] if rate else []
        spec += ["limit", str(queue_packets)] if queue_packets else []
        for prefix, device in (([], self.host_end), (["ip", "netns", "exec", self.name], "eth0")):
            command = [*prefix, "tc", "qdisc", "replace", "dev", device, "root", "netem", *spec]
            subprocess.run(command, check=True, capture_output=True, timeout=30)

    def throttle(self, rate: str, queue_ms: int = 500) -> None:
        """A slow line without netem: a token bucket on both ends, `rate` each way, packets
        waiting at most about `queue_ms` (a modem's buffer) before they are dropped."""
        for prefix, device in (([], self.host_end), (["ip", "netns", "exec", self.name], "eth0")):
            shaper = ["tbf", "rate", rate, "burst", "4kb", "latency", f"{queue_ms}ms"]
            command = [*prefix, "tc", "qdisc", "replace", "dev", device, "root", *shaper]
            subprocess.run(command, check=True, capture_output=True, timeout=30)

    def mend(self) -> None:
        for prefix, device in (([], self.host_end), (["ip", "netns", "exec", self.name], "eth0")):
            command = [*prefix, "tc", "qdisc", "del", "dev", device, "root"]
            subprocess.run(command, capture_output=True, timeout=30)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", self.host_end], capture_output=True, timeout=30)


@dataclass
class WiredLine(Line):
    """A line whose impairment tests/wire.py makes, in a namespace `wire_ns` between the
    point's and this machine: for kernels without netem. Every frame crosses it in user space,
    which adds a fraction of a millisecond."""

    wire_ns: str = ""
    wire: subprocess.Popen[str] | None = None

    def impair(
        self,
        rate: str | None = None,
        loss: float = 0.0,
        delay_ms: int = 0,
        queue_packets: int | None = None,
    ) -> None:
        bps = _bits_per_second(rate) if rate else 0
        queue_ms = 1000 * (queue_packets or 1000) * 1500 * 8 / bps if bps else 0
        self._tell_wire(f"impair {bps} {loss} {delay_ms} {queue_ms:.0f}")

    def throttle(self, rate: str, queue_ms: int = 500) -> None:
        self._tell_wire(f"impair {_bits_per_second(rate)} 0 0 {queue_ms}")

    def mend(self) -> None:
        self._tell_wire("mend")

    def _tell_wire(self, command: str) -> None:
        assert self.wire is not None and self.wire.stdin and self.wire.stdout
        self.wire.stdin.write(command + "\n")
        self.wire.stdin.flush()
        assert self.wire.stdout.readline().strip() == "ok", f"the wire did not take {command}"

    def close(self) -> None:
        if self.wire is not None and self.wire.poll() is None:
            self.wire.kill()
            self.wire.wait(timeout=30)
        super().close()
        subprocess.run(["ip", "netns", "del", self.wire_ns], capture_output=True, timeout=30)


def _bits_per_second(rate: str) -> int:
    """tc's spelling: 300kbit, 1mbit, 2000000bit."""
    units = {"kbit": 1000, "mbit": 1000_000, "bit": 1}
    for unit, factor in units.items():
        if rate.lower().endswith(unit):
            return int(float(rate[: -len(unit)]) * factor)
    return int(rate)


class Lines:
    def __init__(self) -> None:
        self.made: list[Line] = []

    def new(self) -> Line:
        line = Line(*_names_and_addresses())
        _ip("netns", "add", line.name)
        self.made.append(line)
        pair = ["type", "veth", "peer", "name", "eth0", "netns", line.name]
        _ip("link", "add", line.host_end, *pair)
        _addresses(line)
        return line

    def wired(self) -> WiredLine:
        """A line through tests/wire.py, for `impair` where the kernel has no netem."""
        name, inside, outside, host_end = _names_and_addresses()
        line = WiredLine(name, inside, outside, host_end, wire_ns=name.replace("phpt", "phpw"))
        _ip("netns", "add", line.name)
        _ip("netns", "add", line.wire_ns)
        self.made.append(line)
        _ip(
            "link",
            "add",
            line.host_end,
            "type",
            "veth",
            "peer",
            "name",
            "wb",
            "netns",
            line.wire_ns,
        )
        pair = ["type", "veth", "peer", "name", "eth0", "netns", line.name]
        _ip("-n", line.wire_ns, "link", "add", "name", "wa", *pair)
        for device in ("wa", "wb"):
            _ip("-n", line.wire_ns, "link", "set", device, "up")
        _addresses(line)
        line.wire = subprocess.Popen(
            ["ip", "netns", "exec", line.wire_ns, sys.executable, "-m", "tests.wire", "wa", "wb"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert line.wire.stdout is not None
        assert line.wire.stdout.readline().strip() == "ok", "the wire did not start"
        return line

    def close(self) -> None:
        for line in self.made:
            line.close()


def _names_and_addresses() -> tuple[str, str, str, str]:
    """A namespace's name, its /30 in 10.200.0.0/16 (inside, outside) and the host's end."""
    tag = secrets.token_hex(3)
    third, fourth = divmod(4 * secrets.randbelow(16384), 256)
    outside, inside = f"10.200.{third}.{fourth + 1}", f"10.200.{third}.{fourth + 2}"
    return f"phpt{tag}", inside, outside, f"phv{tag}"


def _addresses(line: Line) -> None:
    _ip("addr", "add", f"{line.outside}/30", "dev", line.host_end)
    _ip("link", "set", line.host_end, "up")
    for args in (
        ["addr", "add", f"{line.inside}/30", "dev", "eth0"],
        ["link", "set", "eth0", "up"],
        ["link", "set", "lo", "up"],
        ["route", "add", "default", "via", line.outside],
    ):
        _ip("-n", line.name, *args)


@pytest.fixture
def lines() -> Iterator[Lines]:
    possible, reason = namespaces_possible()
    need(possible, reason)
    made = Lines()
    try:
        yield made
    finally:
        made.close()
