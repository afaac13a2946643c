"""Several `phonghop serve` sharing one throwaway PostgreSQL database and one Redis
(`--two-servers`): the arguments that say where those are, and the servers' environment,
made for the run and removed afterwards. The servers themselves are harness.py's."""

from __future__ import annotations

import argparse
import contextlib
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import redis
from harness import HOST, Deadline, check_port_free, phonghop_command, progress, server_env


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """--two-servers, and where its PostgreSQL and Redis are."""
    parser.add_argument(
        "--two-servers", action="store_true", help="two servers on PostgreSQL + Redis"
    )
    add_database_arguments(parser)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="where the servers' throwaway database is created (and dropped)",
    )
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="shared live events")


@contextlib.contextmanager
def throwaway_database(admin_url: str, label: str) -> Iterator[str]:
    """A new PostgreSQL database for the block (its URL), dropped afterwards."""
    name = f"phonghop_bench_{label}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    progress(f"created the PostgreSQL database {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        progress(f"dropped the PostgreSQL database {name}")


@contextlib.contextmanager
def shared_environment(
    args: argparse.Namespace, data_dir: Path, ports: list[int], label: str, deadline: Deadline
) -> Iterator[dict[str, str]]:
    """The environment of servers that share one migrated throwaway PostgreSQL database, one
    Redis (under a prefix of their own), one secret key and one data dir."""
    for port in ports:
        check_port_free(port)
    prefix = f"bench-{label}-{secrets.token_hex(4)}"
    with (
        throwaway_database(args.postgres, label) as database_url,
        redis_keys_removed(args.redis, prefix),
    ):
        env = {
            **server_env(data_dir),
            "PHONGHOP_DATABASE_URL": database_url,
            "PHONGHOP_REDIS_URL": args.redis,
            "PHONGHOP_REDIS_PREFIX": prefix,
            "PHONGHOP_SECRET_KEY": secrets.token_urlsafe(32),
            "PHONGHOP_ALLOWED_ORIGINS": ",".join(f"http://{HOST}:{port}" for port in ports),
        }
        progress("migrating the database")
        phonghop_command(["db", "upgrade"], env, deadline)
        yield env


@contextlib.contextmanager
def redis_keys_removed(redis_url: str, prefix: str) -> Iterator[None]:
    """Whatever the servers left in Redis under `prefix` (presence, stores) goes at the end."""
    try:
        yield
    finally:
        with contextlib.suppress(redis.RedisError):
            with contextlib.closing(redis.Redis.from_url(redis_url)) as client:
                for key in client.scan_iter(match=f"{prefix}:*"):
                    client.delete(key)
