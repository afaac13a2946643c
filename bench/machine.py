"""A quiet machine, and who used the CPU: what the benchmarks wait for before measuring and
how they count the CPU time of the server, the clients and everyone else (from /proc)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field

from harness import progress

QUIET_CPU = 0.15  # machine-wide CPU use (0..1) low enough to call the machine idle
NOISE_CORES = 0.25  # other programs using more than this during a round make it noisy
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_busy() -> int:
    """Clock ticks all CPUs spent not idle so far."""
    idle, total = cpu_times()
    return total - idle


def cpu_times() -> tuple[int, int]:
    """(idle, total) clock ticks of all CPUs so far, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        numbers = [int(part) for part in stat.readline().split()[1:]]
    return numbers[3] + numbers[4], sum(numbers)


async def cpu_busy(seconds: float) -> float:
    """The share of all CPUs in use over the next `seconds`, by anyone."""
    idle, total = cpu_times()
    await asyncio.sleep(seconds)
    idle_after, total_after = cpu_times()
    return 1 - (idle_after - idle) / max(1, total_after - total)


async def wait_for_quiet(label: str, args: argparse.Namespace) -> dict[str, float]:
    """Waits while the load average is high and the CPUs are busy; returns what it saw."""
    waited = 0.0
    while True:
        load = os.getloadavg()[0]
        busy = await cpu_busy(2.0)
        if load <= args.max_load or busy <= QUIET_CPU:
            break
        if waited >= args.load_wait:
            progress(f"{label}: still busy after {waited:.0f} s; measuring anyway")
            break
        progress(f"{label}: machine busy (load {load:.2f}, CPUs {busy:.0%} in use); waiting")
        await asyncio.sleep(8)
        waited += 10
    progress(f"{label}: load average {load:.2f}, CPUs {busy:.0%} in use")
    return {"load_1m": round(load, 2), "cpu_busy_before": round(busy, 2)}


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, CPU ticks used so far) for every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def family(table: dict[int, tuple[int, int]], root: int) -> set[int]:
    """`root` and all its descendants."""
    members = {root}
    grown = True
    while grown:
        more = {pid for pid, (parent, _) in table.items() if parent in members} - members
        members |= more
        grown = bool(more)
    return members


@dataclass
class CpuMark:
    """What the machine and each process had used at one moment."""

    at: float = field(default_factory=time.monotonic)
    machine: int = field(default_factory=machine_busy)
    table: dict[int, tuple[int, int]] = field(default_factory=process_table)

    def used_s(self, later: CpuMark, pid: int) -> float:
        return (later.table.get(pid, (0, 0))[1] - self.table.get(pid, (0, 0))[1]) / CLOCK_TICKS
