"""Settings from PHONGHOP_* environment variables, read once when the app is built."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo


def _env(name: str, default: str) -> str:
    return os.environ.get(f"PHONGHOP_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(f"PHONGHOP_{name}")
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"PHONGHOP_{name} must be an integer, got {raw!r}") from exc


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in _env(name, default).split(",") if part.strip()]


def turn_credentials(secret: str, user_id: int, expires: int) -> tuple[str, str]:
    """coturn's use-auth-secret (the TURN REST API): a username that names its expiry, and
    a password only whoever holds the secret can make; refused after `expires`."""
    username = f"{expires}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1)
    return username, base64.b64encode(digest.digest()).decode()


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str = ""  # several server processes share live events through Redis when set
    redis_prefix: str = "phonghop"  # channel names start with it: deployments can share a Redis
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: list[str] = field(default_factory=list)
    # OWASP's minimum Argon2id profile; RFC 9106's 64 MiB one is too slow for 500 logins at once.
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    session_idle_minutes: int = 240
    secure_cookies: bool = False
    login_max_failures: int = 5
    login_window_seconds: int = 300
    address_max_failures: int = 30
    max_upload_mb: int = 50
    ingest_timeout_s: int = 60  # opening and cleaning one upload, in a worker process
    ingest_memory_mb: int = 1024
    render_workers: int = 0  # page rendering processes; 0 = one per core
    log_level: str = "INFO"
    timezone: str = "Asia/Ho_Chi_Minh"  # the council's wall clock, for forms and documents
    stun_urls: list[str] = field(default_factory=list)  # handed to browsers for WebRTC
    turn_urls: list[str] = field(default_factory=list)  # e.g. turns:turn.example.vn:443
    turn_username: str = ""
    turn_password: str = ""
    turn_secret: str = ""  # coturn's static-auth-secret: short-lived credentials per user
    turn_ttl_s: int = 12 * 3600  # how long those credentials hold (a long session's day)
    bridge_encoding: str = "shared"  # "naive": an encoder per point, the benchmark's anchor
    conference_max_points: int = 60
    conference_connect_s: int = 30  # a point not connected this long after joining is let go
    # `phonghop bridge` processes; empty: this process runs the conferences itself.
    # A meeting's conference always lives in the same one: urls[meeting_id % len(urls)].
    bridge_urls: list[str] = field(default_factory=list)
    recorder_key: str = ""  # the recorder's bearer token for the bridge and its status route
    record_automatically: bool = False  # start recording when a meeting goes live
    recording_retention_days: int = 0  # `recordings prune` removes older ones; 0 keeps all
    recording_expected_minutes: int = 240  # disk space asked for before recording starts
    # Verification (server/verification.py, /verify): PEM files of the root certificates a
    # signature must chain to (the government CA's and the commercial CAs' roots).
    trusted_roots: list[str] = field(default_factory=list)
    # Digital signatures (server/signing, docs/SIGNING.md). The seal's key is a PKCS#12 file
    # whose password is read from PHONGHOP_SEAL_PASSWORD when it signs, never kept here;
    # people's keys live on PKCS#11 tokens: signing_tokens maps a username to the token's
    # label and the key's (and its certificate's) label; the PIN is typed at signing time.
    seal_p12: str = ""
    seal_image: str = ""  # a PNG of the seal, drawn in the seal's signature block
    pkcs11_module: str = ""  # e.g. /usr/lib/softhsm/libsofthsm2.so
    signing_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    tsa_url: str = ""  # an RFC 3161 timestamp server: signatures become PAdES B-T
    crls: list[str] = field(default_factory=list)  # CRL files (DER or PEM) that revoke
    # E-mail (server/mail.py): no host means no e-mail at all, and the pages say so. The
    # password is read from PHONGHOP_SMTP_PASSWORD when a message goes out, never kept here.
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_from: str = ""  # e.g. "HĐND phường Bến Thành <hdnd@benthanh.gov.vn>"
    smtp_starttls: bool = False
    smtp_timeout_s: int = 30
    # SMS and Zalo (server/messengers.py): "log" writes what would be sent to the log
    messenger: str = "log"
    # GET /metrics (server/metrics.py): with a bearer token, or from these addresses/networks
    metrics_token: str = ""
    metrics_allow: list[str] = field(default_factory=lambda: ["127.0.0.1", "::1"])

    def ice_servers(self, user_id: int) -> list[dict[str, object]]:
        """The STUN and TURN servers as a browser's RTCPeerConnection takes them."""
        servers: list[dict[str, object]] = []
        if self.stun_urls:
            servers.append({"urls": self.stun_urls})
        if self.turn_urls:
            username, credential = self.turn_username, self.turn_password
            if self.turn_secret:
                expires = int(time.time()) + self.turn_ttl_s
                username, credential = turn_credentials(self.turn_secret, user_id, expires)
            servers.append({"urls": self.turn_urls, "username": username, "credential": credential})
        return servers

    @property
    def bridge_key(self) -> str:
        """The servers' bearer token for the bridge: whoever shares the secret key has it."""
        return hmac.new(self.secret_key.encode(), b"phonghop bridge", hashlib.sha256).hexdigest()

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, host: str | None = None, port: int | None = None) -> Settings:
        """Settings from the environment; `host`/`port` from the command line win."""
        data_dir = Path(_env("DATA_DIR", "./data")).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        host = host or _env("HOST", "127.0.0.1")
        port = port or _env_int("PORT", 8000)
        origins = _env_list("ALLOWED_ORIGINS", f"http://{host}:{port},http://localhost:{port}")
        return cls(
            data_dir=data_dir,
            database_url=_env("DATABASE_URL", f"sqlite:///{data_dir / 'phonghop.db'}"),
            secret_key=_env("SECRET_KEY", "") or _kept_secret(data_dir, "secret_key"),
            redis_url=_env("REDIS_URL", ""),
            redis_prefix=_env("REDIS_PREFIX", "phonghop"),
            host=host,
            port=port,
            allowed_origins=origins,
            argon2_memory_kib=_env_int("ARGON2_MEMORY_KIB", 19 * 1024),
            argon2_time_cost=_env_int("ARGON2_TIME_COST", 2),
            argon2_parallelism=_env_int("ARGON2_PARALLELISM", 1),
            session_idle_minutes=_env_int("SESSION_IDLE_MINUTES", 240),
            secure_cookies=_env("SECURE_COOKIES", "false").lower() in ("1", "true", "yes"),
            login_max_failures=_env_int("LOGIN_MAX_FAILURES", 5),
            login_window_seconds=_env_int("LOGIN_WINDOW_SECONDS", 300),
            address_max_failures=_env_int("ADDRESS_MAX_FAILURES", 30),
            max_upload_mb=_env_int("MAX_UPLOAD_MB", 50),
            ingest_timeout_s=_env_int("INGEST_TIMEOUT_S", 60),
            ingest_memory_mb=_env_int("INGEST_MEMORY_MB", 1024),
            render_workers=_env_int("RENDER_WORKERS", 0),
            log_level=_env("LOG_LEVEL", "INFO").upper(),
            timezone=_env("TIMEZONE", "Asia/Ho_Chi_Minh"),
            stun_urls=_env_list("STUN_URLS", ""),
            turn_urls=_env_list("TURN_URLS", ""),
            turn_username=_env("TURN_USERNAME", ""),
            turn_password=_env("TURN_PASSWORD", ""),
            turn_secret=_env("TURN_SECRET", ""),
            turn_ttl_s=_env_int("TURN_TTL_S", 12 * 3600),
            bridge_encoding=_bridge_encoding(_env("BRIDGE_ENCODING", "shared")),
            conference_max_points=_env_int("CONFERENCE_MAX_POINTS", 60),
            conference_connect_s=_env_int("CONFERENCE_CONNECT_S", 30),
            bridge_urls=_env_list("BRIDGE_URLS", ""),
            recorder_key=_env("RECORDER_KEY", "") or _kept_secret(data_dir, "recorder_key"),
            record_automatically=_env("RECORD_AUTOMATICALLY", "false").lower()
            in ("1", "true", "yes"),
            recording_retention_days=_env_int("RECORDING_RETENTION_DAYS", 0),
            recording_expected_minutes=_env_int("RECORDING_EXPECTED_MINUTES", 240),
            trusted_roots=_env_list("TRUSTED_ROOTS", ""),
            seal_p12=_env("SEAL_P12", ""),
            seal_image=_env("SEAL_IMAGE", ""),
            pkcs11_module=_env("PKCS11_MODULE", ""),
            signing_tokens=_signing_tokens(_env_list("SIGNING_TOKENS", "")),
            tsa_url=_env("TSA_URL", ""),
            crls=_env_list("CRLS", ""),
            smtp_host=_env("SMTP_HOST", ""),
            smtp_port=_env_int("SMTP_PORT", 25),
            smtp_user=_env("SMTP_USER", ""),
            smtp_from=_env("SMTP_FROM", ""),
            smtp_starttls=_env("SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
            smtp_timeout_s=_env_int("SMTP_TIMEOUT_S", 30),
            messenger=_messenger(_env("MESSENGER", "log")),
            metrics_token=_env("METRICS_TOKEN", ""),
            metrics_allow=_networks(_env_list("METRICS_ALLOW", "127.0.0.1,::1")),
        )


def _bridge_encoding(value: str) -> str:
    if value not in ("shared", "naive"):
        raise SystemExit(f"PHONGHOP_BRIDGE_ENCODING must be shared or naive, got {value!r}")
    return value


def _networks(entries: list[str]) -> list[str]:
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise SystemExit(
                "PHONGHOP_METRICS_ALLOW: write addresses or networks such as 10.0.0.0/8, "
                f"got {entry!r}"
            ) from exc
    return entries


def _messenger(value: str) -> str:
    if value not in ("log",):
        raise SystemExit(f"PHONGHOP_MESSENGER must be log (see docs/INVITATIONS.md), got {value!r}")
    return value


def _signing_tokens(entries: list[str]) -> dict[str, tuple[str, str]]:
    """ "chutoa:Token of Binh:chutoa-key,thuky:Token 2:thuky-key" -> {username: (token, key)}."""
    found = {}
    for entry in entries:
        parts = [part.strip() for part in entry.split(":")]
        if len(parts) != 3 or not all(parts):
            raise SystemExit(
                f"PHONGHOP_SIGNING_TOKENS: write username:token label:key label, got {entry!r}"
            )
        found[parts[0].lower()] = (parts[1], parts[2])
    return found


def _kept_secret(data_dir: Path, name: str) -> str:
    """Generated on first start and kept in the data dir, so it survives restarts."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key
