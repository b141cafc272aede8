"""One factory for every model provider: the offline model, OpenAI, and OpenAI-compatible servers."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel
from pydantic import SecretStr

from agents.models.offline import OfflineChatModel
from agents.models.openai_compat import RawArgsChatOpenAI
from opsgraph.settings import Settings

__all__ = ["ModelConfigError", "make_chat_model"]


class ModelConfigError(ValueError):
    """The model settings cannot produce a chat model; the message says which setting to fix."""


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings ask for.

    `offline` is the built-in deterministic model. With `base_url`, the model name is served by any
    OpenAI-compatible endpoint (vLLM, Ollama, LM Studio). Otherwise `provider:model` goes to
    `init_chat_model` (e.g. `openai:gpt-4o-mini`).
    """
    from langchain.chat_models import init_chat_model

    try:
        name = settings.resolved_model()
    except ValueError as exc:
        raise ModelConfigError(str(exc)) from exc
    if name == "offline":
        return OfflineChatModel()
    key = settings.resolved_api_key()
    if settings.base_url:
        model = name.removeprefix("openai:")
        return RawArgsChatOpenAI(
            model_name=model,
            openai_api_base=settings.base_url,
            openai_api_key=SecretStr(key or "not-needed"),
            request_timeout=settings.model_timeout_s,
            max_retries=1,
        )
    provider, sep, model = name.partition(":")
    if not sep:
        raise ModelConfigError(
            f"OPSGRAPH_MODEL={name!r}: use 'offline', 'openai:<model>', or set OPSGRAPH_BASE_URL for an "
            "OpenAI-compatible server"
        )
    if provider == "openai" and not key:
        raise ModelConfigError(f"model {name!r} needs OPENAI_API_KEY or OPSGRAPH_API_KEY")
    if provider == "openai":
        return RawArgsChatOpenAI(
            model_name=model,
            openai_api_key=SecretStr(key or ""),
            request_timeout=settings.model_timeout_s,
            max_retries=1,
        )
    try:
        return init_chat_model(
            model, model_provider=provider, api_key=key, timeout=settings.model_timeout_s, max_retries=1
        )
    except (ImportError, ValueError) as exc:
        raise ModelConfigError(f"cannot use model {name!r}: {exc}") from exc
