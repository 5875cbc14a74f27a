"""One typed Settings object, read from ``BASTION_*`` environment variables.

Built in factories (``Settings.load()``), never at import time. Invalid values and unknown
``BASTION_*`` variables are errors: configuration fails closed, it never falls back silently.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bastion.errors import ConfigError

ENV_PREFIX = "BASTION_"
# Variables under this prefix belong to the test harness, not to the service.
_IGNORED_PREFIXES = ("BASTION_TEST_",)


class Settings(BaseSettings):
    """Every setting Bastion reads. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path("bastion-data"),
        description="Directory for the SQLite database, the secret key file and local outboxes.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Default: sqlite:///<data_dir>/bastion.db. "
        "Postgres: postgresql+psycopg://user@host:5432/db.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for salted prompt hashes and API-key hashing. Default: the key in "
        "<data_dir>/secret.key, created on first start.",
    )
    policy_file: Path | None = Field(
        default=None, description="A policy YAML file that replaces the built-in default policy."
    )
    prompt_max_chars: int = Field(
        default=4000, ge=1, le=100_000, description="Longest prompt accepted, in characters."
    )
    request_max_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1024,
        description="Largest HTTP request body accepted, in bytes.",
    )
    # -- issue 10: bounded public intake, idempotency, outbox, retention ------------------------
    request_read_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=600,
        description="Longest time a client may take to send a request body; slower requests "
        "get 408 and the connection is closed.",
    )
    notice_max_locations: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Most locations (URLs or content ids) one notice may name; each distinct "
        "item opens or joins one case.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where rate-limit counters live: memory:// (one process) or a Redis URL "
        "(redis://host:6379/0) shared by every replica.",
    )
    rate_limit_public: str = Field(
        default="10/minute;100/hour",
        description="Limits per client address on the public intake routes (POST /v1/notices, "
        "/v1/appeals, /report, /appeal), in the `limits` notation (N/second|minute|hour|day, "
        "several separated by ';').",
    )
    rate_limit_public_key: str = Field(
        default="120/minute",
        description="Limits per API key on the public intake routes (trusted flaggers, staff).",
    )
    rate_limit_service: str = Field(
        default="1200/minute",
        description="Limits per API key on every other /v1 route.",
    )
    anonymous_csa_priority_per_hour: int = Field(
        default=20,
        ge=0,
        description="Anonymous child-sexual-abuse notices per hour (all senders together) that "
        "may open a case at child-safety priority; later ones in the hour still open a "
        "child-safety case, queued at normal priority (repeated notices about one item always "
        "join its case).",
    )
    intake_challenge: Literal["none", "pow", "hook"] = Field(
        default="none",
        description="Anti-automation check on public intake: none (default, CAPTCHA-free), pow "
        "(a proof-of-work stamp in the X-Bastion-Proof header) or hook (intake_challenge_hook).",
    )
    intake_pow_bits: int = Field(
        default=18, ge=8, le=28, description="Leading zero bits a proof-of-work stamp needs."
    )
    intake_challenge_hook: str | None = Field(
        default=None,
        description="module:callable that verifies a public submission (for a CAPTCHA or token "
        "service); called with the request headers, raises bastion.errors.Forbidden to refuse.",
    )
    idempotency_ttl_hours: int = Field(
        default=24, ge=1, le=24 * 30, description="How long an Idempotency-Key is remembered."
    )
    outbox_lease_seconds: int = Field(
        default=300,
        ge=10,
        description="How long a sender holds the messages it claimed; an unfinished claim is "
        "taken over after it.",
    )
    outbox_poll_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often the in-process sender looks for queued messages besides being "
        "woken after each change.",
    )
    notice_retention_days: int = Field(
        default=730,
        ge=30,
        description="Days after which a decided notice's personal content (notifier, "
        "explanation, details) is removed by `bastion workflow prune`.",
    )
    outbox_retention_days: int = Field(
        default=30,
        ge=1,
        description="Days after which sent or failed messages and their .eml files are deleted.",
    )
    log_retention_days: int = Field(
        default=30, ge=1, description="Days after which files in <data_dir>/logs are deleted."
    )
    prompt_retention_hours: int = Field(
        default=0,
        ge=0,
        description="How long the clear text of allowed prompts is kept (0 = never stored). "
        "Blocked prompts are never stored in the clear; a salted hash and the matched "
        "terms are always kept.",
    )
    decision_writes: Literal["sync", "background"] = Field(
        default="background",
        description="Either way a check returns its decision only after it is committed; a "
        "database that fails makes checks fail with 503 `storage_unavailable` at once. "
        "`background`: one writer thread commits the decisions of concurrent checks together "
        "(one transaction and fsync for many). `sync`: every check commits its own decision.",
    )
    detector_timeout_ms: int = Field(
        default=2000, ge=1, description="Per-detector time limit; a detector past it blocks."
    )
    detector_threads: int = Field(
        default=4, ge=1, le=64, description="Worker threads for detectors that run off-thread."
    )
    detectors: list[str] | None = Field(
        default=None,
        description='JSON list of detector names to run, e.g. ["prompt_lexicon"]. '
        "Default: every registered detector that is enabled by default.",
    )
    detector_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='JSON object of per-detector options, e.g. {"prompt_lexicon": {...}}; '
        "validated by each detector's typed config.",
    )
    image_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=1024,
        description="Largest image accepted (input photo, output or upload), in bytes.",
    )
    image_max_pixels: int = Field(
        default=40_000_000,
        ge=1,
        le=200_000_000,
        description="Largest image accepted, in pixels (width × height), checked from the "
        "header before decoding: the decompression-bomb guard.",
    )
    image_max_frames: int = Field(
        default=200,
        ge=1,
        description="Most frames an animated image (GIF, WebP, APNG, AVIF) may have; more is "
        "refused on every surface, from the header, before decoding.",
    )
    image_screened_frames: int = Field(
        default=16,
        ge=1,
        le=256,
        description="Frames of an animated image screened and hash-matched: every frame up to "
        "this many; beyond it, uploads are screened on this many evenly sampled frames and "
        "generation/output checks refuse the image (input_too_large).",
    )
    image_decode_memory_mb: int = Field(
        default=1024,
        ge=64,
        description="Memory all image decodes of the process may hold at once, in MB. Each "
        "decode reserves its estimate (pixels × bytes per pixel × frames, from the header) "
        "before allocating; an image whose estimate exceeds this is refused.",
    )
    image_decode_wait_ms: int = Field(
        default=30_000,
        ge=0,
        description="Longest wait for decode memory while other large images are decoded; "
        "past it the request gets image_decoder_busy (503).",
    )
    image_analysis_max_side: int = Field(
        default=1024,
        ge=64,
        le=4096,
        description="Images are decoded once and scaled so their longest side is at most this "
        "many pixels; every image detector works from that copy.",
    )
    onnx_threads: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Intra-op threads of each ONNX Runtime session (0 = one per core). Image "
        "detectors already run in parallel, so 1 is usually fastest overall.",
    )
    face_min_score: float = Field(
        default=0.6,
        ge=0.05,
        le=1.0,
        description="YuNet's minimum face score (image_faces and image_age share one face "
        "detection per image).",
    )
    face_max_side: int = Field(
        default=512,
        ge=64,
        le=4096,
        description="YuNet runs on the image scaled so its longest side is at most this; "
        "larger finds smaller faces, slower.",
    )
    edit_delta_nsfw_margin: float = Field(
        default=0.3,
        gt=0.0,
        le=1.0,
        description="Edit-delta: an output whose nsfw_score exceeds its input photo's by at "
        "least this much adds exposure.",
    )
    edit_delta_min_region_score: float = Field(
        default=0.45,
        ge=0.25,
        le=1.0,
        description="Edit-delta: a body region counts as present in the output from this "
        "NudeNet score.",
    )
    edit_delta_region_margin: float = Field(
        default=0.25,
        gt=0.0,
        le=1.0,
        description="Edit-delta: a region present in the output is added when it scores at "
        "least this much more than in the input photo (absent there = 0).",
    )
    edit_delta_face_min_score: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Edit-delta: the input photo shows a real person when a face scores at "
        "least this much.",
    )
    allow_verified_adult_content: bool = Field(
        default=False,
        description="When true, callers may mark a request as coming from a verified adult "
        "and the default policy then allows explicit adult content with no real person "
        "and no minor.",
    )
    hash_min_quality: int = Field(
        default=50,
        ge=0,
        le=100,
        description="PDQ quality below which an image is not matched against banks (flat or "
        "tiny images give unreliable hashes).",
    )
    bank_sync_interval_ms: int = Field(
        default=1000,
        ge=0,
        description="How often a process looks for bank changes made by other replicas "
        "(its own changes apply at once).",
    )
    bank_max_staleness_ms: int = Field(
        default=60_000,
        ge=1,
        description="`/readyz` fails when the hash_match detector's bank index has not synced "
        "with the database for longer than this.",
    )
    readiness_timeout_ms: int = Field(
        default=2000,
        ge=1,
        description="How long `/readyz` waits for the database and each detector's check "
        "before counting it as failed.",
    )
    stay_down: bool = Field(
        default=True,
        description="Bank the hashes of blocked outputs and uploads automatically "
        "(blocked_generations / removed_content banks).",
    )
    # -- provenance (watermark and C2PA) -------------------------------------------------------
    watermark_key: SecretStr | None = Field(
        default=None,
        description="Key of the invisible watermark (who knows it can read and remove marks). "
        "Default: derived from the secret key; set it explicitly to keep detecting old marks "
        "after rotating BASTION_SECRET_KEY, or to share detection with a partner.",
    )
    watermark_issuer: int = Field(
        default=1,
        ge=0,
        le=65535,
        description="Issuer id written into every watermark (16 bits); re-uploads link to "
        "stored decisions only when the mark carries this issuer.",
    )
    watermark_strength: float = Field(
        default=2.3,
        ge=0.5,
        le=8.0,
        description="RMS change of luminance in 8-bit levels. The default gives about 41 dB "
        "PSNR; higher is more robust and more visible.",
    )
    c2pa_cert_file: Path | None = Field(
        default=None,
        description="PEM certificate chain (signer first) that signs C2PA manifests. "
        "Needs BASTION_C2PA_KEY_FILE.",
    )
    c2pa_key_file: Path | None = Field(
        default=None, description="PEM private key of BASTION_C2PA_CERT_FILE."
    )
    c2pa_algorithm: Literal["es256", "es384", "es512", "ps256", "ps384", "ps512", "ed25519"] = (
        Field(default="es256", description="Signature algorithm matching the key.")
    )
    c2pa_trust_anchors: Path | None = Field(
        default=None,
        description="PEM file of root certificates whose manifests verify as `valid` (the "
        "signing chain's own root is always added). Others verify as `untrusted`.",
    )
    c2pa_dev_signer: bool = Field(
        default=False,
        description="With no certificate configured, sign with a DEVELOPMENT CA created in "
        "<data_dir>/c2pa-dev (`make run` turns this on). Never for production.",
    )
    outputs_per_request: int = Field(
        default=16,
        ge=1,
        le=1000,
        description="How many different outputs may be checked against one generation "
        "request (`request_id`); each output is paired once, by the key that made the request.",
    )
    generator_name: str = Field(
        default="generative image model",
        min_length=1,
        max_length=200,
        description="Name of the AI model written into C2PA manifests as the software that "
        "created the image (callers may pass another per output).",
    )
    host: str = Field(default="127.0.0.1", description="Address `bastion serve` binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `bastion serve` binds to.")
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the service."
    )
    # -- notice-and-action workflow (docs/workflow.md) -----------------------------------------
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL of this service, used in links sent to people (the appeal "
        "page in statements of reasons, the report form).",
    )
    platform_name: str = Field(
        default="Bastion demo platform",
        min_length=1,
        max_length=200,
        description="The platform's name as shown in statements of reasons and messages.",
    )
    terms_url: str | None = Field(
        default=None,
        description="URL of the terms and conditions; {clause} and {version} are replaced by "
        "the clause cited. Used as decision_ground_reference_url for T&C decisions.",
    )
    ods_url: str = Field(
        default="https://digital-strategy.ec.europa.eu/en/policies/dsa-out-court-dispute-settlement",
        description="Where users find certified out-of-court dispute settlement bodies "
        "(DSA Art. 21); quoted in every statement of reasons.",
    )
    grounds_file: Path | None = Field(
        default=None,
        description="A YAML file of legal and terms-and-conditions grounds that replaces the "
        "built-in list (see docs/workflow.md).",
    )
    content_url_pattern: str | None = Field(
        default=None,
        description="Regular expression with a named group content_id that maps a reported URL "
        "to the platform's content id, e.g. https://example\\.com/i/(?P<content_id>[\\w-]+).",
    )
    dsa_target_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 30,
        description='Internal target for deciding DSA notices ("without undue delay").',
    )
    take_it_down_hours: int = Field(
        default=48,
        ge=1,
        le=48,
        description="Removal clock for valid TAKE IT DOWN requests (the Act allows at most 48).",
    )
    india_ncii_hours: int = Field(
        default=24,
        ge=1,
        le=24,
        description="Clock for intimate-image complaints from India (IT Rules r.3(2)(b)).",
    )
    uk_ncii_hours: int | None = Field(
        default=48,
        ge=1,
        description="Clock for intimate-image reports from the UK (pending commencement); "
        "null disables it.",
    )
    appeal_window_months: int = Field(
        default=6,
        ge=6,
        le=120,
        description="How long appeals stay open after the person is informed (DSA Art. 20: at "
        "least six months).",
    )
    outbox_adapter: Literal["file", "console", "smtp"] = Field(
        default="file",
        description="How messages to notifiers and users leave: file (.eml files in "
        "<data_dir>/outbox), console (stderr) or smtp.",
    )
    mail_from: str = Field(
        default="bastion@localhost", description="Sender address of outgoing messages."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server (outbox_adapter=smtp).")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user name.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=True, description="Use STARTTLS on the SMTP connection.")
    offender_window_days: int = Field(
        default=180, ge=1, description="Window over which repeat-offender strikes count (Art. 23)."
    )
    offender_warn_score: int = Field(
        default=2,
        ge=1,
        description="Gravity-weighted count of manifestly illegal items that triggers a warning.",
    )
    offender_suspend_score: int = Field(
        default=4,
        ge=1,
        description="Gravity-weighted count (after a warning) that triggers a suspension.",
    )
    offender_min_proportion: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Share of the account's known items in the window that must be manifestly "
        "illegal before a measure is taken.",
    )
    offender_suspension_days: int = Field(
        default=30, ge=1, description="Length of a repeat-offender account suspension."
    )
    notifier_warn_count: int = Field(
        default=3, ge=1, description="Manifestly unfounded notices or complaints before a warning."
    )
    notifier_suspend_count: int = Field(
        default=5,
        ge=1,
        description="Manifestly unfounded notices or complaints (after a warning) before notice "
        "processing is suspended.",
    )
    notifier_min_proportion: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the sender's notices in the window that must be manifestly "
        "unfounded before a measure is taken.",
    )
    notifier_suspension_days: int = Field(
        default=30, ge=1, description="Length of a suspension of notice processing."
    )

    @field_validator("content_url_pattern")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value is None:
            return value
        import re

        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        if "content_id" not in compiled.groupindex:
            raise ValueError("needs a named group (?P<content_id>...)")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_c2pa_pair(self) -> Settings:
        if (self.c2pa_cert_file is None) != (self.c2pa_key_file is None):
            raise ValueError("BASTION_C2PA_CERT_FILE and BASTION_C2PA_KEY_FILE go together")
        return self

    @field_validator("rate_limit_public", "rate_limit_public_key", "rate_limit_service")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit such as 10/minute;100/hour: {exc}") from exc
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
            raise ValueError("must be memory:// or a redis:// URL")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and "://" not in value:
            raise ValueError("must be a SQLAlchemy URL such as sqlite:///path.db")
        return value

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read the environment (plus explicit overrides); raise ConfigError on any problem."""
        unknown = sorted(
            name
            for name in os.environ
            if name.startswith(ENV_PREFIX)
            and not name.startswith(_IGNORED_PREFIXES)
            and name[len(ENV_PREFIX) :].lower() not in cls.model_fields
        )
        if unknown:
            raise ConfigError(f"unknown setting(s) in the environment: {', '.join(unknown)}")
        try:
            return cls(**{k: v for k, v in overrides.items() if v is not None})
        except ValidationError as exc:
            problems = "; ".join(
                f"{ENV_PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}"
                for e in exc.errors()
            )
            raise ConfigError(f"invalid settings: {problems}") from exc

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bastion.db'}"

    def resolved_watermark_key(self) -> bytes:
        """The watermark key: the setting, or one derived from the secret key."""
        if self.watermark_key is not None:
            value = self.watermark_key.get_secret_value().encode()
            if len(value) < 16:
                raise ConfigError("BASTION_WATERMARK_KEY must be at least 16 characters")
            return value
        return hmac.new(self.resolved_secret(), b"bastion watermark key v1", "sha256").digest()

    def resolved_secret(self) -> bytes:
        """The secret key; from the setting or from ``<data_dir>/secret.key``.

        The key file is created by :func:`bastion.bootstrap.prepare_data_dir`; reading a
        missing file is a configuration error, never a silently generated key.
        """
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value().encode()
            if len(value) < 16:
                raise ConfigError("BASTION_SECRET_KEY must be at least 16 characters")
            return value
        path = self.data_dir / "secret.key"
        try:
            value = path.read_bytes().strip()
        except FileNotFoundError as exc:
            raise ConfigError(
                f"no secret key: set BASTION_SECRET_KEY or run `bastion init` to create {path}"
            ) from exc
        if len(value) < 16:
            raise ConfigError(f"{path} holds a key shorter than 16 bytes")
        return value


def new_secret() -> str:
    return secrets.token_urlsafe(32)
