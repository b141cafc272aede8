"""`ToolBindingChatModel`: the `bind_tools` every in-process chat model here shares.

LangChain's `BaseChatModel.bind_tools` raises `NotImplementedError`; a model that answers in process (the
offline model, the eval cassettes, test doubles) binds the tools' OpenAI schemas so `_generate` finds them
in `kwargs["tools"]`, as a provider's model receives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

__all__ = ["ToolBindingChatModel"]


class ToolBindingChatModel(BaseChatModel):
    """A chat model whose `_generate` reads the bound tools as OpenAI schemas from `kwargs["tools"]`."""

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Any | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)
