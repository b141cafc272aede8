"""Authentication: bearer tokens of the kubeconfig's users, and impersonation for admins."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sandbox.errors import ApiError
from sandbox.rbac import User, service_account_groups

__all__ = ["SANDBOX_USERS", "TokenAuthenticator", "UserSpec"]


@dataclass(frozen=True)
class UserSpec:
    """A person in the sandbox's kubeconfig; the scenario's RBAC decides what they may do."""

    name: str
    groups: tuple[str, ...] = ()
    description: str = ""


SANDBOX_USERS = (
    UserSpec("admin", ("system:masters",), "cluster-admin through the system:masters group"),
    UserSpec("developer", ("developers",), "edit in the app namespaces"),
    UserSpec("viewer", ("viewers",), "read-only everywhere"),
    UserSpec("intern", (), "no role bindings: every request but discovery is forbidden"),
)


@dataclass
class TokenAuthenticator:
    """Maps each user's bearer token to the user; tokens are random per server run unless given."""

    users: tuple[UserSpec, ...] = SANDBOX_USERS
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for spec in self.users:
            self.tokens.setdefault(spec.name, f"sandbox-{spec.name}-{secrets.token_hex(12)}")
        self._by_token = {tok: name for name, tok in self.tokens.items()}
        self._specs = {s.name: s for s in self.users}

    def authenticate(self, authorization: str | None) -> User:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(401, "Unauthorized", "Unauthorized")
        name = self._by_token.get(authorization[7:].strip())
        if name is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return User(name, (*self._specs[name].groups, "system:authenticated"))

    def impersonate(self, user: User, as_user: str | None, as_groups: list[str]) -> User:
        if not as_user:
            return user
        if "system:masters" not in user.groups:
            raise ApiError(
                403,
                "Forbidden",
                f'users "{as_user}" is forbidden: User "{user.name}" cannot '
                'impersonate resource "users" in API group "" at the cluster scope',
            )
        spec = self._specs.get(as_user)
        groups = tuple(as_groups) if as_groups else (spec.groups if spec else ())
        if as_user.startswith("system:serviceaccount:") and not as_groups:
            groups = service_account_groups(as_user)
        return User(as_user, (*groups, "system:authenticated"))
