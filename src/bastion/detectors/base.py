"""The detector contract. A detector is a small class: its type is its contract.

``name`` is a storage key (lower_snake, stable). ``accepts`` says which content it reads
(``Prompt`` or, from the image guard on, ``Image``). ``labels`` lists every label it can emit,
so the policy loader can reject rules that name labels nobody produces. ``Config`` is a typed
pydantic model; unknown or invalid options are errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict

from bastion.findings import Finding

if TYPE_CHECKING:
    from bastion.detectors.context import DetectorContext


class DetectorConfig(BaseModel):
    """Base of every detector's options. Forbids unknown keys: typos fail at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Detector(ABC):
    name: ClassVar[str]
    accepts: ClassVar[type]
    labels: ClassVar[frozenset[str]]
    Config: ClassVar[type[DetectorConfig]] = DetectorConfig
    # Pure-Python detectors bounded by the input limits run in the caller's thread and are
    # timed afterwards (a result past the deadline still blocks); others run in a worker
    # thread and are abandoned at the deadline.
    inline: ClassVar[bool] = False
    enabled_by_default: ClassVar[bool] = True
    # False for detectors that only describe content (provenance marks) and do not screen it
    # for harm: they never count as "a detector that can screen this content" (fail closed).
    screens: ClassVar[bool] = True
    # The checks a detector runs on ("generation", "output", "upload"); None: every check.
    # Provenance marks only matter on uploads, so their readers stay off the generation path.
    surfaces: ClassVar[frozenset[str] | None] = None
    # False for image detectors that read the bytes themselves (hashing decodes its own luma):
    # an upload scan with only such detectors skips the shared pixel decode.
    reads_pixels: ClassVar[bool] = True

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()

    def bind(self, context: DetectorContext) -> None:  # noqa: B027 - optional, empty by design
        """Receive the process's shared services before warm-up (settings, database, banks,
        clock, provenance: :class:`~bastion.detectors.context.DetectorContext`)."""

    def warm_up(self) -> None:  # noqa: B027 - optional hook, empty by design
        """Load models or data once per process, before the first request."""

    def prepare(self, item: Any) -> None:  # noqa: B027 - optional hook, empty by design
        """Decode what this detector will read from ``item`` (cached on it), in the caller's
        thread before any detector deadline starts; raise a typed error if it cannot be.
        Detectors that read the shared views (``reads_pixels``, the luma) need nothing here;
        one that decodes its own view (the watermark reader) makes it here, so waiting for
        decode memory is a typed ``image_decoder_busy``, never a timed-out detector."""

    def ready(self) -> Sequence[str]:
        """What keeps this detector from screening right now, one line per problem; empty
        when it is ready. Called by ``/readyz`` (so keep it cheap: stat a file, compare a
        timestamp). Model-backed detectors check that the model loaded and that its file is
        still the one that was loaded; detectors that need nothing beyond code return ()."""
        return ()

    @abstractmethod
    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        """Return findings about ``item``; raise on failure (the guard fails closed)."""
