"""The reader installs as an app: a manifest any browser accepts, and a service worker served
from the root (its scope covers every page), checked for updates on every load."""

from __future__ import annotations

import web


async def test_the_manifest_names_the_app_and_its_icons(client):
    answer = await client.get("/manifest.webmanifest")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/manifest+json")
    manifest = answer.json()
    assert manifest["name"] == "Phòng họp không giấy"  # Vietnamese first
    assert manifest["start_url"] == "/meetings" and manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        image = await client.get(icon["src"])
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


async def test_the_service_worker_is_served_from_the_root_and_never_cached(client):
    answer = await client.get("/sw.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["cache-control"] == "no-cache"
    assert answer.content == (web.STATIC / "js" / "sw.js").read_bytes()


async def test_every_page_links_the_manifest(client):
    login = await client.get("/login")
    assert '<link rel="manifest" href="/manifest.webmanifest">' in login.text
