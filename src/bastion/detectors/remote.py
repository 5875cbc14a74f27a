"""Remote judges: a safety model behind an OpenAI-compatible chat-completions endpoint.

This is how operators run Llama Guard (``style: llama_guard``: the reply is ``safe`` or
``unsafe`` plus a line of category codes) or ShieldGemma (``style: yes_no``: the reply starts
with ``Yes`` when the content violates the policy given in ``system_prompt``), served by vLLM,
TGI, llama.cpp or a hosted gateway. Off by default; enable with ``BASTION_DETECTORS`` and give
``url`` and ``model`` in ``BASTION_DETECTOR_OPTIONS``.

Each call has a total deadline (``deadline_s``: connecting, sending, every retry and reading
the body together, so a judge that drips its reply cannot hold a thread), bounded retries with
backoff inside it (connection errors, timeouts, 429 and 5xx only), and a circuit breaker: after
``breaker_failures`` consecutive failures the judge is not called for ``breaker_reset_s``
seconds. A call the runner abandons counts as a failure too. Each judge runs in its own pool of
``max_concurrent`` threads (see :mod:`bastion.detectors.runner`), so a slow judge only delays
the checks that need it. Any failure, including an open breaker or a full pool, raises or
becomes ``detector_error``, and the request is blocked (fail closed) at once.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from bastion.content import Image, Prompt
from bastion.detectors.base import Detector, DetectorConfig
from bastion.detectors.remote_http import DeadlineExceeded, HttpStatusError, Target, post
from bastion.findings import Finding

# Llama Guard 3/4 hazard codes → Bastion labels; every other unsafe code is judge_unsafe.
LLAMA_GUARD_CATEGORIES = {"S4": "judge_child_safety", "S12": "judge_sexual", "S3": "judge_sexual"}
LABELS = frozenset({"judge_unsafe", "judge_sexual", "judge_child_safety"})
_RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class JudgeUnavailable(RuntimeError):
    """The judge could not give an answer (the request is then blocked, fail closed)."""


class _Retryable(Exception):
    """A failure worth another attempt: no connection, a timeout, 429 or 5xx."""


class CircuitBreaker:
    """Closed → (``failures`` consecutive failures) → open for ``reset_s`` → one trial call."""

    def __init__(
        self, failures: int, reset_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.reset_s = reset_s
        self._clock = clock
        self._count = 0
        self._opened_at: float | None = None
        self._trial = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None

    def before_call(self) -> None:
        """Raise JudgeUnavailable while open; let one trial call through after the reset."""
        with self._lock:
            if self._opened_at is None:
                return
            waited = self._clock() - self._opened_at
            if waited < self.reset_s or self._trial:
                raise JudgeUnavailable(
                    f"circuit open after {self._count} consecutive failures; next try in "
                    f"{max(0.0, self.reset_s - waited):.1f} s"
                )
            self._trial = True

    def succeeded(self) -> None:
        with self._lock:
            self._count, self._opened_at, self._trial = 0, None, False

    def failed(self) -> None:
        with self._lock:
            self._count += 1
            if self._trial or self._count >= self.failures:
                self._opened_at = self._clock()
            self._trial = False


class RemoteJudgeConfig(DetectorConfig):
    url: str = Field(
        description="The chat-completions URL, e.g. http://host:8000/v1/chat/completions."
    )
    model: str = Field(min_length=1, description="Model name sent in the request.")
    style: Literal["llama_guard", "yes_no"] = Field(
        default="llama_guard", description="How to read the reply (see the module docs)."
    )
    system_prompt: str | None = Field(
        default=None, description="A system message (ShieldGemma: the policy to judge against)."
    )
    yes_label: Literal["judge_unsafe", "judge_sexual", "judge_child_safety"] = Field(
        default="judge_sexual", description="The label a 'Yes' reply gives (style yes_no)."
    )
    api_key_env: str | None = Field(
        default=None, description="Name of an environment variable holding a bearer token."
    )
    timeout_s: float = Field(default=1.5, gt=0, le=60, description="Time limit per attempt.")
    deadline_s: float = Field(
        default=1.8,
        gt=0,
        le=120,
        description="Total time limit per call: every attempt, backoff and the whole reply "
        "body (a dripping reply is cut off here).",
    )
    max_concurrent: int = Field(
        default=4, ge=1, le=256, description="Calls in flight at once (the judge's own pool)."
    )
    retries: int = Field(default=1, ge=0, le=5, description="Extra attempts after a failure.")
    backoff_s: float = Field(default=0.1, ge=0, le=10, description="Wait before retry n: n × this.")
    breaker_failures: int = Field(
        default=5, ge=1, le=1000, description="Consecutive failures that open the circuit."
    )
    breaker_reset_s: float = Field(
        default=30.0, gt=0, le=3600, description="How long an open circuit stays open."
    )
    use_env_proxy: bool = Field(default=False, description="Honour HTTP(S)_PROXY variables.")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value


class _RemoteJudge(Detector):
    labels: ClassVar[frozenset[str]] = LABELS
    Config: ClassVar[type[DetectorConfig]] = RemoteJudgeConfig
    enabled_by_default: ClassVar[bool] = False

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config)
        options = self.options
        self.breaker = CircuitBreaker(options.breaker_failures, options.breaker_reset_s)
        self.pool_size = options.max_concurrent
        self._target = Target(options.url, use_env_proxy=options.use_env_proxy)
        # Worker threads whose current call the runner gave up on (already counted).
        self._abandoned: set[int] = set()
        self._abandoned_lock = threading.Lock()

    @property
    def options(self) -> RemoteJudgeConfig:
        assert isinstance(self.config, RemoteJudgeConfig)
        return self.config

    def content(self, item: Any) -> list[dict[str, Any]] | str:
        raise NotImplementedError

    def detect(self, item: Any, *, subject: str) -> Sequence[Finding]:
        if not isinstance(item, self.accepts):
            raise TypeError(f"{self.name} reads {self.accepts.__name__}, got {type(item).__name__}")
        options = self.options
        messages: list[dict[str, Any]] = []
        if options.system_prompt:
            messages.append({"role": "system", "content": options.system_prompt})
        messages.append({"role": "user", "content": self.content(item)})
        with self._abandoned_lock:
            self._abandoned.discard(threading.get_ident())
        reply = self._call({"model": options.model, "messages": messages, "temperature": 0})
        return self._findings(reply, subject)

    def abandoned(self, thread_id: int) -> None:
        """The runner gave up waiting on the call running in ``thread_id``: a failure."""
        with self._abandoned_lock:
            self._abandoned.add(thread_id)
        self.breaker.failed()

    def _failed(self) -> None:
        with self._abandoned_lock:
            counted = threading.get_ident() in self._abandoned
            self._abandoned.discard(threading.get_ident())
        if not counted:
            self.breaker.failed()

    def _call(self, payload: dict[str, Any]) -> str:
        self.breaker.before_call()
        options = self.options
        deadline = time.monotonic() + options.deadline_s
        problem = "no attempt made"
        attempts = 0
        for attempt in range(options.retries + 1):
            if attempt:
                pause = options.backoff_s * attempt
                if time.monotonic() + pause >= deadline:
                    break
                time.sleep(pause)
            attempts += 1
            try:
                reply = self._post(payload, min(deadline, time.monotonic() + options.timeout_s))
            except _Retryable as exc:
                problem = str(exc)
                if time.monotonic() >= deadline:
                    break
                continue
            except JudgeUnavailable:
                self._failed()
                raise
            self.breaker.succeeded()
            return reply
        self._failed()
        raise JudgeUnavailable(f"{options.url}: {problem} (after {attempts} attempt(s))")

    def _post(self, payload: dict[str, Any], deadline: float) -> str:
        options = self.options
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if options.api_key_env:
            token = os.environ.get(options.api_key_env)
            if not token:
                raise JudgeUnavailable(f"environment variable {options.api_key_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        try:
            body = post(self._target, json.dumps(payload).encode(), headers, deadline)
        except HttpStatusError as exc:
            if exc.status in _RETRY_STATUS:
                raise _Retryable(f"HTTP {exc.status}") from exc
            raise JudgeUnavailable(f"{options.url}: HTTP {exc.status} {exc.reason}") from exc
        except DeadlineExceeded as exc:
            raise _Retryable("timed out: no complete reply in time") from exc
        except ValueError as exc:
            raise JudgeUnavailable(f"{options.url}: {exc}") from exc
        except OSError as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        try:
            data = json.loads(body)
            text = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise JudgeUnavailable(f"{options.url}: not a chat-completions reply") from exc
        if not isinstance(text, str):
            raise JudgeUnavailable(f"{options.url}: the reply has no text content")
        return text

    def _findings(self, reply: str, subject: str) -> list[Finding]:
        """Read every verdict line: one ``unsafe`` (or ``yes``) anywhere wins over ``safe``."""
        options = self.options
        text = reply.strip()
        verdicts = [_first_word(line) for line in text.splitlines()]
        labels: dict[str, list[str]] = {}
        if options.style == "yes_no":
            seen = [v for v in verdicts if v in ("yes", "no")]
            if not seen:
                raise JudgeUnavailable(f"unreadable yes/no reply {text[:80]!r}")
            if "yes" in seen:
                labels[options.yes_label] = ["yes"]
        else:
            seen = [v for v in verdicts if v in ("safe", "unsafe")]
            if not seen:
                raise JudgeUnavailable(f"unreadable Llama Guard reply {text[:80]!r}")
            if "unsafe" in seen:
                codes = re.findall(r"\bS\d{1,2}\b", text.upper()) or ["unspecified"]
                for code in dict.fromkeys(codes):
                    label = LLAMA_GUARD_CATEGORIES.get(code, "judge_unsafe")
                    labels.setdefault(label, []).append(code)
        return [
            Finding(
                detector=self.name,
                label=label,
                score=1.0,
                subject=subject,
                evidence={"model": options.model, "categories": codes, "reply": text[:200]},
                explanation=f"{options.model} judged it unsafe ({', '.join(codes)})",
            )
            for label, codes in labels.items()
        ]


def _first_word(line: str) -> str:
    words = line.split(maxsplit=1)
    return words[0].lower().strip(".,:;*") if words else ""


class RemotePromptJudge(_RemoteJudge):
    name: ClassVar[str] = "remote_prompt_judge"
    accepts: ClassVar[type] = Prompt

    def content(self, item: Any) -> str:
        return str(item.text)


class RemoteImageJudge(_RemoteJudge):
    """Sends the decoded image re-encoded as JPEG (no metadata), as an image_url data URL."""

    name: ClassVar[str] = "remote_image_judge"
    accepts: ClassVar[type] = Image

    def content(self, item: Any) -> list[dict[str, Any]]:
        from PIL import Image as PILImage

        buffer = io.BytesIO()
        PILImage.fromarray(item.decoded().rgb).save(buffer, format="JPEG", quality=90)
        url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
        return [{"type": "image_url", "image_url": {"url": url}}]
