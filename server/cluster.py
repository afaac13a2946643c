"""What several servers of one council share: a Redis for live events and for state every
server must see alike. One process alone keeps both in memory."""

from __future__ import annotations

from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from redis.asyncio import BlockingConnectionPool, Redis

from server.settings import Settings

REDIS_CONNECTIONS = 32
REDIS_WAIT_S = 10.0


def redis_of(settings: Settings) -> Redis | None:
    """A Redis client whose connections are bounded: a burst (a hall of tablets connecting at
    once) waits for a free one instead of failing."""
    if not settings.redis_url:
        return None
    pool = BlockingConnectionPool.from_url(
        settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_S
    )
    return Redis(connection_pool=pool)


def channels_backend(redis: Redis | None) -> ChannelsBackend:
    """In memory for one process; Redis pub/sub when several processes share the meetings."""
    return RedisChannelsPubSubBackend(redis=redis) if redis else MemoryChannelsBackend()


def shared_store(settings: Settings, redis: Redis | None, name: str) -> Store:
    """State every server must see alike (failed logins, a book's progress)."""
    return (
        RedisStore(redis, namespace=f"{settings.redis_prefix}:{name}") if redis else MemoryStore()
    )
