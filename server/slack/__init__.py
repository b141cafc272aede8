"""The Slack bot: mentions and DMs chat with opsgraph in Slack threads; approvals are Block Kit buttons."""

from __future__ import annotations

__all__: list[str] = []
