"""The error vocabulary. Every error here carries a message that is safe to show a user.

The CLI is the only place that turns these into messages and exit codes.
"""


class InterviewerError(Exception):
    """Base error: the message is user-facing; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class ConfigError(InterviewerError):
    """Settings are invalid or point at something that does not exist."""

    exit_code = 2


class KnowledgeError(InterviewerError):
    """A bank or import file is malformed; the message names the file and line."""

    exit_code = 3


class BackendError(InterviewerError):
    """A model, store or endpoint is missing or failed (dead URL, missing GGUF, ...)."""

    exit_code = 4
