"""Every error leaves the server as an RFC 9457 problem object with a message a person can act on."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from agents.runtime import ModelUnavailableError, RunConflictError, ThreadNotFoundError
from agents.store import StoreError
from server.models import Problem, ProblemField

__all__ = ["PROBLEM_RESPONSES", "install_problem_handlers", "problem_response"]

log = logging.getLogger("opsgraph.server")

PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "model": Problem,  # registers the component; the media type is problem+json, not application/json
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "description": text,
    }
    for code, text in (
        (401, "Missing or unknown bearer token"),
        (403, "The token's role may not do this"),
        (404, "No such thread (or it belongs to another user)"),
        (409, "The thread is busy or waits for a decision"),
        (422, "The request body or parameters are malformed"),
    )
}


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[ProblemField] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    problem = Problem(
        title=HTTPStatus(status).phrase, status=status, detail=detail, instance=instance, errors=errors
    )
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def _pointer(loc: tuple[Any, ...]) -> str:
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


def _scrub(request: Request, text: str) -> str:
    """The message without the server's secrets (see `server.redact`)."""
    state = getattr(request.app.state, "opsgraph", None)
    return state.redact(text) if state is not None else text


def _validation_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        ProblemField(pointer=_pointer(tuple(e.get("loc", ()))), message=str(e["msg"])) for e in exc.errors()
    ]
    first = errors[0] if errors else None
    detail = f"{first.pointer}: {first.message}" if first else "the request is malformed"
    return problem_response(422, _scrub(request, detail), instance=request.url.path, errors=errors)


def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem_response(
        exc.status_code,
        _scrub(request, str(exc.detail)),
        instance=request.url.path,
        headers=dict(exc.headers or {}) or None,
    )


def _client_went_away(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_client_went_away(e) for e in exc.exceptions)
    return isinstance(exc, anyio.BrokenResourceError | anyio.ClosedResourceError)


def install_problem_handlers(app: FastAPI) -> None:
    def simple(status: int) -> Any:
        def handler(request: Request, exc: Exception) -> JSONResponse:
            return problem_response(status, _scrub(request, str(exc)), instance=request.url.path)

        return handler

    def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if _client_went_away(exc):  # a stream's reader disconnected; the run itself finishes regardless
            log.info("client left %s %s before the stream ended", request.method, request.url.path)
        else:
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return problem_response(500, f"internal error: {type(exc).__name__}", instance=request.url.path)

    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(StarletteHTTPException, _http_problem)
    app.add_exception_handler(HTTPException, _http_problem)
    app.add_exception_handler(ThreadNotFoundError, simple(404))
    app.add_exception_handler(RunConflictError, simple(409))  # pending, already decided, busy
    app.add_exception_handler(ModelUnavailableError, simple(503))
    app.add_exception_handler(StoreError, simple(503))
    app.add_exception_handler(Exception, unexpected)
