"""Configuration: every setting is an environment variable prefixed METRICS_CONNECT_."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

ENV_PREFIX = "METRICS_CONNECT_"


class NetworkSettingsSource(PydanticBaseSettingsSource):
    """The settings the networks declare in their network.yaml (their API hosts) and those
    derived for each OAuth provider (<name>_client_id...), read from the environment like
    the others (a provider's older names too) or left at their defaults."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        from metrics_connect.networks.registry import provider_settings, settings_specs

        out: dict[str, Any] = {
            name: os.environ.get(f"{ENV_PREFIX}{name.upper()}", default)
            for name, default, _ in settings_specs()
        }
        for name, default, aliases in provider_settings():
            value = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
            for alias in aliases:
                value = (
                    value if value is not None else os.environ.get(f"{ENV_PREFIX}{alias.upper()}")
                )
            out[name] = value if value is not None else default
        return out


class Settings(BaseSettings):
    # extra="allow": the networks' own settings (NetworkSettingsSource) live beside these;
    # read them with `network_setting`.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="allow")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            NetworkSettingsSource(settings_cls),
        )

    # Storage
    database_url: str = Field(
        default="sqlite:///./var/metrics-connect.db",
        description="SQLAlchemy URL. sqlite:///path (embedded) or postgresql://user@host/db.",
    )
    data_dir: Path = Field(default=Path("./var"), description="Where embedded files live.")
    credentials_key: str | None = Field(
        default=None,
        description="Fernet key (urlsafe base64, 32 bytes) encrypting integration credentials.",
    )
    credentials_key_file: Path | None = Field(
        default=None, description="File holding the Fernet key, if credentials_key is unset."
    )

    # HTTP
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL used in session links."
    )
    max_body_bytes: int = Field(default=1024 * 1024, description="Largest request body.")
    log_level: str = Field(default="INFO", description="Log level.")
    log_json: bool = Field(default=True, description="JSON logs (false: console).")

    # Rate limits and shared state
    redis_url: str | None = Field(
        default=None, description="Redis URL for rate limits and cross-process locks."
    )
    default_rate_limit_per_second: int = Field(default=10)
    default_rate_limit_per_minute: int = Field(default=600)
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long an API process reuses an authenticated token (0: never).",
    )

    # Customers
    trial_days: int = Field(default=7)
    session_ttl_seconds: int = Field(default=300, description="Connect-session lifetime.")

    # Metrics engine
    max_range_days: int = Field(default=3 * 366, description="Longest allowed period.")
    fetch_concurrency: int = Field(default=4, description="Upstream calls at once per integration.")
    request_time_budget_seconds: float = Field(default=30.0)
    upstream_retry_budget_seconds: float = Field(default=20.0)
    upstream_timeout_seconds: float = Field(default=15.0)

    # Networks (each network adds its API host setting: see its network.yaml)
    graph_api_version: str = Field(
        default="v27.0", description="Graph/Marketing API version (the newest, 2026-11-04)."
    )
    sync_interval_seconds: int = Field(
        default=900, description="Next sync run of an integration whose network names no time."
    )
    sync_enabled: bool = Field(default=True)
    sync_concurrency: int = Field(
        default=16, description="Sync runs at once per process (embedded) or per worker."
    )
    sync_network_concurrency: int = Field(
        default=8, description="Sync runs of one network at once per process."
    )
    sync_batch_size: int = Field(default=100, description="Due integrations claimed per round.")
    sync_lease_seconds: float = Field(
        default=600.0, description="A claim on a due integration; a dead runner's resumes after."
    )
    sync_poll_seconds: float = Field(
        default=5.0, description="Longest pause of a sync scheduler between looks for due work."
    )
    sync_retry_seconds: float = Field(
        default=300.0, description="A failed sync run is tried again after this long."
    )
    sync_quota_percent: float = Field(
        default=80.0, description="Upstream usage at or above which an account's next run waits."
    )
    sync_quota_pause_seconds: float = Field(
        default=900.0, description="How long an account near its upstream quota waits."
    )
    sync_queue_name: str = Field(default="metrics_connect_sync", description="Dramatiq queue.")

    # Async jobs and webhooks
    broker_url: str | None = Field(
        default=None, description="redis://... or amqp://...; unset: in-process queue."
    )
    webhook_timeout_seconds: float = Field(default=10.0)
    webhook_allowlist: str = Field(
        default="", description="Comma-separated hosts or CIDRs allowed despite the SSRF guard."
    )
    webhook_retry_schedule: str = Field(
        default="5,30,120,600,1800,3600,7200,14400,28800,28800",
        description="Seconds between delivery attempts (jittered); about a day in all.",
    )
    webhook_retry_jitter: float = Field(
        default=0.2, description="Each retry delay is scaled by a random factor in 1 +/- this."
    )
    job_lease_seconds: float = Field(
        default=60.0, description="A worker's claim on a job; a dead worker's job resumes after."
    )
    job_sweep_interval_seconds: float = Field(
        default=15.0, description="How often workers look for stalled or lost jobs."
    )
    job_requeue_after_seconds: float = Field(
        default=300.0, description="A due, unclaimed job is re-dispatched after this long."
    )
    job_queue_name: str = Field(default="metrics_connect_jobs", description="Dramatiq queue.")
    job_embedded_concurrency: int = Field(
        default=8, description="Jobs run at once in-process when no broker is configured."
    )
    worker_threads: int = Field(default=8, description="Dramatiq threads per worker process.")
    # OAuth providers (connect page): derived per declared provider, see
    # networks/registry.py provider_settings (facebook_login_client_id, google_token_url...).


def network_setting(settings: Settings, name: str) -> str:
    """A setting a network declares (its API host, say)."""
    value = getattr(settings, name, None)
    if not isinstance(value, str):
        raise KeyError(f"no network setting {name!r}")
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
