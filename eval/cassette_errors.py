"""A failed model call in a cassette: what was raised, and raising it again on replay.

The errors a suite must see the same way twice are the model's and the endpoint's: an HTTP status (a 400
from a strict chat template, a context overflow), a timeout or a refused connection, a length stop, and
JSON that does not fit the requested schema (the OpenAI client raises pydantic's `ValidationError` while it
parses). Each is rebuilt as the same exception type with the same message, so the code under test takes
the same path on replay; anything else comes back as `RecordedModelError` with the original type named.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Literal, NoReturn

import openai
from pydantic import BaseModel, ValidationError

__all__ = ["RecordedError", "RecordedModelError", "raise_recorded", "recorded_error"]

ErrorKind = Literal["status", "timeout", "connection", "length", "validation", "other"]
_REPLAY_URL = "http://replay.invalid/v1/chat/completions"


class RecordedModelError(RuntimeError):
    """A model call that failed while recording, with an error not rebuilt by type."""


class RecordedError(BaseModel):
    """What a failed call raised."""

    kind: ErrorKind
    type: str
    """The exception's class as `module:QualName` (LangChain's providers raise their own subclasses)."""
    message: str
    status_code: int | None = None
    body: Any = None
    raw: str | None = None
    """The text the model wrote, when the error carries it (a length stop, JSON not fitting the schema)."""


def recorded_error(exc: BaseException) -> RecordedError:
    """`exc` as a cassette records it."""
    name = f"{type(exc).__module__}:{type(exc).__qualname__}"
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict | list | str | int | float | None) else str(exc.body)
        return RecordedError(
            kind="status", type=name, message=exc.message, status_code=exc.status_code, body=body
        )
    if isinstance(exc, openai.APITimeoutError):
        return RecordedError(kind="timeout", type=name, message=str(exc))
    if isinstance(exc, openai.APIConnectionError):
        return RecordedError(kind="connection", type=name, message=str(exc))
    if isinstance(exc, openai.LengthFinishReasonError):
        choices = getattr(exc.completion, "choices", None) or []
        raw = choices[0].message.content if choices and choices[0].message else None
        return RecordedError(kind="length", type=name, message=str(exc), raw=raw)
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        raw = errors[0].get("input") if errors else None
        return RecordedError(
            kind="validation", type=name, message=str(exc), raw=raw if isinstance(raw, str) else None
        )
    return RecordedError(kind="other", type=name, message=str(exc))


def _recorded_class(error: RecordedError, base: type[Exception]) -> type[Exception] | None:
    """The recorded exception class when it can be imported and is a `base` (so it is built like one)."""
    module, _, name = error.type.partition(":")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return found if isinstance(found, type) and issubclass(found, base) else None


_STATUS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    403: openai.PermissionDeniedError,
    404: openai.NotFoundError,
    409: openai.ConflictError,
    422: openai.UnprocessableEntityError,
    429: openai.RateLimitError,
}


def raise_recorded(error: RecordedError | None, response_format: Any = None) -> NoReturn:
    """Raise what the recorded call raised (see the module docstring)."""
    import httpx2

    if error is None:
        raise RecordedModelError("the cassette holds neither a response nor an error for this call")
    request = httpx2.Request("POST", _REPLAY_URL)
    if error.kind == "status" and error.status_code is not None:
        cls = _recorded_class(error, openai.APIStatusError) or _STATUS.get(error.status_code)
        if cls is None:
            cls = openai.InternalServerError if error.status_code >= 500 else openai.APIStatusError
        content = json.dumps(error.body if error.body is not None else {}).encode()
        response = httpx2.Response(error.status_code, request=request, content=content)
        raise cls(error.message, response=response, body=error.body)  # type: ignore[call-arg]
    if error.kind == "timeout":
        raise openai.APITimeoutError(request=request)
    if error.kind == "connection":
        connection = _recorded_class(error, openai.APIConnectionError) or openai.APIConnectionError
        raise connection(message=error.message, request=request)  # type: ignore[call-arg]
    if error.kind == "length":
        from openai.types.chat import ChatCompletion

        raise openai.LengthFinishReasonError(
            completion=ChatCompletion.model_construct(
                id="replay", created=0, model="", object="chat.completion", choices=[], usage=None
            )
        )
    if (
        error.kind == "validation"
        and isinstance(response_format, type)
        and issubclass(response_format, BaseModel)
    ):
        response_format.model_validate_json(error.raw or "")  # raises the same ValidationError
    raise RecordedModelError(f"{error.type.rpartition(':')[2]}: {error.message}")
