"""What makes the reader an app on the tablet: the web app manifest and the service worker
(web/static/js/sw.js), served from the root so the worker's scope covers every page."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

import web
from server.i18n import translate

WORKER = web.STATIC / "js" / "sw.js"


@get("/sw.js")
async def service_worker() -> Response[bytes]:
    """The worker is checked for updates on every load: never cached by the browser."""
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return Response(WORKER.read_bytes(), media_type="text/javascript", headers=headers)


@get("/manifest.webmanifest")
async def manifest(request: Request) -> Response[dict[str, Any]]:
    icons = [
        {"src": f"/static/icons/phonghop-{n}.png", "sizes": f"{n}x{n}", "type": "image/png"}
        for n in (192, 512)
    ]
    body = {
        "name": translate(request, "Paperless meeting room"),
        "short_name": "phonghop",
        "start_url": "/meetings",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3261e",
        "icons": icons,
    }
    return Response(body, media_type="application/manifest+json")


ROUTES = [service_worker, manifest]
