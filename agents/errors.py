"""Errors a run ends with, each one line a person can act on (which endpoint, which agent, which setting)."""

from __future__ import annotations

__all__ = ["ModelError", "ModelOutputError", "ModelUnavailableError", "StepLimitError"]


class ModelError(RuntimeError):
    """A model call failed in a way the run cannot recover from (HTTP status, length, invalid output, step
    or time limit). The message is one line naming the endpoint and the agent; the thread stays resumable,
    so an interface reports it and carries on (`opsgraph chat` keeps the session)."""


class ModelUnavailableError(ModelError):
    """The configured model endpoint cannot be reached or refuses the request."""


class ModelOutputError(ModelError):
    """The model kept answering with output opsgraph cannot use (invalid tool arguments, unknown tools,
    unparseable routing decisions) after the allowed retries."""


class StepLimitError(ModelError):
    """An agent used up its model calls for one request without reaching an answer."""
