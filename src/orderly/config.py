"""Runtime configuration, read once from the environment (prefix ``APP_``) and ``.env``.

Nothing imports a global settings object: ``create_app`` (or the CLI) loads one and
hands it down.
"""

from __future__ import annotations

import json
import math
import secrets
import zlib
from collections import Counter
from functools import cached_property
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Values people paste from tutorials; a secret equal to one of these is no secret.
WEAK_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "secret",
        "secret-key",
        "your-secret-key",
        "supersecret",
        "password",
        "development",
        "test",
    }
)
MIN_SECRET_LENGTH = 32
MIN_SECRET_BITS = 128
HOW_TO_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class SettingsError(ValueError):
    """Configuration that must stop the process before it serves anything."""


def _split_list(value: object) -> object:
    """Accept a JSON list or a comma-separated string for list settings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


StrList = Annotated[list[str], NoDecode]


def estimated_entropy_bits(secret: str) -> float:
    """About how many random bits ``secret`` holds, judged from the text alone.

    Two measures, multiplied. The Shannon entropy of its characters times its length
    counts how many distinct characters it uses and how evenly (``"abcd" * 9``: 2 bits
    a character, 72 bits). Repetition is judged by compression: deflate with
    back-references against deflate without them (Huffman only) on the same text. A
    repeated word or fragment shrinks (0.32-0.66 for the weak keys in the tests), random
    text does not (at least 0.91 in 100,000 ``token_urlsafe``/``token_hex`` each).

    Measured over 200,000 keys each: ``token_urlsafe(32)`` 180-230 bits and
    ``token_hex(32)`` 216-255, never near ``MIN_SECRET_BITS``; a word repeated, ``"abcd"
    * 9`` or a phrase of few distinct characters 0-105. The estimate is conservative for
    short keys: ``token_hex(16)`` (32 hex characters, 128 random bits) always falls
    short, and ``token_urlsafe(24)`` does once in ~3,600.
    """
    length = len(secret)
    if length == 0:
        return 0.0
    per_character = -sum(
        count / length * math.log2(count / length) for count in Counter(secret).values()
    )
    data = secret.encode()
    repetition = _deflated_size(data, zlib.Z_DEFAULT_STRATEGY) / _deflated_size(
        data, zlib.Z_HUFFMAN_ONLY
    )
    return per_character * length * min(1.0, repetition)


def _deflated_size(data: bytes, strategy: int) -> int:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9, strategy)
    return len(compressor.compress(data) + compressor.flush())


def _secret_weakness(secret: str) -> str | None:
    """Why ``secret`` is not good enough to sign tokens with, or None."""
    if not secret:
        return "it is not set"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"it has {len(secret)} characters"
    if secret.lower() in WEAK_SECRETS:
        return "it is a well-known placeholder"
    bits = estimated_entropy_bits(secret)
    if bits < MIN_SECRET_BITS:
        return (
            f"it holds about {bits:.0f} bits of entropy, fewer than {MIN_SECRET_BITS}: "
            "too few distinct characters, or repeated fragments"
        )
    return None


def _check_secret(name: str, secret: str) -> None:
    weakness = _secret_weakness(secret)
    if weakness is not None:
        raise SettingsError(
            f"{name} must be at least {MIN_SECRET_LENGTH} random characters when "
            f"APP_ENVIRONMENT=production ({weakness}); generate one with `{HOW_TO_GENERATE}`"
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="APP_",
        env_file=".env",
        extra="ignore",
        case_sensitive=False,
        # A refused configuration must not print the secrets it was given: pydantic
        # otherwise puts every input value in the error's text (and a traceback).
        hide_input_in_errors=True,
    )

    app_name: str = "Orderly"
    environment: Environment = "development"
    debug: bool = False

    database_url: str = "sqlite+aiosqlite:///./orderly.db"
    db_echo: bool = False
    # A fixed pool: overflow connections are opened and closed under load, and each
    # asyncpg connect (with its SSL negotiation) costs more than the query it serves.
    # Small per worker: more connections than the database can run at once only queue
    # inside it. Measured (1 worker, 2 cores, 64 clients ordering one item): pool 20
    # left the worker a quarter idle behind the item's row lock, 127-146 orders/s; pools of
    # 5-10 kept it busy, 177-249/s; at 256 clients 133/s and 221 timeouts vs 229/s and
    # 8. Raise it with the cores of the database, not with the clients.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=0, ge=0)
    # Short on purpose: a request that cannot get a connection fails fast with 503
    # instead of queueing behind a saturated pool until the client gives up.
    db_pool_timeout: float = Field(default=5.0, gt=0)
    db_pool_recycle: int = Field(default=1800, ge=-1)
    # Off by default: on asyncpg a ping is BEGIN + ";" + ROLLBACK, three round trips on
    # every checkout (a third of a cached-off read). Without it, a connection that died
    # (database restart, idle kill) fails the one request that meets it with 503
    # DATABASE_UNAVAILABLE, and SQLAlchemy discards the pool's older connections.
    db_pool_pre_ping: bool = False
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # PostgreSQL: every statement is bounded by the server (statement_timeout, which
    # counts lock waits) and, a second later, by the client (asyncpg command_timeout),
    # which is what notices a host that stopped answering altogether. Either way the
    # request gets 503 DATABASE_UNAVAILABLE instead of waiting as long as the outage.
    # 5 s: our statements take milliseconds; one still running after 5 s is stuck.
    db_statement_timeout_seconds: float = Field(default=5.0, gt=0)
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    # A transaction left open and idle (a handler stuck between statements, a frozen
    # worker) keeps its row locks: the server ends it after this long.
    db_idle_in_transaction_timeout_seconds: float = Field(default=30.0, gt=0)

    redis_url: str | None = None
    redis_prefix: str = "orderly:"
    redis_max_connections: int = Field(default=64, ge=1)
    redis_pool_timeout: float = Field(default=5.0, gt=0)
    # Each command and each connect is bounded (redis-py's default is 5 s): a Redis that
    # stopped answering costs a request this long, then it is bypassed or refused. 2 s,
    # not 1: on a loaded 2-core machine an event-loop stall past 1 s let the timeout fire
    # against a healthy Redis (a JWT request answered 503 REDIS_UNAVAILABLE in a full run).
    redis_socket_timeout_seconds: float = Field(default=2.0, gt=0)
    redis_connect_timeout_seconds: float = Field(default=2.0, gt=0)

    secret_key: SecretStr | None = None
    # Old signing keys still accepted for verification while tokens signed with them
    # expire; new tokens are always signed with ``secret_key``.
    previous_secret_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_ttl_seconds: int = Field(default=900, ge=30)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=60)
    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_memory_kib: int = Field(default=19456, ge=1024)
    # One hash at a time: each Argon2 hash holds memory_kib of RAM while it runs, and
    # logins are rare next to other requests.
    password_hash_workers: int = Field(default=1, ge=1)
    # A login (register, password change) that would wait longer than this for its hash
    # is refused at once with 503 + Retry-After instead of hanging in the queue.
    password_hash_max_wait_seconds: float = Field(default=1.0, gt=0)

    cors_origins: StrList = Field(default_factory=list)
    cors_allow_credentials: bool = False
    allowed_hosts: StrList = Field(default_factory=lambda: ["*"])

    log_format: Literal["json", "console"] | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    health_timeout_seconds: float = Field(default=2.0, gt=0)
    cache_enabled: bool = True
    cache_ttl_seconds: int = Field(default=30, ge=1)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    # How often the relay looks for events committed by other processes; its own
    # process's commits wake it at once (events/relay.py).
    relay_poll_seconds: float = Field(default=1.0, gt=0)

    # Plans and traffic protection (SPEC "Plans and traffic protection").
    # JSON merged over the plans' default limits (orderly.tenants.plans), e.g.
    # {"enterprise": {"requests_per_minute": 100000000}}; null means unlimited.
    plan_limits: Annotated[dict[str, dict[str, int | bool | None]], NoDecode] = Field(
        default_factory=dict
    )
    rate_limit_enabled: bool = True
    # Proxies whose X-Forwarded-For is believed (CIDRs); empty: the socket peer only.
    trusted_proxies: StrList = Field(default_factory=list)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1)

    # Background jobs (README "Jobs and the worker"). None = decide from the mode: the
    # API process runs jobs itself without Redis, and leaves them to `orderly worker`
    # with it. True with Redis: the API process also runs a SAQ worker (tests, a
    # single-box deployment).
    worker_in_process: bool | None = None
    worker_concurrency: int = Field(default=10, ge=1)
    # SIGTERM: running jobs get this long to finish, then they are cancelled and put
    # back in the queue. Below the usual orchestrator kill delay (30 s).
    worker_shutdown_grace_seconds: float = Field(default=25.0, gt=0)
    # An order not paid this long after it was placed expires and its stock comes back.
    order_payment_ttl_seconds: int = Field(default=1800, ge=60)

    # Webhooks (SPEC "Webhooks"). Seconds before each retry, comma-separated; after the
    # last, a delivery has failed for good. Each delay gets +/- 20 % jitter.
    webhook_retry_schedule: str = "5,300,1800,7200,18000,36000,36000"
    # Development and tests only: lets webhook URLs reach loopback and private networks.
    webhook_allow_private_networks: bool = False
    # Total time for one delivery (connect at most 5 s of it); then it is a failure.
    webhook_timeout_seconds: float = Field(default=15.0, gt=0, le=60)
    # How often stuck deliveries (pending past their time, their job lost) are re-queued.
    webhook_sweep_seconds: float = Field(default=30.0, gt=0)

    # Live events (SSE, WebSocket). The heartbeat is also how soon a gone client is
    # noticed when its disconnect was not seen; tests shorten it.
    live_heartbeat_seconds: float = Field(default=15.0, gt=0)
    # Events waiting for one connection before a WebSocket is closed with 1013 (an SSE
    # stream re-reads from the database instead): never buffered without bound.
    live_max_pending_events: int = Field(default=1000, ge=1)
    # Events arriving within this window are fanned out together: one wake-up and one
    # write per stream for all of them (live.hub). 0: each at once.
    live_coalesce_ms: float = Field(default=50.0, ge=0, le=1000)

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _retry_schedule(cls, value: str) -> str:
        try:
            delays = [float(part) for part in value.split(",") if part.strip()]
        except ValueError:
            delays = []
        if not delays or any(delay < 0 for delay in delays):
            raise ValueError("APP_WEBHOOK_RETRY_SCHEDULE: seconds, comma-separated (5,300,1800)")
        return value

    @field_validator(
        "cors_origins", "allowed_hosts", "previous_secret_keys", "trusted_proxies", mode="before"
    )
    @classmethod
    def _lists_from_env(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("plan_limits", mode="before")
    @classmethod
    def _plan_limits_from_env(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.environment == "production":
            if self.debug:
                raise SettingsError("APP_DEBUG must be off when APP_ENVIRONMENT=production")
            _check_secret(
                "APP_SECRET_KEY", self.secret_key.get_secret_value() if self.secret_key else ""
            )
            # Old keys still verify tokens: a weak one forges them just as well.
            for number, key in enumerate(self.previous_secret_keys, start=1):
                _check_secret(f"APP_PREVIOUS_SECRET_KEYS entry {number}", key.get_secret_value())
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise SettingsError(
                "APP_CORS_ORIGINS='*' cannot be combined with APP_CORS_ALLOW_CREDENTIALS=true: "
                "browsers reject it and it would expose credentialed responses to any site"
            )
        return self

    @model_validator(mode="after")
    def _check_jobs(self) -> Settings:
        if self.worker_in_process is False and self.redis_url is None:
            raise SettingsError(
                "APP_WORKER_IN_PROCESS=false needs APP_REDIS_URL: without Redis there is "
                "no queue for `orderly worker` to read, so jobs would never run"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def runs_jobs_in_process(self) -> bool:
        """Whether this process runs jobs (and periodic jobs) itself."""
        if self.worker_in_process is None:
            return self.redis_url is None
        return self.worker_in_process

    @property
    def effective_log_format(self) -> Literal["json", "console"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "console"

    @cached_property
    def signing_key(self) -> str:
        """The key new tokens are signed with (generated per process if none was set)."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return secrets.token_urlsafe(48)

    @property
    def verification_keys(self) -> list[str]:
        return [self.signing_key, *(k.get_secret_value() for k in self.previous_secret_keys)]


def load_settings() -> Settings:
    return Settings()
