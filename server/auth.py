"""Bearer tokens → (user, role). With no tokens configured every request acts as the local user."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import cast, get_args

from fastapi import HTTPException, Request

from agents.settings import Role

__all__ = ["Authenticator", "Principal", "TokenSpecError", "parse_tokens"]

_ROLES: tuple[str, ...] = get_args(Role)


class TokenSpecError(ValueError):
    """`api_tokens` is malformed; the message names the bad entry (never the token itself)."""


@dataclass(frozen=True)
class Principal:
    user: str
    role: Role

    @property
    def can_approve(self) -> bool:
        return self.role in ("admin", "operator")


def parse_tokens(spec: str) -> dict[str, Principal]:
    """Parse "token1=alice:admin,token2=bob:readonly" (role defaults to operator). A setting that is not
    empty yet names no token (`","`) is an error: read as "no tokens", it would switch authentication off."""
    tokens: dict[str, Principal] = {}
    for index, raw in enumerate(p.strip() for p in spec.split(",")):
        if not raw:
            continue
        token, sep, who = raw.partition("=")
        user, _, role = who.partition(":")
        where = f"api_tokens entry {index + 1}"
        if not sep or not token.strip() or not user.strip():
            raise TokenSpecError(f"{where}: expected TOKEN=USER[:ROLE]")
        role = role.strip() or "operator"
        if role not in _ROLES:
            raise TokenSpecError(f"{where}: unknown role {role!r}; use one of {', '.join(_ROLES)}")
        if token.strip() in tokens:
            raise TokenSpecError(f"{where}: the same token appears twice")
        tokens[token.strip()] = Principal(user.strip(), cast("Role", role))
    if spec.strip() and not tokens:
        raise TokenSpecError("api_tokens names no token (but is not empty): expected TOKEN=USER[:ROLE],...")
    return tokens


class Authenticator:
    """Resolves the `Authorization: Bearer ...` header; compares tokens in constant time."""

    def __init__(self, tokens: dict[str, Principal], *, local_user: str, read_only: bool = False) -> None:
        self._tokens = [(t.encode(), p) for t, p in tokens.items()]
        self.local = Principal(local_user, "readonly" if read_only else "admin")

    @property
    def enabled(self) -> bool:
        return bool(self._tokens)

    def authenticate(self, authorization: str | None) -> Principal:
        if not self._tokens:
            return self.local
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(401, "send `Authorization: Bearer <token>`", {"WWW-Authenticate": "Bearer"})
        given = token.strip().encode()
        found: Principal | None = None
        for known, principal in self._tokens:  # no early exit: timing does not reveal which token matched
            if hmac.compare_digest(known, given):
                found = principal
        if found is None:
            raise HTTPException(401, "unknown bearer token", {"WWW-Authenticate": "Bearer"})
        return found

    def __call__(self, request: Request) -> Principal:
        checked: Principal | None = request.scope.get("state", {}).get(PRINCIPAL_KEY)
        return checked or self.authenticate(request.headers.get("authorization"))


PRINCIPAL_KEY = "opsgraph.principal"
"""Where `server.limits.RequestGuard` leaves the principal it authenticated, before the body was read."""
