"""Provenance as a service: mark allowed outputs, inspect images for marks.

``Provenance.mark`` decodes the output, reserves a per-output id, embeds the watermark,
re-encodes in the same format, signs a C2PA manifest, checks that both marks read back and
records the output id → decision link. ``Provenance.inspect`` reads the watermark and the
manifest of any image and resolves the link when the mark is this service's own.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from bastion.clock import Clock
from bastion.content import Image as Content
from bastion.decode import ImageLimits
from bastion.errors import ConfigError, InvalidInput, UnsupportedMediaType
from bastion.provenance import imageio
from bastion.provenance.c2pa import Credentials, ManifestReport, ManifestSigner, ManifestVerifier
from bastion.provenance.watermark import Detection, Payload, Watermarker
from bastion.settings import Settings
from bastion.storage.db import Database
from bastion.storage.marks import MarkRepository

log = logging.getLogger("bastion.provenance")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass(frozen=True)
class MarkedImage:
    """A marked output and what it carries."""

    data: bytes
    media_type: str
    sha256: str
    issuer: int
    output_id: str
    decision_id: str | None
    manifest: str | None
    signer: str
    development_signer: bool
    watermark_verified: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "media_type": self.media_type,
            "sha256": self.sha256,
            "bytes": len(self.data),
            "decision_id": self.decision_id,
            "watermark": {
                "issuer": self.issuer,
                "output_id": self.output_id,
                "verified": self.watermark_verified,
            },
            "c2pa": {
                "manifest": self.manifest,
                "signer": self.signer,
                "development_signer": self.development_signer,
            },
        }


@dataclass(frozen=True)
class WatermarkReport:
    detection: Detection
    own_issuer: bool = False
    decision_id: str | None = None
    linked: bool = False  # the output id is one this service marked

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.detection.to_dict(),
            "own_issuer": self.own_issuer,
            "linked": self.linked,
            "decision_id": self.decision_id,
        }


@dataclass(frozen=True)
class ProvenanceReport:
    media_type: str
    sha256: str
    width: int
    height: int
    watermark: WatermarkReport
    c2pa: ManifestReport

    @property
    def decision_id(self) -> str | None:
        return self.watermark.decision_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "media_type": self.media_type,
            "sha256": self.sha256,
            "width": self.width,
            "height": self.height,
            "watermark": self.watermark.to_dict(),
            "c2pa": self.c2pa.to_dict(),
            "decision_id": self.decision_id,
        }


class Provenance:
    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self.issuer = settings.watermark_issuer
        self.watermarker = Watermarker(
            settings.resolved_watermark_key(), strength=settings.watermark_strength
        )
        self.marks = MarkRepository(db)
        self.limits = ImageLimits.from_settings(settings)  # the one intake's limits

    # -- configuration ------------------------------------------------------------------------

    @cached_property
    def credentials(self) -> Credentials | None:
        """The configured signing certificate, or the development one when enabled."""
        settings = self.settings
        if settings.c2pa_cert_file is not None and settings.c2pa_key_file is not None:
            return Credentials(
                chain=_read(settings.c2pa_cert_file, "BASTION_C2PA_CERT_FILE"),
                key=_read(settings.c2pa_key_file, "BASTION_C2PA_KEY_FILE"),
                algorithm=settings.c2pa_algorithm,
            )
        if settings.c2pa_dev_signer:
            from bastion.provenance.devca import ensure_dev_signer

            files = ensure_dev_signer(settings.data_dir)
            return Credentials(
                chain=files.chain.read_bytes(), key=files.key.read_bytes(), development=True
            )
        return None

    @cached_property
    def signer(self) -> ManifestSigner:
        credentials = self.credentials
        if credentials is None:
            raise ConfigError(
                "C2PA signing is not configured: set BASTION_C2PA_CERT_FILE and "
                "BASTION_C2PA_KEY_FILE (or BASTION_C2PA_DEV_SIGNER=true for local development)"
            )
        return ManifestSigner(credentials)

    @cached_property
    def verifier(self) -> ManifestVerifier:
        anchors = b""
        if self.settings.c2pa_trust_anchors is not None:
            anchors += _read(self.settings.c2pa_trust_anchors, "BASTION_C2PA_TRUST_ANCHORS")
        credentials = self.credentials
        root = credentials.root_pem if credentials is not None else None
        if root is not None:
            anchors += b"\n" + root
        return ManifestVerifier(anchors)

    # -- marking ------------------------------------------------------------------------------

    def mark(self, data: bytes, decision_id: str | None, *, generator: str) -> MarkedImage:
        decoded = imageio.decode(data, limits=self.limits)
        if decoded.frames > 1:
            raise UnsupportedMediaType("animated images cannot be marked", field="image")
        if not generator.strip() or len(generator) > 200:
            raise InvalidInput("generator must be 1 to 200 characters", field="generator")
        signer = self.signer  # a configuration problem fails before anything is stored
        mark = self.marks.reserve(
            issuer=self.issuer,
            decision_id=decision_id,
            source_sha256=hashlib.sha256(data).hexdigest(),
            now=self.clock.now(),
        )
        try:
            payload = Payload(self.issuer, int(mark.output_id, 16))
            pixels = self.watermarker.embed(decoded.pixels, payload)
            encoded, media_type = imageio.encode(decoded, pixels)
            title = f"{mark.output_id}.{_EXTENSIONS[media_type]}"
            signed = signer.sign(
                encoded, media_type, generator=generator.strip(), payload=payload, title=title
            )
            manifest = self.verifier.verify(signed, media_type)
            if manifest.state not in ("valid", "untrusted"):
                raise ConfigError(f"the signed output does not verify: {manifest.failures}")
            verified = (
                self.read_watermark(
                    imageio.watermark_view(signed, limits=self.limits)
                ).detection.payload
                == payload
            )
            if not verified:
                log.warning(
                    "watermark of output %s does not read back (flat or saturated image?)",
                    mark.output_id,
                )
            sha256 = hashlib.sha256(signed).hexdigest()
            self.marks.complete(
                mark,
                media_type=media_type,
                marked_sha256=sha256,
                manifest=manifest.manifest,
                signer=signer.signer_name,
                development_signer=signer.credentials.development,
            )
        except BaseException:
            self.marks.release(mark)
            raise
        return MarkedImage(
            data=signed,
            media_type=media_type,
            sha256=sha256,
            issuer=self.issuer,
            output_id=mark.output_id,
            decision_id=decision_id,
            manifest=manifest.manifest,
            signer=signer.signer_name,
            development_signer=signer.credentials.development,
            watermark_verified=verified,
        )

    # -- inspection ---------------------------------------------------------------------------

    def inspect(self, image: bytes | Content) -> ProvenanceReport:
        view = imageio.watermark_view(image, limits=self.limits)
        data = image.data if isinstance(image, Content) else image
        return ProvenanceReport(
            media_type=view.media_type,
            sha256=hashlib.sha256(data).hexdigest(),
            width=view.width,
            height=view.height,
            watermark=self.read_watermark(view),
            c2pa=self.verifier.verify(data, view.media_type),
        )

    def read_watermark(self, view: imageio.WatermarkView) -> WatermarkReport:
        detection = self.watermarker.detect_working(view.working)
        payload = detection.payload
        if payload is None or payload.issuer != self.issuer:
            return WatermarkReport(detection)
        stored = self.marks.get(payload.issuer, payload.output_hex)
        return WatermarkReport(
            detection,
            own_issuer=True,
            linked=stored is not None,
            decision_id=stored.decision_id if stored is not None else None,
        )

    def read_manifest(self, data: bytes, media_type: str) -> ManifestReport:
        return self.verifier.verify(data, media_type)


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{setting}: cannot read {path}: {exc.strerror}") from exc
