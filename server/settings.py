"""Runtime settings: one frozen dataclass, read from the environment and overridden by CLI flags."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from server.auth.clientaddress import IPNetwork, parse_networks
from server.auth.iceurls import parse_ice_url
from server.webhooks.policy import DeliveryPolicy

REPO_ROOT = Path(__file__).resolve().parent.parent


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


class SettingsError(ValueError):
    """A configuration the app refuses to start with; the message says what to change."""


def _ice_problems(settings: Settings) -> list[str]:
    problems = []
    for variable, urls, want_turn in (
        ("ALMENVIDEO_STUN_URLS", settings.stun_urls, False),
        ("ALMENVIDEO_TURN_URLS", settings.turn_urls, True),
    ):
        for url in urls:
            try:
                parsed = parse_ice_url(url)
            except ValueError as malformed:
                problems.append(f"{variable}: {malformed}")
                continue
            if parsed.is_turn != want_turn:
                problems.append(f"{variable}: {url!r} belongs in the other list")
    if settings.turn_urls and not settings.turn_secret:
        problems.append(
            "ALMENVIDEO_TURN_URLS is set but ALMENVIDEO_TURN_SECRET is not: without coturn's "
            "static-auth-secret the app cannot hand out TURN credentials"
        )
    if settings.turn_secret and not settings.turn_urls:
        problems.append(
            "ALMENVIDEO_TURN_SECRET is set but ALMENVIDEO_TURN_URLS is not: say where coturn is"
        )
    if settings.turn_ttl_seconds <= 0:
        problems.append("ALMENVIDEO_TURN_TTL must be a positive number of seconds")
    return problems


def parse_sentinel(address: str) -> tuple[str, int]:
    """`host:port` or `[ipv6]:port` of one Sentinel; ValueError says what is wrong."""
    host, colon, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or (":" in host and not address.startswith("[")):
        raise ValueError(f"{address!r} is not host:port (write an IPv6 address as [addr]:port)")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{address!r} has no port number between 1 and 65535")
    return host, int(port)


def _redis_problems(settings: Settings) -> list[str]:
    problems = []
    if settings.redis_url and settings.redis_sentinels:
        problems.append(
            "REDIS_URL and REDIS_SENTINELS are both set: give one Redis address, or the "
            "Sentinels that know the master, not both"
        )
    for address in settings.redis_sentinels:
        try:
            parse_sentinel(address)
        except ValueError as malformed:
            problems.append(f"REDIS_SENTINELS: {malformed}")
    if not settings.redis_master or any(c.isspace() for c in settings.redis_master):
        problems.append(
            f"ALMENVIDEO_REDIS_MASTER: {settings.redis_master!r} is not a Sentinel master name"
        )
    if settings.durable_replicas is not None and settings.durable_replicas < 0:
        problems.append("ALMENVIDEO_DURABLE_REPLICAS must be 0 or more")
    if settings.durable_timeout_ms <= 0:
        problems.append("ALMENVIDEO_DURABLE_TIMEOUT_MS must be a positive number of milliseconds")
    return problems


def _proxy_problems(settings: Settings) -> list[str]:
    try:
        parse_networks(settings.trusted_proxies)
    except ValueError as wrong:
        return [f"ALMENVIDEO_TRUSTED_PROXIES: {wrong}"]
    return []


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("var")
    redis_url: str | None = None
    # Or the Sentinels (host:port) that know the master of this name: the client asks them
    # where the master is, and follows a failover by itself.
    redis_sentinels: tuple[str, ...] = ()
    redis_master: str = "almenvideo"
    redis_max_connections: int = 64
    # How many replicas must hold a money or consent write before it is acknowledged (WAIT),
    # and how long to wait for them. None: one with Sentinel (there is a replica), else none.
    durable_replicas: int | None = None
    durable_timeout_ms: int = 2000
    base_url: str | None = None
    instance_id: str = field(default_factory=lambda: secrets.token_hex(4))
    web_dir: Path = REPO_ROOT / "web"
    # ICE: no STUN/TURN by default, so nothing reaches outside the machine unless configured.
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl_seconds: int = 3600
    secure_cookies: bool = True
    session_ttl_seconds: int = 12 * 3600
    # A waiting patient whose browser has been gone this long has left the queue. A closed
    # tab is seen at once, a dead network within about 22 s (WebSocket ping); with the sweep
    # every 5 s, a patient who really left disappears from the GP's list within a minute.
    presence_grace_seconds: int = 30
    # Webhook retries, timeouts and concurrency (tests shrink them).
    webhook_policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    # Development and tests only: webhooks may also go to http(s)://localhost (a local LPS
    # simulator or test receiver). Production leaves it off: https to public addresses only.
    webhook_allow_local: bool = False
    # Networks of the reverse proxies whose X-Forwarded-For names the client (CIDRs). Empty:
    # the client is the TCP peer, and X-Forwarded-For is ignored (server.auth.clientaddress).
    trusted_proxies: tuple[str, ...] = ()
    # API requests per vendor key per minute; above it, 429 with Retry-After.
    api_rate_per_minute: int = 600
    # The AI note-taker (integrations/notetaker): which engine, its options, the language
    # asked for, and how long drafts and transcripts live at most (the LPS's ack deletes
    # them sooner). Offered only to clinics in the note-taker pilot.
    notetaker_engine: str = "pocketsphinx"
    notetaker_language: str = "da"
    notetaker_http_url: str = ""
    notetaker_http_token: str = ""
    notetaker_model_dir: str = ""
    notetaker_max_taps: int = 40
    note_retention_seconds: int = 7 * 24 * 3600
    # The key of the CPR hash (server.auth.cprkey): a file, never in Redis. Unset, the data
    # directory's cpr.key is used, and made on first start.
    cpr_key_file: Path | None = None

    def __post_init__(self) -> None:
        if problems := _ice_problems(self) + _redis_problems(self) + _proxy_problems(self):
            raise SettingsError("; ".join(problems))

    @cached_property
    def proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [parse_sentinel(address) for address in self.redis_sentinels]

    @property
    def replicas_to_wait(self) -> int:
        if self.durable_replicas is not None:
            return self.durable_replicas
        return 1 if self.redis_sentinels else 0

    @property
    def public_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if "ALMENVIDEO_HOST" in env:
            values["host"] = env["ALMENVIDEO_HOST"]
        if "ALMENVIDEO_PORT" in env:
            values["port"] = int(env["ALMENVIDEO_PORT"])
        if "ALMENVIDEO_DATA_DIR" in env:
            values["data_dir"] = Path(env["ALMENVIDEO_DATA_DIR"])
        if env.get("REDIS_URL"):
            values["redis_url"] = env["REDIS_URL"]
        values["redis_sentinels"] = _split(env.get("REDIS_SENTINELS"))
        if env.get("ALMENVIDEO_REDIS_MASTER"):
            values["redis_master"] = env["ALMENVIDEO_REDIS_MASTER"]
        if env.get("ALMENVIDEO_DURABLE_REPLICAS"):
            values["durable_replicas"] = int(env["ALMENVIDEO_DURABLE_REPLICAS"])
        if env.get("ALMENVIDEO_DURABLE_TIMEOUT_MS"):
            values["durable_timeout_ms"] = int(env["ALMENVIDEO_DURABLE_TIMEOUT_MS"])
        if env.get("ALMENVIDEO_BASE_URL"):
            values["base_url"] = env["ALMENVIDEO_BASE_URL"].rstrip("/")
        if env.get("ALMENVIDEO_CPR_KEY_FILE"):
            values["cpr_key_file"] = Path(env["ALMENVIDEO_CPR_KEY_FILE"])
        if env.get("ALMENVIDEO_INSTANCE_ID"):
            values["instance_id"] = env["ALMENVIDEO_INSTANCE_ID"]
        values["stun_urls"] = _split(env.get("ALMENVIDEO_STUN_URLS"))
        values["turn_urls"] = _split(env.get("ALMENVIDEO_TURN_URLS"))
        values["trusted_proxies"] = _split(env.get("ALMENVIDEO_TRUSTED_PROXIES"))
        if env.get("ALMENVIDEO_TURN_SECRET"):
            values["turn_secret"] = env["ALMENVIDEO_TURN_SECRET"]
        if env.get("ALMENVIDEO_TURN_TTL"):
            values["turn_ttl_seconds"] = int(env["ALMENVIDEO_TURN_TTL"])
        if env.get("ALMENVIDEO_PRESENCE_GRACE"):
            values["presence_grace_seconds"] = int(env["ALMENVIDEO_PRESENCE_GRACE"])
        if env.get("ALMENVIDEO_API_RATE"):
            values["api_rate_per_minute"] = int(env["ALMENVIDEO_API_RATE"])
        for name in ("engine", "language", "http_url", "http_token", "model_dir"):
            if env.get(f"ALMENVIDEO_NOTETAKER_{name.upper()}"):
                values[f"notetaker_{name}"] = env[f"ALMENVIDEO_NOTETAKER_{name.upper()}"]
        if env.get("ALMENVIDEO_NOTETAKER_MAX_TAPS"):
            values["notetaker_max_taps"] = int(env["ALMENVIDEO_NOTETAKER_MAX_TAPS"])
        if env.get("ALMENVIDEO_NOTE_RETENTION_DAYS"):
            values["note_retention_seconds"] = int(env["ALMENVIDEO_NOTE_RETENTION_DAYS"]) * 86400
        if "ALMENVIDEO_WEBHOOK_ALLOW_LOCAL" in env:
            values["webhook_allow_local"] = env["ALMENVIDEO_WEBHOOK_ALLOW_LOCAL"].lower() in (
                "1",
                "true",
            )
        if "ALMENVIDEO_SECURE_COOKIES" in env:
            values["secure_cookies"] = env["ALMENVIDEO_SECURE_COOKIES"].lower() not in (
                "0",
                "false",
            )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]  # each field parsed from its variable

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]  # any fields, by name
