"""Legal and terms-and-conditions grounds that decisions cite, loaded from YAML and validated.

A bad grounds file fails at load with the file and the problem, never at decision time.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from bastion.errors import ConfigError, InvalidInput


@dataclass(frozen=True, slots=True)
class LegalGround:
    id: str
    text: str
    url: str | None
    explanation: str


@dataclass(frozen=True, slots=True)
class TermsGround:
    id: str
    clause: str
    version: str
    text: str
    explanation: str


@dataclass(frozen=True, slots=True)
class Grounds:
    legal: dict[str, LegalGround]
    terms: dict[str, TermsGround]

    def legal_ground(self, ground_id: str) -> LegalGround:
        try:
            return self.legal[ground_id]
        except KeyError:
            raise InvalidInput(
                f"unknown legal ground {ground_id!r}; known: {', '.join(sorted(self.legal))}",
                field="legal_ground_id",
            ) from None

    def terms_ground(self, ground_id: str) -> TermsGround:
        try:
            return self.terms[ground_id]
        except KeyError:
            raise InvalidInput(
                f"unknown terms clause {ground_id!r}; known: {', '.join(sorted(self.terms))}",
                field="tc_ground_id",
            ) from None


def _text(entry: dict[str, Any], key: str, where: str, limit: int = 500) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: '{key}' must be a non-empty string")
    value = " ".join(value.split())
    if len(value) > limit:
        raise ConfigError(f"{where}: '{key}' is longer than {limit} characters")
    return value


def load_grounds(path: Path | None = None) -> Grounds:
    name = str(path) if path else "bastion/workflow/grounds.yaml"
    try:
        raw = (
            path.read_text("utf-8")
            if path
            else resources.files("bastion.workflow").joinpath("grounds.yaml").read_text("utf-8")
        )
        data = yaml.safe_load(raw)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read grounds file {name}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - {"legal", "terms"}:
        raise ConfigError(f"{name}: expected a mapping with 'legal' and 'terms' lists")
    legal: dict[str, LegalGround] = {}
    terms: dict[str, TermsGround] = {}
    for index, entry in enumerate(data.get("legal") or []):
        where = f"{name}: legal[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a mapping")
        ground_id = _text(entry, "id", where, 80)
        url = entry.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
            raise ConfigError(f"{where}: 'url' must be an https URL")
        if ground_id in legal:
            raise ConfigError(f"{where}: duplicate id {ground_id!r}")
        legal[ground_id] = LegalGround(
            ground_id, _text(entry, "text", where), url, _text(entry, "explanation", where, 1500)
        )
    for index, entry in enumerate(data.get("terms") or []):
        where = f"{name}: terms[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: must be a mapping")
        ground_id = _text(entry, "id", where, 80)
        if ground_id in terms:
            raise ConfigError(f"{where}: duplicate id {ground_id!r}")
        terms[ground_id] = TermsGround(
            ground_id,
            _text(entry, "clause", where, 40),
            _text(entry, "version", where, 40),
            _text(entry, "text", where),
            _text(entry, "explanation", where, 1500),
        )
    return Grounds(legal, terms)
