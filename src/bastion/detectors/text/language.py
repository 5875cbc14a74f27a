"""Language identification with py3langid, for reporting only.

Matching never depends on this guess (every lexicon is matched against every prompt); the
language goes on the decision, into statements and into per-language evaluation tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from bastion.content import Prompt
from bastion.detectors.base import Detector
from bastion.findings import Finding


class LanguageDetector(Detector):
    name: ClassVar[str] = "prompt_language"
    accepts: ClassVar[type] = Prompt
    labels: ClassVar[frozenset[str]] = frozenset({"language"})
    inline: ClassVar[bool] = True

    _identifier: Any = None

    def warm_up(self) -> None:
        self._model()

    def _model(self) -> Any:
        if self._identifier is None:
            from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
            # Only the languages Bastion has lexicons for: short prompts are otherwise often
            # taken for Welsh or Luxembourgish.
            from bastion.detectors.text.lexicon_files import load_lexicon

            codes = [lang.code for lang in load_lexicon().languages]
            identifier.set_languages([c for c in codes if c in identifier.nb_classes])
            self._identifier = identifier
        return self._identifier

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if not isinstance(item, Prompt):
            raise TypeError(f"{self.name} reads prompts, got {type(item).__name__}")
        code, probability = self._model().classify(item.text)
        return [
            Finding(
                detector=self.name,
                label="language",
                score=min(1.0, max(0.0, float(probability))),
                subject=subject,
                evidence={"language": str(code)},
                explanation=f"language identified as {code} ({float(probability):.0%})",
            )
        ]
