"""A bad line made in user space, for kernels without `tc netem`: run inside a namespace of its
own between two veth ends, it carries every Ethernet frame from one end to the other, late,
some lost, no faster than a rate, as netem would.

    python -m tests.wire END_A END_B

Lines on stdin set the line for both directions: `impair RATE_BPS LOSS_PCT DELAY_MS QUEUE_MS`
(0: none) or `mend`; each is answered `ok` once in force.
"""

from __future__ import annotations

import heapq
import random
import select
import socket
import sys
import time
from dataclasses import dataclass, field

ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_VNET_HDR = 263, 15
VNET_HEADER = 10  # struct virtio_net_hdr, before each frame
PACKET_OUTGOING = 4
FRAME_MAX = 1 << 17


@dataclass
class Impairment:
    rate_bps: int = 0
    loss: float = 0.0  # a fraction
    delay_s: float = 0.0
    queue_s: float = 0.0  # frames that would wait longer for the rate are dropped

    @classmethod
    def parse(cls, words: list[str]) -> Impairment:
        if words[0] == "mend":
            return cls()
        rate, loss, delay_ms, queue_ms = (float(word) for word in words[1:5])
        return cls(int(rate), loss / 100, delay_ms / 1000, queue_ms / 1000)


@dataclass
class Direction:
    out: socket.socket
    free_at: float = 0.0  # when the rate lets the next frame go
    due: list[tuple[float, int, bytes]] = field(default_factory=list)

    def take(self, frame: bytes, line: Impairment, now: float, order: int) -> None:
        if line.loss and random.random() < line.loss:
            return
        leaves = now
        if line.rate_bps:
            start = max(now, self.free_at)
            if start - now > line.queue_s:
                return  # the queue is full
            leaves = self.free_at = start + 8 * (len(frame) - VNET_HEADER) / line.rate_bps
        heapq.heappush(self.due, (leaves + line.delay_s, order, frame))

    def send_due(self, now: float) -> None:
        while self.due and self.due[0][0] <= now:
            frame = heapq.heappop(self.due)[2]
            try:
                self.out.send(frame)
            except OSError:
                pass  # as a wire drops what it cannot carry

    def next_at(self) -> float | None:
        return self.due[0][0] if self.due else None


def end(name: str) -> socket.socket:
    """A raw socket on one veth end. With the virtio header a frame keeps what the kernel
    left to do (its checksum, its segmenting) across the wire, as a frame on a veth does."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    sock.bind((name, 0))
    sock.setblocking(False)
    return sock


def run(name_a: str, name_b: str) -> None:
    a, b = end(name_a), end(name_b)
    directions = {a: Direction(b), b: Direction(a)}
    line, order = Impairment(), 0
    print("ok", flush=True)
    while True:
        now = time.monotonic()
        waits = [d.next_at() for d in directions.values()]
        soonest = min((w for w in waits if w is not None), default=None)
        timeout = None if soonest is None else max(0.0, soonest - now)
        ready, _, _ = select.select([a, b, sys.stdin], [], [], timeout)
        now = time.monotonic()
        for source in ready:
            if source is sys.stdin:
                command = sys.stdin.readline().split()
                if not command:
                    return
                line = Impairment.parse(command)
                print("ok", flush=True)
                continue
            while True:
                try:
                    frame, address = source.recvfrom(FRAME_MAX)
                except BlockingIOError:
                    break
                if address[2] != PACKET_OUTGOING:  # not our own sending seen again
                    order += 1
                    directions[source].take(frame, line, now, order)
        for direction in directions.values():
            direction.send_due(now)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2])
