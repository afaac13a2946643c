"""Presence shared through the real Redis: a process that dies stops counting, and its people
are said to have gone offline once, by whichever live process notices first."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.cluster import redis_of
from server.live import presence
from server.live.presence import Presence
from server.settings import Settings
from tests.conftest import need

REDIS_URL = os.environ.get("PHONGHOP_TEST_REDIS", "redis://127.0.0.1:6379/0")


class Published:
    """Stands in for the hub: keeps what a process would send to the meeting's tablets."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    def publish(self, meeting_id: int, text: str, roles: list[str] | None = None) -> None:
        assert roles == ["chair", "secretary"]
        self.messages.append(json.loads(text))


@pytest.fixture
async def redis():
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except RedisError:
        await client.aclose()
        need(False, "Redis is not running on 127.0.0.1:6379")
    yield client
    await client.aclose()


async def test_a_dead_process_stops_counting_and_one_survivor_says_so(redis, monkeypatch):
    prefix = f"test-{secrets.token_hex(4)}"
    dead, first, second = (Presence(Published(), redis, prefix) for _ in range(3))
    with monkeypatch.context() as past:  # the dead process last wrote a TTL ago
        long_ago = time.time() - presence.TTL_S - 1
        past.setattr(presence.time, "time", lambda: long_ago)
        await dead.arrived(7, 101)
        await dead.share()
    await first.arrived(7, 202)
    await second.arrived(7, 303)
    await first.share()
    await second.share()
    await first.share()  # offline one share after the sweep, if still nowhere
    said = [m for p in (first, second) for m in p._hub.messages if not m["online"]]
    assert said == [{"type": "presence.changed", "user_id": 101, "online": False}]
    assert await first.online(7) == await second.online(7) == {202, 303}
    await redis.delete(f"{prefix}:online:7")  # a survivor that stalled past the TTL…
    monkeypatch.setattr(presence, "RENEW_EVERY_S", 0)
    await second.share()  # …says again that its people are here
    assert second._hub.messages[-1] == {"type": "presence.changed", "user_id": 303, "online": True}
    await redis.delete(f"{prefix}:online:7")


async def test_offline_only_when_the_last_device_anywhere_leaves(redis):
    prefix = f"test-{secrets.token_hex(4)}"
    a, b = Presence(Published(), redis, prefix), Presence(Published(), redis, prefix)
    await a.arrived(8, 5)
    await b.arrived(8, 5)
    await asyncio.gather(a.share(), b.share())
    await a.departed(8, 5)
    await a.share()
    await a.share()
    assert [m["online"] for m in a._hub.messages] == [True]  # still on b
    await b.departed(8, 5)
    await b.share()
    assert [m["online"] for m in b._hub.messages] == [True]  # not yet: maybe moving
    await b.share()
    assert b._hub.messages[-1] == {"type": "presence.changed", "user_id": 5, "online": False}
    assert await a.online(8) == set()


async def test_without_redis_a_process_counts_its_own_sockets():
    alone = Presence(Published())
    await alone.arrived(9, 1)
    await alone.arrived(9, 1)
    await alone.departed(9, 1)
    assert await alone.online(9) == {1}
    await alone.departed(9, 1)
    assert await alone.online(9) == set()
    assert [m["online"] for m in alone._hub.messages] == [True, True, False]


async def test_a_hall_connecting_at_once_is_counted_whole(tmp_path):
    """500 tablets arriving together wait for the process's few Redis connections."""
    settings = Settings(tmp_path, "sqlite://", "k", redis_url=REDIS_URL)
    client = redis_of(settings)
    try:
        await client.ping()
    except RedisError:
        need(False, "Redis is not running on 127.0.0.1:6379")
    hall = Presence(Published(), client, f"test-{secrets.token_hex(4)}")
    await asyncio.gather(*(hall.arrived(10, user_id) for user_id in range(500)))
    await hall.share()  # one round trip, however many came
    other = Presence(Published(), client, hall._prefix)  # another process's view of it
    assert len(await other.online(10)) == 500
    await asyncio.gather(*(hall.departed(10, user_id) for user_id in range(500)))
    await hall.share()
    await hall.share()
    assert len([m for m in hall._hub.messages if not m["online"]]) == 500
    assert await Presence(Published(), client, hall._prefix).online(10) == set()
    await client.aclose()


async def test_a_tablet_moving_to_another_server_is_not_said_to_go_offline(redis):
    prefix = f"test-{secrets.token_hex(4)}"
    left, joined = Presence(Published(), redis, prefix), Presence(Published(), redis, prefix)
    await left.arrived(11, 9)
    await left.share()
    await left.departed(11, 9)
    await left.share()  # gone from here, not yet written on the other server
    await joined.arrived(11, 9)
    await joined.share()
    await left.share()
    assert [m["online"] for m in left._hub.messages] == [True]
    await redis.delete(f"{prefix}:online:11")
