"""One registration step: every detector, built-in or third-party, comes from the
``bastion.detectors`` entry-point group. Bad or duplicate declarations raise at registration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import ValidationError

from bastion.detectors.base import Detector
from bastion.errors import RegistryError

GROUP = "bastion.detectors"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class Registry:
    def __init__(self) -> None:
        self._classes: dict[str, type[Detector]] = {}

    def register(self, cls: object, *, name: str | None = None) -> type[Detector]:
        if not isinstance(cls, type) or not issubclass(cls, Detector):
            raise RegistryError(f"{cls!r} is not a Detector subclass")
        declared = getattr(cls, "name", None)
        if not isinstance(declared, str) or not _NAME.match(declared):
            raise RegistryError(
                f"{cls.__qualname__}.name must be lower_snake_case, got {declared!r}"
            )
        if name is not None and name != declared:
            raise RegistryError(
                f"entry point {name!r} points at {cls.__qualname__}, whose name is {declared!r}"
            )
        labels = getattr(cls, "labels", None)
        if not isinstance(labels, frozenset) or not labels:
            raise RegistryError(f"{cls.__qualname__}.labels must be a non-empty frozenset")
        bad = sorted(label for label in labels if not _NAME.match(label))
        if bad:
            raise RegistryError(f"{cls.__qualname__} declares invalid label(s): {', '.join(bad)}")
        if not isinstance(getattr(cls, "accepts", None), type):
            raise RegistryError(f"{cls.__qualname__}.accepts must be a content type")
        if getattr(cls, "__abstractmethods__", None):
            raise RegistryError(f"{cls.__qualname__} does not implement detect()")
        if declared in self._classes and self._classes[declared] is not cls:
            raise RegistryError(
                f"two detectors are named {declared!r}: {self._classes[declared].__module__} "
                f"and {cls.__module__}"
            )
        self._classes[declared] = cls
        return cls

    def load_entry_points(self, points: Iterable[EntryPoint] | None = None) -> Registry:
        for point in points if points is not None else entry_points(group=GROUP):
            try:
                cls = point.load()
            except Exception as exc:
                raise RegistryError(
                    f"cannot load detector entry point {point.name!r}: {exc}"
                ) from exc
            self.register(cls, name=point.name)
        return self

    def names(self) -> list[str]:
        return sorted(self._classes)

    def labels(self) -> frozenset[str]:
        return frozenset(label for cls in self._classes.values() for label in cls.labels)

    def get(self, name: str) -> type[Detector]:
        try:
            return self._classes[name]
        except KeyError:
            raise RegistryError(
                f"no detector named {name!r}; registered: {', '.join(self.names()) or 'none'}"
            ) from None

    def create(
        self,
        enabled: Iterable[str] | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> list[Detector]:
        """Instantiate the enabled detectors with their typed configs."""
        options = dict(options or {})
        unknown = sorted(set(options) - set(self._classes))
        if unknown:
            raise RegistryError(f"options given for unknown detector(s): {', '.join(unknown)}")
        chosen = (
            [self.get(n) for n in enabled]
            if enabled is not None
            else [c for _, c in sorted(self._classes.items()) if c.enabled_by_default]
        )
        detectors = []
        for cls in chosen:
            try:
                config = cls.Config(**options.get(cls.name, {}))
            except ValidationError as exc:
                raise RegistryError(f"invalid options for detector {cls.name!r}: {exc}") from exc
            detectors.append(cls(config))
        return detectors


def default_registry() -> Registry:
    return Registry().load_entry_points()
