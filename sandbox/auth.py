"""Authentication: bearer tokens of the kubeconfig's users, and impersonation for admins."""

from __future__ import annotations

import secrets
import time
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
    issued: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Tokens issued by TokenRequest (`kubectl create token`): token → (ServiceAccount user, expiry)."""

    def __post_init__(self) -> None:
        for spec in self.users:
            self.tokens.setdefault(spec.name, f"sandbox-{spec.name}-{secrets.token_hex(12)}")
        self._by_token = {tok: name for name, tok in self.tokens.items()}
        self._specs = {s.name: s for s in self.users}

    def authenticate(self, authorization: str | None) -> User:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError(401, "Unauthorized", "Unauthorized")
        token = authorization[7:].strip()
        name = self._by_token.get(token)
        if name is None:
            issued = self.issued.get(token)
            if issued is None or issued[1] < time.time():
                raise ApiError(401, "Unauthorized", "Unauthorized")
            return User(issued[0], (*service_account_groups(issued[0]), "system:authenticated"))
        return User(name, (*self._specs[name].groups, "system:authenticated"))

    def issue(self, username: str, expires: float) -> str:
        """A bearer token for a ServiceAccount (TokenRequest), valid until `expires` (epoch seconds)."""
        token = f"sandbox-sa-{secrets.token_hex(16)}"
        self.issued[token] = (username, expires)
        return token

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
        # Only the groups given with Impersonate-Group (--as-group): the apiserver does not look up the
        # impersonated user's groups. A ServiceAccount without groups gets its fixed ones.
        groups = tuple(as_groups)
        if as_user.startswith("system:serviceaccount:") and not as_groups:
            groups = service_account_groups(as_user)
        if "system:unauthenticated" in groups or "system:authenticated" in groups:
            return User(as_user, groups)
        return User(as_user, (*groups, "system:authenticated"))
