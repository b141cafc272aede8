"""Model providers: one factory, the offline model, and its vocabulary."""

from agents.models.factory import ModelConfigError, make_chat_model
from agents.models.offline import ROUTE_TOOL_NAME, OfflineChatModel
from agents.models.vocabulary import AGENTS, VOCABULARY, AgentName, Intent, help_text, parse_intents

__all__ = [
    "AGENTS",
    "ROUTE_TOOL_NAME",
    "VOCABULARY",
    "AgentName",
    "Intent",
    "ModelConfigError",
    "OfflineChatModel",
    "help_text",
    "make_chat_model",
    "parse_intents",
]
