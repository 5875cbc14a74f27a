"""Model files and ONNX Runtime sessions, shared by every image detector of a process.

Weights come only from installed packages (located through package metadata, without importing
the package) or from an explicit path in a detector's options; nothing is downloaded. A session
is created once per (file, thread count) and reused by every detector and thread: onnxruntime's
``run`` is safe to call concurrently.

Every model file a detector's load reads is stamped (size, modification time) when it is
located; :meth:`Loader.problems` compares the stamps with the files on disk, so readiness
fails when a model file the process loaded has since gone missing or been replaced.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any, Generic, TypeVar

log = logging.getLogger("bastion.detectors.image")
T = TypeVar("T")


class ModelUnavailable(RuntimeError):
    """A model file is missing, unreadable or not the model it should be."""


@dataclass(frozen=True, slots=True)
class FileStamp:
    """A model file as it was when it was loaded."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        stat = path.stat()
        return cls(path, stat.st_size, stat.st_mtime_ns)

    def problem(self) -> str | None:
        """None while the file on disk is still the one loaded, else what changed."""
        try:
            now = FileStamp.of(self.path)
        except OSError:
            return f"model file {self.path} is missing (it was loaded from there)"
        if now.size != self.size:
            return (
                f"model file {self.path} is {now.size} bytes; {self.size} bytes were loaded "
                "(replaced or corrupt)"
            )
        if now.mtime_ns != self.mtime_ns:
            return f"model file {self.path} was modified after it was loaded"
        return None


_reads = threading.local()


@contextmanager
def recording() -> Iterator[dict[Path, FileStamp]]:
    """Collect the stamps of every model file located in this thread within the block."""
    stack: list[dict[Path, FileStamp]] = _reads.__dict__.setdefault("stack", [])
    seen: dict[Path, FileStamp] = {}
    stack.append(seen)
    try:
        yield seen
    finally:
        stack.pop()


def _note(stamps: Iterable[FileStamp]) -> None:
    for seen in _reads.__dict__.get("stack", ()):
        for stamp in stamps:
            seen.setdefault(stamp.path, stamp)


def _located(path: Path) -> Path:
    try:
        _note([FileStamp.of(path)])
    except OSError as exc:
        raise ModelUnavailable(f"model file {path} cannot be read: {exc}") from exc
    return path


def package_file(package: str, relative: str) -> Path:
    """The path of a file shipped inside an installed distribution (not imported)."""
    try:
        dist = distribution(package)
    except PackageNotFoundError:
        raise ModelUnavailable(
            f"package {package!r} is not installed; it ships {relative}"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise ModelUnavailable(f"model file {path} (from package {package}) is missing")
    return _located(path)


def model_file(explicit: Path | None, package: str, relative: str) -> Path:
    if explicit is None:
        return package_file(package, relative)
    if not explicit.is_file():
        raise ModelUnavailable(f"model file {explicit} is missing")
    return _located(explicit)


def verify_sha256(path: Path, expected: str) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        raise ModelUnavailable(f"model file {path} has sha256 {digest[:16]}…, expected {expected}")


class ModelStore:
    """Loaded models keyed by what makes them different; each built once, under a lock."""

    def __init__(self) -> None:
        self._models: dict[tuple[Any, ...], Any] = {}
        self._files: dict[tuple[Any, ...], tuple[FileStamp, ...]] = {}
        self._building: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], T]) -> T:
        """The model under ``key``, built on first use; builds may nest (one model may
        load another), and concurrent first uses of one key wait for a single build."""
        with self._lock:
            if key in self._models:
                _note(self._files.get(key, ()))
                return self._models[key]  # type: ignore[no-any-return]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._models:
                    _note(self._files.get(key, ()))
                    return self._models[key]  # type: ignore[no-any-return]
            with recording() as seen:
                model = build()
            with self._lock:
                self._models[key] = model
                self._files[key] = tuple(seen.values())
            return model

    def session(self, path: Path, threads: int, *, optimize: str = "all") -> Any:
        """An onnxruntime InferenceSession on the CPU with ``threads`` intra-op threads.

        ``optimize`` is the graph optimisation level ("basic", "extended" or "all"): the
        layout rewrites of "all" speed up large convolutional nets but slow small ones down.
        """
        return self.get(
            ("onnx", str(path), threads, optimize),
            lambda: _onnx_session(path, threads, optimize),
        )

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
            self._files.clear()
            self._building.clear()


def _onnx_session(path: Path, threads: int, optimize: str) -> Any:
    import onnxruntime as ort

    levels = {
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = levels[optimize]
    options.log_severity_level = 3
    # Idle worker threads must not spin: detectors share two cores with each other and the
    # web server, and a spinning pool only burns the time another model needs.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        session = ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ModelUnavailable(f"cannot load {path} as an ONNX model: {exc}") from exc
    log.info("loaded %s (%d intra-op threads)", path.name, threads)
    return session


# One store per process: sessions are expensive and identical for every guard in it.
MODELS = ModelStore()


class Loader(Generic[T]):
    """Loads a detector's model on warm-up; a failure is remembered and re-raised per call.

    A missing or broken model therefore does not stop the service from starting: every
    request the detector should have screened is blocked with a reason naming the problem
    (fail closed), and the load is retried on the next request.
    """

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self._name = name
        self._load = load
        self._value: T | None = None
        self._files: tuple[FileStamp, ...] = ()
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        try:
            self.get()
        except ModelUnavailable as exc:
            log.error("detector %s cannot load its model: %s", self._name, exc)

    def get(self) -> T:
        with self._lock:
            if self._value is None:
                with recording() as seen:
                    self._value = self._load()
                self._files = tuple(seen.values())
            return self._value

    def problems(self) -> list[str]:
        """Why the model cannot serve (load failed, a loaded file gone or replaced); empty
        when it can. A model that failed to load is tried again here."""
        try:
            self.get()
        except Exception as exc:
            return [f"cannot load its model: {exc}"]
        return [problem for problem in (f.problem() for f in self._files) if problem]
