"""Errors a run ends with, each one line a person can act on (which endpoint, which agent, which setting)."""

from __future__ import annotations

import re

import openai
from langgraph.errors import GraphRecursionError
from pydantic import ValidationError

__all__ = ["ModelError", "ModelOutputError", "ModelUnavailableError", "StepLimitError", "model_error"]


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


def model_error(exc: BaseException, where: str, agent: str) -> ModelError:
    """One line for a failed model call: what happened, which model and endpoint, which agent, what to fix."""
    who = "the router" if agent == "supervisor" else f"the {agent} agent" if agent else "a model check"
    from agents.models.local import LocalModelError  # not at import: the errors stay light to import

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, LocalModelError):  # the local model's server could not start
            return ModelUnavailableError(f"{cause} ({who})")
        cause = cause.__cause__
    if isinstance(exc, openai.APIConnectionError | openai.APITimeoutError):
        kind = "timed out" if isinstance(exc, openai.APITimeoutError) else "cannot be reached"
        fix = "OPSGRAPH_MODEL_TIMEOUT_S" if kind == "timed out" else "OPSGRAPH_BASE_URL"
        return ModelUnavailableError(f"the model {where} {kind} ({who}); check {fix}")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return ModelUnavailableError(f"the model {where} refused the key ({who}); check OPSGRAPH_API_KEY")
    if isinstance(exc, openai.NotFoundError):
        return ModelUnavailableError(f"the model {where} was not found ({who}); check OPSGRAPH_MODEL")
    if isinstance(exc, openai.BadRequestError) and _is_context_overflow(exc):
        return ModelError(
            f"the request does not fit the context of the model {where} ({who}): {_first_line(exc.message)}; "
            "raise OPSGRAPH_LOCAL_CONTEXT_SIZE (a local: model) or the server's context size, or start a new thread"
        )
    if isinstance(exc, openai.APIStatusError):
        detail = _first_line(re.sub(r"^Error code: \d+ - ", "", exc.message))
        return ModelError(f"the model {where} answered HTTP {exc.status_code} ({who}): {detail}")
    if isinstance(exc, openai.LengthFinishReasonError):
        return ModelError(f"the model {where} ran out of tokens ({who}); raise OPSGRAPH_MAX_TOKENS")
    if isinstance(exc, GraphRecursionError):
        return ModelError(f"{who} did not finish within the step limit (model {where})")
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        return ModelError(f"the model {where} gave invalid output ({who}): {first['loc']}: {first['msg']}")
    return ModelError(f"the model {where} failed ({who}): {_first_line(str(exc))}")


def _is_context_overflow(exc: openai.BadRequestError) -> bool:
    """llama.cpp's `exceed_context_size_error`, OpenAI's and vLLM's `context_length_exceeded` wording."""
    text = f"{exc.code} {exc.message}".lower()
    markers = ("exceed_context_size", "context_length_exceeded", "maximum context length", "context size")
    return any(marker in text for marker in markers)


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no detail)"
    return line if len(line) <= limit else line[: limit - 1] + "…"
