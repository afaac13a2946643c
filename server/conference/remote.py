"""The servers' side of `phonghop bridge`: the calls of `bridge.Conferences`, over HTTP.

A meeting's conference always lives in the same bridge process (`urls[meeting % n]`). The
bridge answers a refusal with its untranslated message, so the server that passes it on
translates it for its own caller.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import msgspec

from server.conference.bridge import Control
from server.errors import AppError
from server.settings import Settings

log = logging.getLogger("phonghop.conference")

OFFER_TIMEOUT_S = 30.0  # an answer waits for the bridge to gather its candidates
VIEW_FRESH_S = 1.0  # a hall of tablets saying hello at once asks the bridge once a second


class Bridges:
    def __init__(self, settings: Settings) -> None:
        self._urls = [url.rstrip("/") for url in settings.bridge_urls]
        self._http = httpx.AsyncClient(
            headers={"authorization": f"Bearer {settings.bridge_key}"}, timeout=OFFER_TIMEOUT_S
        )
        self._views: dict[tuple[int, bool], tuple[float, asyncio.Task[Any]]] = {}

    async def join(self, meeting_id: int, user_id: int, name: str, offer: str) -> str:
        point = {"user_id": user_id, "name": name, "sdp": offer}
        return (await self._call("POST", meeting_id, "points", json=point)).json()["sdp"]

    async def listen(self, meeting_id: int, offer: str) -> str:
        offer_in = {"sdp": offer, "type": "offer"}
        return (await self._call("POST", meeting_id, "listen", json=offer_in)).json()["sdp"]

    async def leave(self, meeting_id: int, user_id: int) -> None:
        await self._call("DELETE", meeting_id, f"points/{user_id}")

    async def control(self, meeting_id: int, control: Control) -> None:
        await self._call("POST", meeting_id, "control", content=msgspec.json.encode(control))

    async def thumbnail(self, meeting_id: int, user_id: int) -> bytes:
        return (await self._call("GET", meeting_id, f"points/{user_id}/thumb.jpg")).content

    async def present(self, meeting_id: int, seq: int, image: bytes | None) -> None:
        """As `Conferences.present`: the image as the request's body, none for no page."""
        params = {"seq": str(seq)}
        headers = {"content-type": "application/octet-stream"}
        await self._call(
            "POST", meeting_id, "slide", params=params, content=image or b"", headers=headers
        )

    async def view(self, meeting_id: int, console: bool) -> dict[str, Any] | None:
        """As `Conferences.view`, at most a second old; None while the bridge is away, so a
        tablet's hello never fails for want of video."""
        key, now = (meeting_id, console), time.monotonic()
        fresh = self._views.get(key)
        if fresh is None or now - fresh[0] > VIEW_FRESH_S:
            params = {"console": "true" if console else "false"}
            asked = asyncio.ensure_future(self._call("GET", meeting_id, "view", params=params))
            fresh = self._views[key] = (now, asked)
        try:
            return (await asyncio.shield(fresh[1])).json()
        except AppError:
            return None

    async def stop(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, meeting_id: int, path: str, **kw: Any) -> httpx.Response:
        base = self._urls[meeting_id % len(self._urls)]
        url = f"{base}/bridge/meetings/{meeting_id}/{path}"
        try:
            response = await self._http.request(method, url, **kw)
        except httpx.HTTPError as exc:
            log.warning("the bridge at %s did not answer: %r", base, exc)
            raise AppError(
                503, "bridge_unavailable", "The video bridge cannot be reached; try again shortly."
            ) from exc
        if response.is_error:
            raise _refusal(response)
        return response


def _refusal(response: httpx.Response) -> AppError:
    """The bridge's own refusal (see `standalone.untranslated`), or its failure as ours."""
    try:
        body = response.json()
        code, message, params = body["code"], body["message"], body["params"]
        return AppError(response.status_code, code, message, **params)
    except (ValueError, KeyError, TypeError):
        log.error("the bridge failed: %s %s", response.status_code, response.text[:200])
        return AppError(502, "bridge_failed", "The video bridge failed; see its log.")
