"""Figures for Prometheus at `GET /metrics`: this process's counters, gauges and histograms.

Counters and histograms live here as module globals, updated in place on the hot paths (one
event loop: no locks). Figures that the process already knows (sockets per meeting, bridge
points, recordings) are read when Prometheus asks, by the collectors `create_app` hands to
`Metrics`, so nothing is counted twice. Every process (each server, each bridge) answers for
itself; Prometheus adds them up by its `instance` label.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from litestar import Request, Response, get

from server.errors import AppError

CONTENT_TYPE = "text/plain; version=0.0.4"  # Litestar adds the charset
Labels = tuple[str, ...]
Sample = tuple[Labels, float]

# Seconds; hellos and ballots are a round trip on a LAN, books take minutes.
QUICK = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SLOW = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Counter:
    """Only goes up; Prometheus makes a rate of it."""

    kind = "counter"

    def __init__(self, name: str, help: str, labels: Sequence[str] = ()) -> None:
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.value = 0.0
        self._children: dict[Labels, Counter] = {}

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def of(self, *values: str) -> Counter:
        """The counter for these label values, made once and kept (keep it at the call site)."""
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = Counter(self.name, self.help)
        return child

    def samples(self) -> list[tuple[str, Labels, float]]:
        if not self.labels:
            return [(self.name, (), self.value)]
        return [(self.name, values, c.value) for values, c in self._children.items()]


class Histogram:
    """Observations counted in fixed buckets, with their sum and count."""

    kind = "histogram"

    def __init__(
        self, name: str, help: str, buckets: Sequence[float] = QUICK, labels: Sequence[str] = ()
    ) -> None:
        self.name, self.help, self.labels = name, help, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        self.counts = [0] * (len(self.buckets) + 1)  # the last one is +Inf
        self.sum = 0.0
        self._children: dict[Labels, Histogram] = {}

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.sum += value

    def of(self, *values: str) -> Histogram:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = Histogram(self.name, self.help, self.buckets)
        return child

    def samples(self) -> list[tuple[str, Labels, float]]:
        if not self.labels:
            return self._own(())
        return [s for values, child in self._children.items() for s in child._own(values)]

    def _own(self, values: Labels) -> list[tuple[str, Labels, float]]:
        found, running = [], 0
        for bound, count in zip((*self.buckets, math.inf), self.counts, strict=True):
            running += count
            found.append((f"{self.name}_bucket", (*values, _number(bound)), float(running)))
        found.append((f"{self.name}_sum", values, self.sum))
        found.append((f"{self.name}_count", values, float(running)))
        return found


class Collected:
    """A gauge or counter read when Prometheus asks: `read()` gives (label values, value)."""

    def __init__(
        self,
        name: str,
        help: str,
        read: Callable[[], Awaitable[Iterable[Sample]]],
        labels: Sequence[str] = (),
        kind: str = "gauge",
    ) -> None:
        self.name, self.help, self.labels, self.kind = name, help, tuple(labels), kind
        self.read = read


# --- what every phonghop process counts ------------------------------------------------------

EVENTS = Counter(
    "phonghop_events_total", "Meeting events that came to this process for its tablets."
)
DELIVERIES = Counter(
    "phonghop_deliveries_total", "Messages queued for this process's tablets (one per tablet)."
)
TOO_SLOW = Counter(
    "phonghop_sockets_too_slow_total", "Tablet sockets closed because they could not keep up."
)
HELLO = Histogram(
    "phonghop_hello_seconds",
    "A tablet's hello to its catch-up (replayed events or a snapshot) queued.",
    labels=("kind",),
)
SNAPSHOT = Histogram("phonghop_snapshot_seconds", "Reading and serializing one snapshot.")
BALLOT = Histogram(
    "phonghop_ballot_seconds",
    "A ballot from its arrival to its answer, stored or refused.",
    labels=("outcome",),
)
LOOP_LAG = Histogram(
    "phonghop_loop_lag_seconds",
    "How late the event loop woke from a 10 ms sleep; every request and socket feels it.",
)
PUBLISH = Histogram(
    "phonghop_publish_seconds",
    "Building and publishing an agenda book, by how it ended.",
    SLOW,
    labels=("outcome",),
)

Family = Counter | Histogram | Collected
PROCESS: list[Family] = [EVENTS, DELIVERIES, TOO_SLOW, HELLO, SNAPSHOT, BALLOT, LOOP_LAG, PUBLISH]


# --- the exposition ------------------------------------------------------------------------


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if value == -math.inf:
        return "-Inf"
    if math.isnan(value):
        return "NaN"
    return repr(int(value)) if value == int(value) and abs(value) < 1e15 else repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _line(name: str, names: Labels, values: Labels, value: float) -> str:
    if not names:
        return f"{name} {_number(value)}"
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return f"{name}{{{pairs}}} {_number(value)}"


def _family(name: str, help: str, kind: str) -> list[str]:
    help = help.replace("\\", "\\\\").replace("\n", "\\n")
    return [f"# HELP {name} {help}", f"# TYPE {name} {kind}"]


async def exposition(families: Iterable[Family]) -> str:
    """Prometheus's text format (0.0.4) of `families`; HELP and TYPE even without samples, so
    a dashboard's queries name something that exists."""
    lines: list[str] = []
    for family in families:
        lines += _family(family.name, family.help, family.kind)
        if isinstance(family, Collected):
            for values, value in await family.read():
                lines.append(_line(family.name, family.labels, tuple(map(str, values)), value))
            continue
        names = family.labels
        for name, values, value in family.samples():
            bucket = name.endswith("_bucket") and isinstance(family, Histogram)
            lines.append(_line(name, (*names, "le") if bucket else names, values, value))
    return "\n".join(lines) + "\n"


class Metrics:
    """What this process shows at /metrics, and to whom."""

    def __init__(self, families: Sequence[Family], token: str, allow: Sequence[str]) -> None:
        self.families = list(families)
        self.token = token
        self.allow = [ipaddress.ip_network(entry, strict=False) for entry in allow]

    async def text(self) -> str:
        return await exposition(self.families)

    def admit(self, request: Request[Any, Any, Any]) -> None:
        """A bearer token, when one is set, lets anyone in; else only the allowed addresses,
        and not through a proxy (whoever the proxy serves would look like the proxy)."""
        given = request.headers.get("authorization", "")
        if self.token and given:
            scheme, _, value = given.partition(" ")
            right = hmac.compare_digest(value.strip().encode(), self.token.encode())
            if scheme.lower() == "bearer" and right:
                return
            raise AppError(401, "metrics_bad_token", "The metrics token is not right.")
        proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
        if not proxied and _address_in(request.client.host if request.client else "", self.allow):
            return
        if self.token:
            raise AppError(
                401, "metrics_token_needed", "The metrics need a token (Authorization: Bearer)."
            )
        raise AppError(
            403,
            "metrics_forbidden",
            "The metrics are not shown to this address ({address}).",
            address=request.client.host if request.client else "?",
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address_in(host: str, networks: Sequence[Network]) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


@get("/metrics", opt={"exclude_from_auth": True}, include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[str]:
    """This process's figures in Prometheus's text format, for Prometheus only."""
    figures: Metrics = request.app.state.metrics
    figures.admit(request)
    return Response(await figures.text(), media_type=CONTENT_TYPE)


# --- figures read when asked -------------------------------------------------------------


def sockets(hub: Any) -> Collected:
    async def read() -> list[Sample]:
        return [
            ((str(meeting_id),), sum(1 for c in room if not c.ended))
            for meeting_id, room in hub.rooms()
        ]

    return Collected(
        "phonghop_sockets", "Tablet sockets open on this process, by meeting.", read, ("meeting",)
    )


def loop_lag_max(loop_lag: Any) -> Collected:
    async def read() -> list[Sample]:
        return [((), loop_lag.summary(15.0)["max_ms"] / 1000)]

    return Collected(
        "phonghop_loop_lag_max_seconds", "The event loop's longest lag over the last 15 s.", read
    )


def bridge(conferences: Any) -> list[Family]:
    """A conference's points and the frames each sent to the bridge and got from it; the
    frame rates are `rate()` of the counters (a rejoin starts a point's count again)."""

    def per_point(figure: Callable[[Any], float]) -> Callable[[], Awaitable[list[Sample]]]:
        async def read() -> list[Sample]:
            return [
                ((str(c.meeting_id), str(user_id)), figure(point))
                for c in conferences.all()
                for user_id, point in list(c.points.items())
            ]

        return read

    async def points() -> list[Sample]:
        return [((str(c.meeting_id),), len(c.points)) for c in conferences.all()]

    async def levels() -> list[Sample]:
        return [
            ((str(c.meeting_id), level), sum(1 for p in points if p == level))
            for c in conferences.all()
            for points in [[c.program.level_of(p.video_out) for p in list(c.points.values())]]
            for level in ("hd", "sd", "slides")
        ]

    return [
        Collected(
            "phonghop_bridge_points",
            "Points (điểm cầu) in each meeting's conference on this process.",
            points,
            ("meeting",),
        ),
        Collected(
            "phonghop_bridge_points_by_level",
            "Points getting each level of the program (hd, sd, slides) as their lines allow.",
            levels,
            ("meeting", "level"),
        ),
        Collected(
            "phonghop_bridge_frames_received_total",
            "Video frames the bridge decoded from each point.",
            per_point(lambda point: point.frames_in),
            ("meeting", "point"),
            "counter",
        ),
        Collected(
            "phonghop_bridge_frames_sent_total",
            "Program video frames the bridge sent to each point.",
            per_point(lambda point: getattr(point.video_out, "frames_sent", 0)),
            ("meeting", "point"),
            "counter",
        ),
    ]


def recordings(live_meetings: Callable[[], Awaitable[Iterable[int]]]) -> Collected:
    async def read() -> list[Sample]:
        return [((str(meeting_id),), 1) for meeting_id in sorted(await live_meetings())]

    return Collected(
        "phonghop_recording",
        "1 while the meeting is being recorded, by any process (the same on every server).",
        read,
        ("meeting",),
    )
