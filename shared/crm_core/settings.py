"""Typed settings: one tree, read from the environment with the ``CRM_`` prefix.

Nested groups use ``__`` (``CRM_AUTH__ACCESS_TOKEN_TTL_SECONDS=600``). Nothing reads
``os.environ`` elsewhere; code that needs a setting receives a ``Settings`` object.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class TraceExporter(StrEnum):
    none = "none"
    console = "console"
    otlp = "otlp"


class DatabaseSettings(BaseModel):
    pool_size: int = Field(5, ge=1, le=100, description="Connections kept per process")
    max_overflow: int = Field(5, ge=0, le=100)
    statement_timeout_ms: int = Field(15_000, ge=100, description="Per-transaction SQL limit")
    echo: bool = False


class AuthSettings(BaseModel):
    issuer: str = "crm"
    audience: str = "crm-api"
    access_token_ttl_seconds: int = Field(900, ge=30, le=86_400)
    leeway_seconds: int = Field(30, ge=0, le=120)
    key_cache_seconds: int = Field(
        60, ge=1, le=3_600, description="How often each process re-reads the signing keys"
    )
    refresh_token_ttl_seconds: int = Field(
        14 * 86_400, ge=60, description="Lifetime of one refresh token (each use rotates it)"
    )
    refresh_family_ttl_seconds: int = Field(
        30 * 86_400, ge=60, description="Absolute lifetime of a sign-in, however often refreshed"
    )
    password_reset_ttl_seconds: int = Field(1_800, ge=60, le=86_400)
    password_reset_url: str = Field(
        "http://127.0.0.1:8000/reset-password",
        description="Page of the reset link; the token travels in the URL fragment",
    )
    login_free_failures: int = Field(
        5, ge=1, le=100, description="Failed sign-ins per e-mail before delays start"
    )
    login_ip_free_failures: int = Field(
        100, ge=1, le=100_000, description="Failed sign-ins per IP (IPv6: per /64) before delays"
    )
    login_delay_base_seconds: float = Field(
        1.0, gt=0, le=60, description="First delay; it doubles with each further failure"
    )
    login_delay_max_seconds: float = Field(
        900.0, gt=0, le=86_400, description="Cap of the delay: no failure count locks for longer"
    )
    login_failure_window_seconds: float = Field(
        3_600.0, gt=0, le=7 * 86_400, description="Failures are forgotten after this long quiet"
    )
    invitation_ttl_seconds: int = Field(
        7 * 86_400, ge=3_600, le=90 * 86_400, description="How long a member invitation works"
    )
    invitation_url: str = Field(
        "http://127.0.0.1:8000/invite",
        description="Base of the invitation link; the token is appended as /<token>",
    )
    reset_requests_free: int = Field(
        3, ge=1, le=100, description="Reset mails per e-mail per window before they are held back"
    )


class SecuritySettings(BaseModel):
    master_key: SecretStr | None = Field(
        None,
        description="32 bytes, base64: encrypts keys and secrets at rest; generated under the data dir outside production",
    )


class SsoSettings(BaseModel):
    """Per-tenant OpenID Connect sign-in (``/auth/sso/…``)."""

    cookie_secret: SecretStr | None = Field(
        None,
        description="Signs the short-lived SSO flow cookie; required in production (SSO answers 503 "
        "without it), a random per-process value otherwise",
    )
    callback_url: str | None = Field(
        None,
        description="Public URL of /auth/sso/callback as registered at the providers; "
        "default: derived from the request",
    )
    flow_ttl_seconds: int = Field(
        600, ge=60, le=3_600, description="How long a sign-in may take between redirect and return"
    )
    id_token_leeway_seconds: int = Field(
        10, ge=0, le=60, description="Clock skew allowed on the id token's exp/iat/nbf"
    )
    metadata_ttl_seconds: int = Field(
        3_600, ge=60, description="How long a provider's discovery document and keys are cached"
    )
    http_timeout_seconds: float = Field(10.0, gt=0, le=60)


class GraphQLSettings(BaseModel):
    graphiql: bool | None = Field(None, description="Default: on outside production")
    introspection: bool | None = Field(None, description="Default: on outside production")
    max_depth: int = Field(10, ge=2, le=50)
    max_aliases: int = Field(30, ge=1, le=500)
    max_page_size: int = Field(100, ge=1, le=1000)
    max_cost: int = Field(50_000, ge=100, description="Product of page sizes over nested lists")


class WorkerSettings(BaseModel):
    threads: int = Field(4, ge=1, le=64)
    namespace: str = Field("crm", pattern=r"^[a-z0-9_:-]{1,40}$", description="Redis key prefix")
    heartbeat_timeout_ms: int = Field(15_000, ge=1_000)
    dead_message_ttl_ms: int = Field(7 * 86_400_000, ge=60_000)
    shutdown_grace_seconds: int = Field(
        30, ge=1, le=3_600, description="On SIGTERM, how long running messages may take to finish"
    )
    scheduler_tick_seconds: int = Field(
        60, ge=1, le=3_600, description="Scheduler: how often per-tenant schedules are checked"
    )
    health_port: int = Field(
        0,
        ge=0,
        le=65_535,
        description="Worker and scheduler: port of the /healthz and /readyz listener (0: none)",
    )
    health_host: str = Field(
        "127.0.0.1", description="Address of that listener (0.0.0.0 in images)"
    )


class BackupSettings(BaseModel):
    """Per-tenant logical backups (``crm_core.backups``)."""

    storage: str = Field(
        "local", pattern=r"^(local|s3)$", description="Where new backups go: local or s3"
    )
    local_dir: Path | None = Field(
        None, description="Local backup folder; default <data_dir>/backups"
    )
    s3_bucket: str | None = None
    s3_prefix: str = Field("crm-backups", pattern=r"^[A-Za-z0-9._/-]{0,200}$")
    s3_endpoint_url: str | None = Field(
        None, description="S3-compatible endpoint (MinIO, SeaweedFS…)"
    )
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    compression_level: int = Field(3, ge=1, le=19, description="zstd level")
    keep_daily: int = Field(
        7, ge=0, le=3_650, description="Default: newest backup of the last N days"
    )
    keep_days: int = Field(
        7, ge=0, le=3_650, description="Default: every backup younger than N days"
    )
    stale_after_seconds: int = Field(
        6 * 3_600, ge=60, description="A backup still running after this long is marked failed"
    )


class JobSettings(BaseModel):
    """The job machinery (``crm_core.jobs``) and the scheduler's upkeep of it."""

    heartbeat_seconds: float = Field(
        5.0, gt=0, le=300, description="How often a running job writes its heartbeat"
    )
    stale_after_seconds: float = Field(
        60.0,
        gt=0,
        le=3_600,
        description="A running job silent this long is requeued (its worker died)",
    )
    requeue_queued_after_seconds: float = Field(
        600.0, gt=0, description="A queued job not started this long after its time is re-sent"
    )
    maintenance_interval_seconds: float = Field(
        5.0, gt=0, le=300, description="Scheduler: outbox relay and job/mail sweeps, per tenant"
    )
    relay_after_seconds: float = Field(
        5.0, ge=0, le=300, description="Outbox rows unsent this long are sent by the relay"
    )
    notifications_interval_seconds: int = Field(
        300, ge=10, le=86_400, description="Default period of the notification scans per tenant"
    )


class TransferSettings(BaseModel):
    """Imports and exports (``crm_core.imports``, ``crm_core.exports``) and their files."""

    files_dir: Path | None = Field(
        None, description="Uploaded and generated files, per tenant; default <data_dir>/files"
    )
    max_upload_bytes: int = Field(
        200 * 1024 * 1024, ge=1, description="Largest file POST /files accepts"
    )
    chunk_rows: int = Field(500, ge=1, le=10_000, description="Import rows merged per transaction")
    file_ttl_seconds: int = Field(
        7 * 86_400, ge=60, description="How long uploads, reports and exports are kept"
    )


class SmtpSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class MailSettings(BaseModel):
    """Outgoing mail (``crm_core.mail``): SMTP through aiosmtplib."""

    host: str = "127.0.0.1"
    port: int = Field(1025, ge=1, le=65_535, description="1025: the development sink of crm up")
    security: SmtpSecurity = SmtpSecurity.none
    username: str | None = None
    password: SecretStr | None = None
    timeout_seconds: float = Field(30.0, gt=0, le=300)
    from_address: str = Field(
        "noreply@crm.localhost", description="Default sender; tenants override"
    )
    from_name: str = "CRM"
    message_id_domain: str | None = Field(
        None, description="Right-hand side of Message-IDs (default: the sender's domain)"
    )
    max_attempts: int = Field(6, ge=1, le=50)
    retry_base_seconds: float = Field(30.0, gt=0, le=3_600)
    sending_stale_seconds: float = Field(
        120.0,
        gt=0,
        le=86_400,
        description="A mail 'sending' this long is sent again (same Message-ID)",
    )
    dev_sink: bool = Field(True, description="crm up (development): run a local SMTP sink")
    unsubscribe_url: str = Field(
        "http://127.0.0.1:8000/u",
        description="Base of the unsubscribe link of notifications; the token is appended",
    )


class SurveySettings(BaseModel):
    """Satisfaction surveys (``crm_core.surveys``): the public response link and its limits."""

    public_url: str = Field(
        "http://127.0.0.1:8000/s",
        description="Base of the public response link; the token is appended as /<token>",
    )
    link_ttl_days: int = Field(30, ge=1, le=365, description="How long an invitation link works")
    reminder_after_days: int = Field(
        3,
        ge=1,
        le=60,
        description="Days before the one reminder (a tenant sets surveys.reminder_after_days)",
    )
    scan_interval_seconds: int = Field(
        3_600, ge=10, description="How often the scheduler sends each tenant its survey scan"
    )
    ip_requests_per_minute: int = Field(
        30, ge=1, le=10_000, description="Public page requests per client IP (IPv6: /64)"
    )
    token_requests_per_hour: int = Field(
        20, ge=1, le=10_000, description="Public page requests per link"
    )
    max_manual_customers: int = Field(200, ge=1, le=1_000, description="sendSurvey bound")


class TelemetrySettings(BaseModel):
    exporter: TraceExporter = TraceExporter.none
    otlp_endpoint: str = "http://127.0.0.1:4318"
    service_namespace: str = "crm"
    metrics_interval_seconds: float = Field(
        15.0, gt=0, le=3_600, description="How often metrics are pushed to the exporter"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CRM_", env_nested_delimiter="__", extra="ignore", env_file=None
    )

    environment: Environment = Environment.development
    database_url: SecretStr | None = Field(
        None, description="postgresql+asyncpg://… ; unset → embedded PostgreSQL (crm up only)"
    )
    redis_url: SecretStr | None = Field(None, description="redis://… ; unset → embedded Valkey")
    data_dir: Path = Field(Path(".data"), description="Embedded servers, generated keys")
    default_phone_region: str = Field("CN", pattern=r"^[A-Z]{2}$")
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_json: bool = False

    db: DatabaseSettings = DatabaseSettings()
    auth: AuthSettings = AuthSettings()
    security: SecuritySettings = SecuritySettings()
    sso: SsoSettings = SsoSettings()
    graphql: GraphQLSettings = GraphQLSettings()
    worker: WorkerSettings = WorkerSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    jobs: JobSettings = JobSettings()
    mail: MailSettings = MailSettings()
    surveys: SurveySettings = SurveySettings()
    backups: BackupSettings = BackupSettings()
    transfer: TransferSettings = TransferSettings()

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    def require_database_url(self) -> str:
        if self.database_url is None:
            raise RuntimeError("CRM_DATABASE_URL is not set (crm up starts an embedded server)")
        return self.database_url.get_secret_value()

    def require_redis_url(self) -> str:
        if self.redis_url is None:
            raise RuntimeError("CRM_REDIS_URL is not set (crm up starts an embedded server)")
        return self.redis_url.get_secret_value()


def load_settings() -> Settings:
    return Settings()
