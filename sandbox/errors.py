"""API errors as the apiserver reports them: `Status` objects with a reason, a code and field causes."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ApiError",
    "already_exists",
    "bad_request",
    "conflict",
    "forbidden",
    "invalid",
    "not_found",
    "status_success",
]


class ApiError(Exception):
    """An error the server answers with a `Status` body."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _details(qualified: str, name: str) -> dict[str, Any]:
    plural, _, group = qualified.partition(".")
    out: dict[str, Any] = {"name": name, "kind": plural}
    if group:
        out["group"] = group
    return out


def not_found(qualified: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified} "{name}" not found', _details(qualified, name))


def already_exists(qualified: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified} "{name}" already exists', _details(qualified, name))


def conflict(qualified: str, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        _details(qualified, name),
    )


def forbidden(message: str, qualified: str = "", name: str = "") -> ApiError:
    details = _details(qualified, name) if qualified else None
    return ApiError(403, "Forbidden", message, details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def invalid(kind: str, qualified: str, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422: `causes` are (field, reason, message) as in `field.Error` (reason e.g. FieldValueRequired)."""
    group = qualified.split(".", 1)[1] if "." in qualified else ""
    shown_kind = f"{kind}.{group}" if group else kind
    joined = ", ".join(f"{field}: {msg}" for field, _, msg in causes)
    details = _details(qualified, name)
    details["kind"] = kind
    details["causes"] = [{"reason": r, "message": m, "field": f} for f, r, m in causes]
    return ApiError(422, "Invalid", f'{shown_kind} "{name}" is invalid: {joined}', details)


def status_success(qualified: str, name: str, uid: str = "") -> dict[str, Any]:
    details = _details(qualified, name)
    if uid:
        details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
