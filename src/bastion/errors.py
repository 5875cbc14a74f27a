"""Typed errors. Every failure a caller can cause has its own class and a stable ``code``.

Adapters map them: the HTTP API to 4xx responses with the code in the body, the CLI to a
message and a non-zero exit status. Nothing here knows about HTTP or the terminal.
"""

from __future__ import annotations


class BastionError(Exception):
    """Base class. ``code`` is a stable, documented, lower_snake identifier."""

    code = "bastion_error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(BastionError):
    code = "invalid_input"
    status = 422


class InputTooLarge(InvalidInput):
    code = "input_too_large"
    status = 413


class UnsupportedMediaType(InvalidInput):
    code = "unsupported_media_type"
    status = 415


class UndecodableImage(InvalidInput):
    """The bytes are not an image Bastion can decode (corrupt, truncated, unreadable)."""

    code = "undecodable_image"
    status = 422


class NotFound(BastionError):
    code = "not_found"
    status = 404


class Conflict(BastionError):
    code = "conflict"
    status = 409


class OutputNotAllowed(Conflict):
    """Only outputs whose stored decision is ``allow`` may be marked."""

    code = "output_not_allowed"


class NotAnOutputDecision(OutputNotAllowed):
    """Marks bind to an output check: generation and upload decisions never mark an image."""

    code = "not_an_output_decision"


class OutputMismatch(OutputNotAllowed):
    """The bytes to mark are not the bytes the output decision was taken about."""

    code = "output_mismatch"


class AlreadyPaired(Conflict):
    """This output was already checked against this generation request (or the request has
    all the outputs it may have)."""

    code = "already_paired"


class AuthError(BastionError):
    code = "unauthorized"
    status = 401


class Forbidden(BastionError):
    code = "forbidden"
    status = 403


class ConfigError(BastionError):
    """Configuration is missing or invalid. Bastion refuses to start rather than guess."""

    code = "config_error"
    status = 500


class PolicyError(ConfigError):
    """A policy file failed validation; the message carries ``file:line``."""

    code = "policy_error"


class RegistryError(ConfigError):
    """A detector plugin declared itself wrongly or twice."""

    code = "registry_error"


class StorageUnavailable(BastionError):
    """The database cannot store or read what a request needs (unreachable, failing, or too
    far behind). The request fails closed: an error, never a decision that was not kept."""

    code = "storage_unavailable"
    status = 503
