"""`Redactor`: the server's secrets never leave it in an error message.

An error's text may quote what it was given: a model endpoint's 401 echoes the key it refused, a database
driver the URL with its password. Every message the server sends a caller (problem details, `error`
events, Slack replies) passes through the `Redactor`, which blanks the configured secrets and any
password in a URL.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from agents.settings import Settings

__all__ = ["Redactor"]

_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@")
_MIN_SECRET = 4  # shorter strings would blank ordinary words


def _userinfo(url: str) -> tuple[str | None, str | None]:
    """A URL's password, and the Basic credentials an HTTP client makes of its user and password."""
    parts = urlsplit(url)
    if parts.password is None:
        return None, None
    basic = base64.b64encode(f"{parts.username or ''}:{parts.password}".encode()).decode()
    return parts.password, basic


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        # longest first, so a secret that contains another is blanked whole
        self._secrets = sorted({s for s in secrets if s and len(s) >= _MIN_SECRET}, key=len, reverse=True)

    @classmethod
    def from_settings(cls, settings: Settings, *extra: str | None) -> Redactor:
        tokens = [raw.partition("=")[0].strip() for raw in settings.api_tokens.split(",")]
        urls = [_userinfo(u) for u in (settings.base_url, settings.checkpoint_url) if u]
        return cls([settings.resolved_api_key(), *tokens, *(s for pair in urls for s in pair), *extra])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _URL_PASSWORD.sub(r"\1:***@", text)
