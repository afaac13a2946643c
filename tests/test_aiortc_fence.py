"""What phonghop borrows from aiortc, fenced.

server/conference/receiving.py replaces the function aiortc's receivers run in their decoder
thread and puts a gate in front of each audio receiver's jitter buffer;
server/conference/bridge.py overrides a private method of each program sender and sends a
lossy point's sound packets again from its sender's history, through a wrapped transport;
bench/points.py wraps the same decoder function and reaches into a track's queue and aioice's
sockets. None of that is aiortc's public API, so pyproject.toml pins aiortc to the minor
version these pieces were checked against, and this test fails, naming the piece and the file
to re-check, when the version or a piece changes. After re-checking, update TESTED, the pin
and the piece's `signature` and `code` below.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import io
import textwrap
import tokenize
import tomllib
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

from server.conference import receiving
from server.conference.program import ProgramVideo

TESTED = "1.16"  # the aiortc minor version the pieces below were checked against
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
STRUCTURE = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)


@dataclass(frozen=True)
class Borrowed:
    """A function or method of aiortc (or aioice) that phonghop replaces, overrides or
    reaches into, and what it must still look like."""

    module: str
    name: str  # "function" or "Class.method"
    users: str  # what to re-check when it changes
    signature: str | None = None  # its parameters, as ast.unparse writes them
    code: str | None = None  # fingerprint of its code, comments and layout aside
    lines: tuple[str, ...] = ()  # code its users rely on, each somewhere in it


DECODER_WORKER = Borrowed(
    "aiortc.rtcrtpreceiver",
    "decoder_worker",
    "server/conference/receiving.py (decoder_worker copies it), bench/points.py",
    signature="loop: asyncio.AbstractEventLoop, input_q: queue.Queue, "
    "output_q: asyncio.Queue, decode_error: threading.Event",
    code="7f7fb14c37801c4d",
)
RECEIVER_START = Borrowed(
    "aiortc.rtcrtpreceiver",
    "RTCRtpReceiver.receive",
    "server/conference/receiving.py (install), bench/points.py (count_without_decoding)",
    # the thread's function is looked up in the module when the receiver starts, and gets
    # the loop, the decoder's queue, the track's queue and the error flag
    lines=(
        "target=decoder_worker,",
        "asyncio.get_event_loop(), self.__decoder_queue, self._track._queue, self.__decoder_error,",
    ),
)
SEND_KEYFRAME = Borrowed(
    "aiortc.rtcrtpsender",
    "RTCRtpSender._send_keyframe",
    "server/conference/bridge.py (Conference._peer)",
    signature="self",
    code="43ace87d9048111f",
)
KEYFRAME_ASKED = Borrowed(
    "aiortc.rtcrtpsender",
    "RTCRtpSender._handle_rtcp_packet",
    "server/conference/bridge.py (Conference._peer, Conference._hear_reports)",
    # a point's picture loss or full intra request asks the sender for a keyframe; its
    # receiver reports keep the round trip the bridge reads after each one
    lines=(
        "RTCP_PSFB_FIR,",
        "RTCP_PSFB_PLI,",
        "self._send_keyframe()",
        "async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:",
        "for report in filter(lambda x: x.ssrc == self._ssrc, packet.reports):",
        "self.__rtt = RTT_ALPHA * self.__rtt + (1 - RTT_ALPHA) * rtt",
    ),
)
RTCP_SENT = Borrowed(
    "aiortc.rtcdtlstransport",
    "RTCDtlsTransport._send_rtp",
    "tests/test_bridge_bad_input.py (flood_keyframe_requests), "
    "server/conference/bridge.py (Conference._repeat_sound wraps it)",
    # a point's own RTCP (its keyframe requests) goes out protected, as aiortc's would
    signature="self, data: bytes",
    code="2549e0e057af8c00",
    lines=("data = self._tx_srtp.protect_rtcp(data)",),
)
SOUND_REPEATED = Borrowed(
    "aiortc.rtcrtpsender",
    "RTCRtpSender._retransmit",
    "server/conference/bridge.py (Conference._repeat_sound)",
    # a packet still in the history goes again as it was (no RTX is negotiated for sound),
    # through the transport's _send_rtp, which the bridge wraps
    signature="self, sequence_number: int",
    lines=(
        "packet = self.__rtp_history.get(sequence_number % RTP_HISTORY_SIZE)",
        "if self.__rtx_payload_type is not None:",
        "await self.transport._send_rtp(packet_bytes)",
    ),
)
SOUND_KEPT = Borrowed(
    "aiortc.rtcrtpsender",
    "RTCRtpSender._run_rtp",
    "server/conference/bridge.py (Conference._repeat_sound)",
    # every packet sent, sound too, is kept in the history before it goes
    lines=(
        "self.__rtp_history[packet.sequence_number % RTP_HISTORY_SIZE] = (",
        "await self.transport._send_rtp(packet_bytes)",
    ),
)
ICE_SOCKETS = Borrowed(
    "aioice.ice",
    "Connection.__init__",
    "bench/points.py (Point.drop)",
    lines=("self._protocols: list[StunProtocol] = []",),
)
AUDIO_JITTER_BUFFER = Borrowed(
    "aiortc.rtcrtpreceiver",
    "RTCRtpReceiver.__init__",
    "server/conference/receiving.py (HeardOnly, decode_when_heard)",
    # an audio receiver's buffer: the attribute replaced, and how a fresh one is made
    lines=(
        f"self.__jitter_buffer = JitterBuffer("
        f"capacity={receiving.AUDIO_CAPACITY}, prefetch={receiving.AUDIO_PREFETCH})",
    ),
)
RECEIVING_A_PACKET = Borrowed(
    "aiortc.rtcrtpreceiver",
    "RTCRtpReceiver._handle_rtp_packet",
    "server/conference/receiving.py (HeardOnly)",
    # each packet is counted for the receiver reports before the jitter buffer takes it,
    # and only a frame the buffer gives back is decoded
    signature="self, packet: RtpPacket, arrival_time_ms: int",
    code="e1d1e8f1df742058",
    lines=(
        "pli_flag, encoded_frame = self.__jitter_buffer.add(packet)",
        "self.__decoder_queue.put((codec, encoded_frame))",
    ),
)
JITTER_BUFFER_ADD = Borrowed(
    "aiortc.jitterbuffer",
    "JitterBuffer.add",
    "server/conference/receiving.py (HeardOnly stands in for it)",
    signature="self, packet: RtpPacket",
)
BORROWED = [
    DECODER_WORKER,
    RECEIVER_START,
    SEND_KEYFRAME,
    KEYFRAME_ASKED,
    RTCP_SENT,
    SOUND_REPEATED,
    SOUND_KEPT,
    ICE_SOCKETS,
    AUDIO_JITTER_BUFFER,
    RECEIVING_A_PACKET,
    JITTER_BUFFER_ADD,
]


def definition(source: str, name: str) -> str | None:
    """The source of `name` ("function" or "Class.method") in a module's source, or None."""
    tree = ast.parse(source)
    node: ast.AST = tree
    for part in name.split("."):
        found = [
            child
            for child in getattr(node, "body", [])
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and child.name == part
        ]
        if not found:
            return None
        node = found[0]
    return textwrap.dedent(ast.get_source_segment(source, node, padded=True) or "")


def parameters(function_source: str) -> str:
    function = ast.parse(function_source).body[0]
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    return ast.unparse(function.args)


def fingerprint(function_source: str) -> str:
    """A hash of the code's tokens: comments, blank lines and layout do not change it."""
    tokens = tokenize.generate_tokens(io.StringIO(function_source).readline)
    text = " ".join(
        tokenize.tok_name[t.type] if t.type in STRUCTURE else t.string
        for t in tokens
        if t.type not in (tokenize.COMMENT, tokenize.NL)
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flat(text: str) -> str:
    return " ".join(text.split())


def changes(piece: Borrowed, module_source: str) -> list[str]:
    """How `piece` in this module source differs from what was checked; empty if it does not."""
    found = definition(module_source, piece.name)
    if found is None:
        return ["it is gone"]
    problems = []
    if piece.signature is not None and parameters(found) != piece.signature:
        problems.append(f"its parameters were ({piece.signature}), now ({parameters(found)})")
    if piece.code is not None and fingerprint(found) != piece.code:
        problems.append(f"its code changed (fingerprint {fingerprint(found)}, was {piece.code})")
    problems += [
        f"it no longer has `{line}`" for line in piece.lines if flat(line) not in flat(found)
    ]
    return problems


def verdict(piece: Borrowed, module_source: str, package_version: str) -> str | None:
    """The loud message for a changed piece, or None."""
    problems = changes(piece, module_source)
    if not problems:
        return None
    package = piece.module.split(".")[0]
    return (
        f"{package} {package_version} changed {piece.name}: re-check {piece.users}. "
        + "; ".join(problems)
    )


def source_of(piece: Borrowed) -> str:
    """The module's file as installed (a function replaced at run time does not hide it)."""
    return inspect.getsource(importlib.import_module(piece.module))


def test_a_changed_signature_names_the_method_and_the_file_to_recheck():
    changed = source_of(SEND_KEYFRAME).replace(
        "def _send_keyframe(self) -> None:", "def _send_keyframe(self, now: bool) -> None:"
    )
    message = verdict(SEND_KEYFRAME, changed, "1.17.0")
    assert message is not None
    assert message.startswith(
        "aiortc 1.17.0 changed RTCRtpSender._send_keyframe: re-check server/conference/bridge.py"
    )
    assert "its parameters were (self), now (self, now: bool)" in message


def test_changed_code_a_lost_line_and_a_gone_method_are_each_said():
    source = source_of(SEND_KEYFRAME)
    body = "self.__force_keyframe = True"
    assert "its code changed" in str(verdict(SEND_KEYFRAME, source.replace(body, "pass"), "x"))
    lost = source.replace("self._send_keyframe()", "self._request_keyframe()")
    assert "no longer has `self._send_keyframe()`" in str(verdict(KEYFRAME_ASKED, lost, "x"))
    gone = source.replace("def _send_keyframe(", "def _ask_keyframe(")
    assert "RTCRtpSender._send_keyframe" in str(verdict(SEND_KEYFRAME, gone, "x"))
    assert "it is gone" in str(verdict(SEND_KEYFRAME, gone, "x"))


def test_comments_and_blank_lines_do_not_count_as_a_change():
    body = "self.__force_keyframe = True"
    commented = source_of(SEND_KEYFRAME).replace(body, f"# the next one\n\n        {body}  # now")
    assert verdict(SEND_KEYFRAME, commented, "x") is None


def test_aiortc_is_the_minor_version_tested_and_pinned_to_it():
    installed = version("aiortc")
    assert installed.startswith(f"{TESTED}."), (
        f"aiortc {installed} is installed but phonghop's borrowed pieces were checked against "
        f"{TESTED}: re-check server/conference/receiving.py, server/conference/bridge.py and "
        "bench/points.py, then update TESTED here and the pin in pyproject.toml"
    )
    major, minor = TESTED.split(".")
    pinned = f"aiortc>={TESTED},<{major}.{int(minor) + 1}"
    dependencies = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    assert pinned in dependencies, f"pyproject.toml must pin {pinned}, the version tested here"


@pytest.mark.parametrize("piece", BORROWED, ids=[piece.name for piece in BORROWED])
def test_what_phonghop_borrows_is_as_it_was_checked(piece: Borrowed):
    message = verdict(piece, source_of(piece), version(piece.module.split(".")[0]))
    assert message is None, message


def test_what_replaces_aiortc_s_pieces_takes_the_same_arguments():
    theirs = definition(source_of(DECODER_WORKER), DECODER_WORKER.name)
    assert theirs is not None
    passed = [arg.arg for arg in ast.parse(theirs).body[0].args.args]  # type: ignore[attr-defined]
    ours = list(inspect.signature(receiving.decoder_worker).parameters)
    assert ours == passed, f"aiortc passes {passed}; server/conference/receiving.py takes {ours}"
    ours = list(inspect.signature(receiving.HeardOnly.add).parameters)
    assert ours == ["self", "packet"], "aiortc calls the jitter buffer's add(packet)"
    keyframe = inspect.signature(ProgramVideo.request_keyframe).parameters
    asked = "aiortc calls _send_keyframe() with no arguments; the bridge's stand-in names the track"
    assert list(keyframe) == ["self", "track"] and keyframe["track"].default is None, asked


# bench/points.py's points can report a steady estimate (REMB) instead of aiortc's
ESTIMATOR_MADE = Borrowed(
    "aiortc.rtcrtpreceiver",
    "RTCRtpReceiver.__init__",
    "bench/points.py (estimate_steadily)",
    lines=("self.__remote_bitrate_estimator = RemoteBitrateEstimator()",),
)
ESTIMATE_SENT = Borrowed(
    "aiortc.rtcrtpreceiver",
    "RTCRtpReceiver._handle_rtp_packet",
    "bench/points.py (estimate_steadily)",
    # every video packet goes to the estimator; what it answers goes out as a REMB
    lines=(
        "remb = self.__remote_bitrate_estimator.add(",
        "if self.__rtcp_ssrc is not None and remb is not None:",
        "fci=pack_remb_fci(*remb),",
    ),
)
ESTIMATOR_ADD = Borrowed(
    "aiortc.rate",
    "RemoteBitrateEstimator.add",
    "bench/points.py (SteadyEstimate stands in for it)",
    signature="self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int",
)
LEVEL_SENT = Borrowed(
    "aiortc.rtcrtpsender",
    "RTCRtpSender._run_rtp",
    "bench/points.py (say_level)",
    # the frame the sender gets from `_next_encoded_frame` gives each packet its audio level
    lines=(
        "enc_frame = await self._next_encoded_frame(codec)",
        "packet.extensions.audio_level = (False, -enc_frame.audio_level)",
    ),
)
BENCH_BORROWED = [ESTIMATOR_MADE, ESTIMATE_SENT, ESTIMATOR_ADD, LEVEL_SENT]


@pytest.mark.parametrize("piece", BENCH_BORROWED, ids=[piece.name for piece in BENCH_BORROWED])
def test_what_the_bench_points_borrow_is_as_it_was_checked(piece: Borrowed):
    message = verdict(piece, source_of(piece), version(piece.module.split(".")[0]))
    assert message is None, message


def test_the_steady_estimate_answers_as_aiortc_s_estimator_does():
    from aiortc.rate import RemoteBitrateEstimator
    from aiortc.rtp import pack_remb_fci, unpack_remb_fci

    from bench.points import SteadyEstimate

    theirs = list(inspect.signature(RemoteBitrateEstimator.add).parameters)
    assert list(inspect.signature(SteadyEstimate.add).parameters) == theirs
    steady = SteadyEstimate(4_000_000)
    answers = [steady.add(at, 0, 1200, 7) for at in range(0, 2500, 20)]
    sent = [answer for answer in answers if answer is not None]
    assert len(sent) == 3, "one REMB a second"
    bitrate, ssrcs = unpack_remb_fci(pack_remb_fci(*sent[0]))
    assert ssrcs == [7] and abs(bitrate - 4_000_000) / 4_000_000 < 0.001
