"""A remote judge that drips its reply must not starve the other checks (issue 9, item 4).

A real HTTP server on 127.0.0.1 answers chat-completions requests either at once or one byte
every 50 ms. Upload scans (which never need the judge) are timed under the same background
load of generation checks, first with a healthy judge, then with a dripping one.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bastion.content import Prompt
from bastion.detectors.remote import JudgeUnavailable, RemoteJudgeConfig, RemotePromptJudge
from bastion.guard import Guard
from bastion.policy.model import Action
from bastion.settings import Settings
from tests.images import flat

REPLY = json.dumps({"choices": [{"message": {"role": "assistant", "content": "safe"}}]}).encode()


class Judge:
    def __init__(self) -> None:
        self.drip = False
        self.url = ""


@pytest.fixture
def judge() -> Iterator[Judge]:
    state = Judge()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(REPLY)))
                self.end_headers()
                for index in range(len(REPLY)):
                    self.wfile.write(REPLY[index : index + 1])
                    self.wfile.flush()
                    if state.drip:
                        time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up at its deadline

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1/chat/completions"
    yield state
    server.shutdown()
    server.server_close()


def _guard(settings: Settings, judge: Judge) -> tuple[Guard, RemotePromptJudge]:
    chosen = settings.model_copy(
        update={
            "detectors": ["prompt_lexicon", "hash_match", "remote_prompt_judge"],
            "detector_threads": 2,
            "detector_options": {
                "remote_prompt_judge": {
                    "url": judge.url,
                    "model": "llama-guard-3",
                    "timeout_s": 0.5,
                    "deadline_s": 0.6,
                    "retries": 0,
                    "max_concurrent": 4,
                    "breaker_failures": 3,
                    "breaker_reset_s": 1.0,
                }
            },
        }
    )
    guard = Guard.from_settings(chosen)
    found = [d for d in guard.runner.detectors if isinstance(d, RemotePromptJudge)]
    return guard, found[0]


def _upload_p50(guard: Guard, images: list[bytes]) -> float:
    timings = []
    for image in images:
        start = time.perf_counter()
        decision = guard.scan_upload(image)
        timings.append(time.perf_counter() - start)
        assert decision.action is Action.ALLOW, decision.rules
    return statistics.median(timings)


class Load:
    """Four threads sending generation checks (one every 20 ms each) while it runs."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.stop = threading.Event()
        self.actions: list[tuple[Action, tuple[str, ...]]] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(4)]

    def _run(self) -> None:
        while not self.stop.is_set():
            decision = self.guard.check_generation("a lighthouse at dusk")
            self.actions.append((decision.action, tuple(decision.rules)))
            time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        time.sleep(0.1)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)


@pytest.mark.slow
def test_a_dripping_judge_does_not_slow_upload_scans(settings: Settings, judge: Judge) -> None:
    guard, detector = _guard(settings, judge)
    images = [flat((index * 7 % 256, 90, 160), (96, 64)) for index in range(40)]
    try:
        _upload_p50(guard, images[:5])  # warm up
        with Load(guard) as healthy:
            normal = _upload_p50(guard, images)
        assert all(action is Action.ALLOW for action, _ in healthy.actions)

        judge.drip = True
        opened = False
        with Load(guard) as dripping:
            slow = _upload_p50(guard, images)
            deadline = time.monotonic() + 5
            while not opened and time.monotonic() < deadline:
                opened = detector.breaker.is_open
                time.sleep(0.02)
        assert slow <= 2 * normal, f"upload p50 {slow * 1000:.1f} ms vs {normal * 1000:.1f} ms"
        assert opened, "the circuit breaker never opened"
        # The checks that need the judge failed closed.
        assert dripping.actions
        assert all(action is Action.BLOCK for action, _ in dripping.actions[-4:])
        assert ("detector_failure",) in {rules for _, rules in dripping.actions}

        judge.drip = False
        time.sleep(1.2)  # breaker_reset_s: the next call is the trial
        recovered = guard.check_generation("a lighthouse at dusk")
        assert recovered.action is Action.ALLOW, recovered.rules
        assert not detector.breaker.is_open
    finally:
        judge.drip = False
        guard.close()


def test_an_abandoned_call_counts_as_a_breaker_failure(settings: Settings, judge: Judge) -> None:
    """The runner gives up at detector_timeout_ms (here below the judge's own deadline)."""
    guard, detector = _guard(settings.model_copy(update={"detector_timeout_ms": 150}), judge)
    judge.drip = True
    try:
        for _ in range(3):
            decision = guard.check_generation("a lighthouse at dusk")
            assert decision.rules == ["detector_failure"]
            time.sleep(0.7)  # let the abandoned call end at its own deadline
        assert detector.breaker.is_open
    finally:
        judge.drip = False
        guard.close()


def test_a_dripping_reply_is_cut_at_the_total_deadline(judge: Judge) -> None:
    """Each byte arrives well within timeout_s; the whole reply never within deadline_s."""
    config = RemoteJudgeConfig(
        url=judge.url, model="m", timeout_s=0.3, deadline_s=0.4, retries=3, backoff_s=0.01
    )
    detector = RemotePromptJudge(config)
    judge.drip = True
    start = time.monotonic()
    with pytest.raises(JudgeUnavailable, match="timed out"):
        detector.detect(Prompt("x"), subject="prompt")
    assert time.monotonic() - start < 0.6
