"""The recorder processes this server started: one per meeting, started by the chair or by
the session, stopped with SIGTERM (the recorder then finishes its MP4)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
from typing import Any

from litestar import Request

from server import journal
from server.errors import AppError
from server.house import House, house_of
from server.i18n import DEFAULT_LANGUAGE, translations
from server.recordings.state import live_rows, recordings_dir
from server.settings import Settings

log = logging.getLogger("phonghop")

STOP_WAIT_S = 60  # the recorder finishes its MP4 after SIGTERM; past this the route returns


class Recorders:
    """One recorder process per meeting, as started by this server."""

    def __init__(self) -> None:
        self._processes: dict[int, subprocess.Popen[bytes]] = {}

    def running(self, meeting_id: int) -> subprocess.Popen[bytes] | None:
        process = self._processes.get(meeting_id)
        if process is not None and process.poll() is not None:  # ended on its own (disk full)
            del self._processes[meeting_id]
            return None
        return process

    def start(self, meeting_id: int, server_url: str, settings: Settings) -> None:
        command = recorder_command(meeting_id, server_url)
        env = {
            **os.environ,
            "PHONGHOP_DATA_DIR": str(settings.data_dir),
            "PHONGHOP_DATABASE_URL": settings.database_url,
            "PHONGHOP_RECORDER_KEY": settings.recorder_key,
        }
        log_path = recordings_dir(settings) / f"recorder-{meeting_id}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as out:
            self._processes[meeting_id] = subprocess.Popen(
                command, env=env, stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )

    async def stop(self, meeting_id: int, wait_s: float = STOP_WAIT_S) -> bool:
        """SIGTERM, then wait; False when it is still finishing after `wait_s`."""
        process = self.running(meeting_id)
        if process is None:
            return True
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, wait_s)
        except subprocess.TimeoutExpired:
            return False
        self._processes.pop(meeting_id, None)
        return True

    async def stop_all(self) -> None:
        await asyncio.gather(*(self.stop(meeting_id) for meeting_id in list(self._processes)))


def recorder_command(meeting_id: int, server_url: str) -> list[str]:
    command = [sys.executable, "-m", "server.cli", "recorder"]
    return command + ["--meeting", str(meeting_id), "--server", server_url]


def _server_url(request: Request) -> str:
    """This server as the recorder on the same machine reaches it: the listening address
    the request came in on, not the public name a proxy may put in front."""
    host, port = request.scope.get("server") or (None, None)
    settings: Settings = house_of(request).settings
    if not host or host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port or settings.port}"


def _check_space(settings: Settings) -> None:
    from recorder.space import NotEnoughSpace, check_space

    folder = recordings_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        check_space(folder, settings.recording_expected_minutes)
    except NotEnoughSpace as refused:
        raise AppError(507, "no_space", refused.message, **refused.params) from refused


async def start_recording(request: Request, meeting_id: int) -> None:
    state = house_of(request)
    recorders: Recorders = state.recorders
    if recorders.running(meeting_id) or await live_rows(state, meeting_id):
        raise AppError(409, "already_recording", "This meeting is already being recorded.")
    _check_space(state.settings)
    recorders.start(meeting_id, _server_url(request), state.settings)


async def tell(state: House, meeting_id: int, payload: dict[str, Any]) -> None:
    """Journals a `recording.changed` and sends it to the meeting's consoles."""
    async with state.db() as db:
        event = await journal.append(db, meeting_id, "recording.changed", payload, None)
        await db.commit()
    state.hub.publish_event(event)


async def follow_session(request: Request, meeting_id: int, live: bool) -> None:
    """With PHONGHOP_RECORD_AUTOMATICALLY, a live meeting records and a closed one stops."""
    state = house_of(request)
    if not state.settings.record_automatically:
        return
    if not live:
        await state.recorders.stop(meeting_id)
        return
    try:
        await start_recording(request, meeting_id)
    except AppError as refused:
        if refused.code == "already_recording":
            return
        # journaled once for every console: in the council's language
        message = translations(DEFAULT_LANGUAGE).gettext(refused.message).format(**refused.params)
        await tell(
            state, meeting_id, {"recording_id": None, "status": "refused", "message": message}
        )
