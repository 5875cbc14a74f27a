"""Groups of settings, one class each, combined into :class:`bastion.settings.Settings`.

Each group is a plain pydantic model with its fields and their validators; ``Settings``
inherits them all, so every field is still one ``BASTION_*`` variable of one Settings object
(docs/configuration.md is generated from it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator


class IntakeSettings(BaseModel):
    """Bounded public intake, idempotency, the outbox and retention (issue 10)."""

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


class ProvenanceSettings(BaseModel):
    """Watermark and C2PA."""

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

    @model_validator(mode="after")
    def _check_c2pa_pair(self) -> Any:
        if (self.c2pa_cert_file is None) != (self.c2pa_key_file is None):
            raise ValueError("BASTION_C2PA_CERT_FILE and BASTION_C2PA_KEY_FILE go together")
        return self


class WorkflowSettings(BaseModel):
    """The notice-and-action workflow (docs/workflow.md)."""

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
    audit_witness_file: Path | None = Field(
        default=None,
        description="A file to which every new signed head of the audit chain is appended "
        "(one JSON line, created 0600); keep it where the database's writers cannot rewrite "
        "it. `bastion audit verify` checks the log against it.",
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
