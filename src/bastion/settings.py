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

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bastion.errors import ConfigError
from bastion.settings_groups import IntakeSettings, ProvenanceSettings, WorkflowSettings

ENV_PREFIX = "BASTION_"
# Variables under this prefix belong to the test harness, not to the service.
_IGNORED_PREFIXES = ("BASTION_TEST_",)


class Settings(IntakeSettings, ProvenanceSettings, WorkflowSettings, BaseSettings):
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
