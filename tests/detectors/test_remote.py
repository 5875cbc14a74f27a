"""Remote judges against a small fake chat-completions server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bastion.content import Image, Prompt
from bastion.detectors.registry import default_registry
from bastion.detectors.remote import (
    CircuitBreaker,
    JudgeUnavailable,
    RemoteImageJudge,
    RemoteJudgeConfig,
    RemotePromptJudge,
)
from bastion.errors import RegistryError
from bastion.guard import Guard
from bastion.policy.model import Action, Severity
from bastion.settings import Settings
from tests.images import flat

Reply = Callable[[dict[str, Any]], tuple[int, Any, float]]  # (status, body, delay)


@dataclass
class FakeJudge:
    """Answers each POST with the next scripted reply (the last one repeats)."""

    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def say(self, *replies: Reply) -> None:
        self.replies = list(replies)


def text(content: str, delay: float = 0.0) -> Reply:
    def reply(_: dict[str, Any]) -> tuple[int, Any, float]:
        return 200, {"choices": [{"message": {"role": "assistant", "content": content}}]}, delay

    return reply


def status(code: int, body: Any = None) -> Reply:
    return lambda _: (code, body or {"error": "nope"}, 0.0)


@pytest.fixture
def judge() -> Iterator[FakeJudge]:
    state = FakeJudge()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            payload = json.loads(self.rfile.read(length))
            state.requests.append(payload)
            state.headers.append(dict(self.headers))
            index = min(len(state.requests) - 1, len(state.replies) - 1)
            code, body, delay = state.replies[index](payload)
            time.sleep(delay)
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout tests)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    yield state
    server.shutdown()
    server.server_close()


def prompt_judge(judge: FakeJudge, **options: Any) -> RemotePromptJudge:
    config = RemoteJudgeConfig(
        url=judge.url, model="llama-guard-3", timeout_s=0.5, backoff_s=0.01, **options
    )
    return RemotePromptJudge(config)


def test_safe_and_unsafe_llama_guard_replies(judge: FakeJudge) -> None:
    detector = prompt_judge(judge)
    judge.say(text("safe"))
    assert detector.detect(Prompt("a lighthouse"), subject="prompt") == []
    judge.say(text("unsafe\nS12,S4"))
    found = {f.label: f for f in detector.detect(Prompt("x"), subject="prompt")}
    assert set(found) == {"judge_sexual", "judge_child_safety"}
    assert found["judge_child_safety"].evidence["categories"] == ("S4",)
    judge.say(text("unsafe\nS9"))
    assert [f.label for f in detector.detect(Prompt("x"), subject="prompt")] == ["judge_unsafe"]
    sent = judge.requests[0]
    assert sent["model"] == "llama-guard-3"
    assert sent["messages"] == [{"role": "user", "content": "a lighthouse"}]
    assert sent["temperature"] == 0


@pytest.mark.parametrize(
    ("reply", "labels"),
    [
        ("safe\nunsafe S4", {"judge_child_safety"}),
        ("safe\n\nunsafe\nS12", {"judge_sexual"}),
        ("Safe.\nunsafe", {"judge_unsafe"}),
        ("safe\nsafe", set()),
    ],
)
def test_unsafe_anywhere_in_the_verdict_lines_wins(
    judge: FakeJudge, reply: str, labels: set[str]
) -> None:
    detector = prompt_judge(judge)
    judge.say(text(reply))
    assert {f.label for f in detector.detect(Prompt("x"), subject="prompt")} == labels


def test_yes_anywhere_wins_in_yes_no_style(judge: FakeJudge) -> None:
    detector = prompt_judge(judge, style="yes_no")
    judge.say(text("No\nYes"))
    assert [f.label for f in detector.detect(Prompt("x"), subject="prompt")] == ["judge_sexual"]


def test_yes_no_style_with_a_policy_prompt(judge: FakeJudge) -> None:
    detector = prompt_judge(
        judge, style="yes_no", system_prompt="Is this sexually explicit?", yes_label="judge_sexual"
    )
    judge.say(text("Yes"))
    assert [f.label for f in detector.detect(Prompt("x"), subject="prompt")] == ["judge_sexual"]
    judge.say(text("No."))
    assert detector.detect(Prompt("x"), subject="prompt") == []
    assert judge.requests[0]["messages"][0] == {
        "role": "system",
        "content": "Is this sexually explicit?",
    }


def test_image_judge_sends_a_jpeg_data_url(judge: FakeJudge) -> None:
    config = RemoteJudgeConfig(url=judge.url, model="shieldgemma-2", style="yes_no")
    detector = RemoteImageJudge(config)
    judge.say(text("No"))
    image = Image.from_bytes(flat((10, 20, 30)), max_bytes=10**6)
    assert detector.detect(image, subject="output") == []
    (part,) = judge.requests[0]["messages"][0]["content"]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/jpeg;base64,/9j/")


def test_retries_on_server_errors_then_succeeds(judge: FakeJudge) -> None:
    detector = prompt_judge(judge, retries=2)
    judge.say(status(503), status(500), text("unsafe\nS12"))
    assert [f.label for f in detector.detect(Prompt("x"), subject="prompt")] == ["judge_sexual"]
    assert len(judge.requests) == 3


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (status(401), "HTTP 401"),
        (lambda _: (200, b"not json", 0.0), "not a chat-completions reply"),
        (text("I cannot help with that"), "unreadable Llama Guard reply"),
        (text("", delay=1.0), "timed out"),
    ],
)
def test_failures_raise_without_useless_retries(
    judge: FakeJudge, reply: Reply, message: str
) -> None:
    detector = prompt_judge(judge, retries=1)
    judge.say(reply)
    with pytest.raises(JudgeUnavailable, match=message):
        detector.detect(Prompt("x"), subject="prompt")
    # Only timeouts and 5xx/429 are retried.
    assert len(judge.requests) == (2 if message == "timed out" else 1)


def test_circuit_breaker_opens_then_tries_again() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failures=2, reset_s=10, clock=lambda: now[0])
    breaker.before_call()
    breaker.failed()
    breaker.before_call()
    breaker.failed()
    assert breaker.is_open
    with pytest.raises(JudgeUnavailable, match="circuit open after 2"):
        breaker.before_call()
    now[0] = 11.0
    breaker.before_call()  # one trial call is let through
    with pytest.raises(JudgeUnavailable):
        breaker.before_call()  # ... and only one
    breaker.failed()
    now[0] = 15.0
    with pytest.raises(JudgeUnavailable):
        breaker.before_call()  # reopened by the failed trial
    now[0] = 22.0
    breaker.before_call()
    breaker.succeeded()
    assert not breaker.is_open
    breaker.before_call()


def test_open_circuit_spares_the_endpoint(judge: FakeJudge) -> None:
    detector = prompt_judge(judge, retries=0, breaker_failures=2)
    judge.say(status(500))
    for _ in range(2):
        with pytest.raises(JudgeUnavailable, match="HTTP 500"):
            detector.detect(Prompt("x"), subject="prompt")
    with pytest.raises(JudgeUnavailable, match="circuit open"):
        detector.detect(Prompt("x"), subject="prompt")
    assert len(judge.requests) == 2


def test_bearer_token_from_the_environment(
    judge: FakeJudge, monkeypatch: pytest.MonkeyPatch
) -> None:
    detector = prompt_judge(judge, api_key_env="JUDGE_TOKEN")
    judge.say(text("safe"))
    with pytest.raises(JudgeUnavailable, match="JUDGE_TOKEN is not set"):
        detector.detect(Prompt("x"), subject="prompt")
    monkeypatch.setenv("JUDGE_TOKEN", "t0ken")
    detector.detect(Prompt("x"), subject="prompt")
    assert judge.headers[-1]["Authorization"] == "Bearer t0ken"


def test_off_by_default_and_configured_by_url_and_model(settings: Settings) -> None:
    registry = default_registry()
    assert "remote_prompt_judge" in registry.names()
    created = [d.name for d in registry.create()]
    assert "remote_prompt_judge" not in created
    assert "remote_image_judge" not in created
    with pytest.raises(RegistryError, match="url"):
        registry.create(["remote_prompt_judge"])
    with pytest.raises(RegistryError, match="http"):
        registry.create(
            ["remote_prompt_judge"], {"remote_prompt_judge": {"url": "file:///x", "model": "m"}}
        )


def guard_with_judge(settings: Settings, judge: FakeJudge, **options: Any) -> Guard:
    chosen = settings.model_copy(
        update={
            "detectors": ["prompt_lexicon", "prompt_language", "remote_prompt_judge"],
            "detector_options": {
                "remote_prompt_judge": {"url": judge.url, "model": "llama-guard-3", **options}
            },
        }
    )
    return Guard.from_settings(chosen)


def test_guard_blocks_on_the_judges_verdict(settings: Settings, judge: FakeJudge) -> None:
    guard = guard_with_judge(settings, judge)
    judge.say(text("safe"))
    assert guard.check_generation("a lighthouse at dusk").action is Action.ALLOW
    judge.say(text("unsafe\nS4"))
    decision = guard.check_generation("a lighthouse at dusk")
    assert decision.action is Action.BLOCK
    assert decision.rules == ["remote_judge_child_safety"]
    assert decision.severity is Severity.CRITICAL
    judge.say(text("unsafe\nS12"))
    assert guard.check_generation("a lighthouse at dusk").rules == ["adult_explicit_content"]
    guard.close()


def test_guard_fails_closed_when_the_judge_is_down(settings: Settings, judge: FakeJudge) -> None:
    guard = guard_with_judge(settings, judge, timeout_s=0.2, retries=0)
    judge.say(text("safe", delay=0.6))
    decision = guard.check_generation("a lighthouse at dusk")
    assert decision.action is Action.BLOCK
    assert decision.rules == ["detector_failure"]
    assert "remote_prompt_judge" in decision.reasons[0].findings[0].explanation
    assert "timed out" in decision.reasons[0].findings[0].explanation
    guard.close()
