"""One factory for every model provider: the offline model, OpenAI, OpenAI-compatible servers and local GGUF
models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel, LanguageModelInput

from agents.models.offline import OfflineChatModel
from agents.models.openai_compat import RawArgsChatOpenAI
from agents.settings import Settings

__all__ = ["CompatibleServerChat", "ModelConfigError", "local_model_to_load", "make_chat_model"]

LOCAL_PREFIX = "local:"


class ModelConfigError(ValueError):
    """The model settings cannot produce a chat model; the message says which setting to fix."""


def make_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model the settings ask for.

    `offline` is the built-in deterministic model. `local:/path/model.gguf` starts (or reuses) a llama.cpp
    server on 127.0.0.1 for that file. With `base_url`, the model name is served by any OpenAI-compatible
    endpoint (vLLM, Ollama, LM Studio). Otherwise `provider:model` goes to `init_chat_model` (e.g.
    `openai:gpt-4o-mini`). Every remote call sends `max_tokens` and `temperature` from the settings.
    """
    try:
        name = settings.resolved_model()
    except ValueError as exc:
        raise ModelConfigError(str(exc)) from exc
    if name == "offline":
        return OfflineChatModel()
    if name.startswith(LOCAL_PREFIX):
        return _local(settings, Path(name.removeprefix(LOCAL_PREFIX)))
    key = settings.resolved_api_key()
    if settings.base_url:
        return _openai(settings, name.removeprefix("openai:"), settings.base_url, key or "not-needed")
    provider, sep, model = name.partition(":")
    if not sep:
        raise ModelConfigError(
            f"OPSGRAPH_MODEL={name!r}: use 'offline', 'openai:<model>', 'local:/path/model.gguf', or set "
            "OPSGRAPH_BASE_URL for an OpenAI-compatible server"
        )
    if provider == "openai":
        if not key:
            raise ModelConfigError(f"model {name!r} needs OPENAI_API_KEY or OPSGRAPH_API_KEY")
        return _openai(settings, model, None, key)
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(
            model,
            model_provider=provider,
            api_key=key,
            timeout=settings.model_timeout_s,
            max_retries=1,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
        )
    except (ImportError, ValueError) as exc:
        raise ModelConfigError(f"cannot use model {name!r}: {exc}") from exc


def local_model_to_load(settings: Settings) -> str | None:
    """The file name of the `local:` model the settings name when no server holds it yet, so the first
    request loads it (tens of seconds on a CPU, with nothing to show meanwhile); None otherwise."""
    from agents.models.local import LocalModelError, LocalServerSpec
    from agents.models.local_shared import is_serving

    try:
        name = settings.resolved_model()
    except ValueError:
        return None
    if not name.startswith(LOCAL_PREFIX):
        return None
    try:
        spec = LocalServerSpec.from_settings(settings, Path(name.removeprefix(LOCAL_PREFIX)))
    except (LocalModelError, OSError):
        return None  # make_chat_model reports it
    return None if is_serving(spec, settings.data_dir) else spec.model.name


class CompatibleServerChat(RawArgsChatOpenAI):
    """`RawArgsChatOpenAI` for OpenAI-compatible servers: it sends `max_tokens`, which llama.cpp, Ollama, vLLM and
    LM Studio all read, where LangChain sends OpenAI's newer `max_completion_tokens`, which some ignore."""

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        if "max_completion_tokens" in payload:
            payload["max_tokens"] = payload.pop("max_completion_tokens")
        return payload


def _openai(
    settings: Settings, model: str, base_url: str | None, key: str, **clients: Any
) -> RawArgsChatOpenAI:
    cls = RawArgsChatOpenAI if base_url is None else CompatibleServerChat
    return cls(
        model=model,
        base_url=base_url,
        api_key=key,  # type: ignore[arg-type]
        timeout=settings.model_timeout_s,
        max_retries=1,
        max_tokens=settings.max_tokens,  # type: ignore[call-arg]
        temperature=settings.temperature,
        **clients,
    )


def _local(settings: Settings, path: Path) -> RawArgsChatOpenAI:
    from agents.models.local import LocalModelError, LocalServerSpec
    from agents.models.local_shared import shared_base_url
    from agents.models.local_transport import LOCAL_BASE_URL, AsyncLocalServerTransport, LocalServerTransport

    if settings.base_url:
        raise ModelConfigError(
            f"OPSGRAPH_MODEL=local:{path} starts its own server: unset OPSGRAPH_BASE_URL "
            f"({settings.base_url}), or name the model served there"
        )
    try:
        spec = LocalServerSpec.from_settings(
            settings, path
        )  # the file is checked now, the server started later
    except LocalModelError as exc:
        raise ModelConfigError(str(exc)) from exc

    def start() -> str:
        return shared_base_url(
            spec,
            settings.data_dir,
            keep_alive_s=settings.local_keep_alive_s,
            start_timeout_s=settings.local_start_timeout_s,
        )

    transport = LocalServerTransport(start)
    return _openai(
        settings,
        spec.model.name,
        LOCAL_BASE_URL,
        "not-needed",
        http_client=httpx.Client(transport=transport, timeout=settings.model_timeout_s),
        http_async_client=httpx.AsyncClient(
            transport=AsyncLocalServerTransport(transport), timeout=settings.model_timeout_s
        ),
    )
