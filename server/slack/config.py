"""Slack settings, from `OPSGRAPH_SLACK_*` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from server.auth import Principal, TokenSpecError, parse_tokens

__all__ = ["SlackConfig"]


class SlackConfig(BaseSettings):
    """What the bot needs. HTTP mode needs the bot token and signing secret; Socket Mode the app token too."""

    model_config = SettingsConfigDict(env_prefix="OPSGRAPH_SLACK_", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, description="xoxb-... (OAuth & Permissions).")
    signing_secret: SecretStr | None = Field(default=None, description="Basic Information → Signing Secret.")
    app_token: SecretStr | None = Field(
        default=None, description="xapp-... with connections:write (Socket Mode)."
    )
    users: str = Field(
        default="",
        description='Slack user ids that may act, with their role: "U012AB3CD=alice:admin,U045EF6GH=bob:operator". '
        "Anyone else may chat read-only and may not approve.",
    )
    api_url: str = Field(default="https://slack.com/api/", description="The Slack Web API base URL.")

    def http_mode_ready(self) -> bool:
        return self.bot_token is not None and self.signing_secret is not None

    def socket_mode_missing(self) -> list[str]:
        names = {"OPSGRAPH_SLACK_BOT_TOKEN": self.bot_token, "OPSGRAPH_SLACK_APP_TOKEN": self.app_token}
        return [name for name, value in names.items() if value is None]

    def principals(self) -> dict[str, Principal]:
        try:
            return parse_tokens(self.users)
        except TokenSpecError as exc:
            raise TokenSpecError(f"OPSGRAPH_SLACK_USERS: {str(exc).replace('api_tokens ', '')}") from None
