"""Settings: `OPSGRAPH_*` environment variables over an optional `opsgraph.toml`, over defaults.

It lives in `agents`, the lowest layer that reads settings, and imports nothing else of ours; `agents`,
`server`, `eval` and `opsgraph` (which re-exports it as `opsgraph.settings`) take a `Settings` from here.
Tools never read settings: what one needs (a kubeconfig, price overrides) reaches it in its `ToolContext`,
which the layer that builds the context fills from the settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Role", "Settings", "default_data_dir", "load_settings"]

Role = Literal["admin", "operator", "readonly"]


def default_data_dir() -> Path:
    """Where opsgraph keeps its checkpoint database and the sandbox kubeconfig."""
    return Path(platformdirs.user_data_dir("opsgraph", appauthor=False))


def _toml_file() -> Path:
    return Path(os.environ.get("OPSGRAPH_CONFIG_FILE", "opsgraph.toml"))


class Settings(BaseSettings):
    """Everything a user can configure. Unset fields mean the embedded defaults."""

    model_config = SettingsConfigDict(env_prefix="OPSGRAPH_", extra="forbid", validate_default=True)

    model: str = Field(
        default="",
        description=(
            "Chat model: `offline` (the built-in deterministic model), `openai:<name>`, `local:/path/model.gguf` "
            "(served by llama.cpp on 127.0.0.1, needs `opsgraph[local]`), or a model name served by "
            "`base_url`. Empty means `openai:gpt-4o-mini` when an API key is set, else `offline`."
        ),
    )
    base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible endpoint (vLLM, Ollama, LM Studio), e.g. http://localhost:11434/v1",
    )
    api_key: SecretStr | None = Field(default=None, description="API key; OPENAI_API_KEY is used when unset.")
    model_timeout_s: float = Field(
        default=60.0, gt=0, description="Seconds one model call may take before it fails (every provider)."
    )
    max_tokens: int = Field(
        default=1024, gt=0, description="Most tokens the model may write in one call; sent with every call."
    )
    temperature: float = Field(
        default=0.0, ge=0, le=2, description="Sampling temperature; sent with every call (0 = most likely)."
    )
    local_context_size: int = Field(
        default=8192, ge=256, description="Context window (tokens) of a `local:` model's llama.cpp server."
    )
    local_threads: int = Field(
        default=0,
        ge=0,
        description="CPU threads for a `local:` model; 0 means half the CPUs (at least 1), which keeps "
        "llama.cpp's threads from fighting over cores.",
    )
    local_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port on 127.0.0.1 for a `local:` model's server; 0 picks a free one.",
    )
    local_keep_alive_s: float = Field(
        default=300.0,
        ge=0,
        description="How long a `local:` model's server keeps running after the last opsgraph process using it "
        "exits, so the next command starts at once.",
    )
    local_start_timeout_s: float = Field(
        default=120.0, gt=0, description="Seconds a `local:` model's server may take to load the model."
    )
    tool_calls: Literal["auto", "native", "text", "json"] = Field(
        default="auto",
        description=(
            "How a real model calls tools: `native` (the API's tool calls only), `auto` (native, and calls a "
            "model writes as text are recognised too), `text` (tools described in the prompt, calls read "
            "from the text: for servers without a tool API), `json` (`text` with JSON-schema constrained "
            "output: every step is a valid call or an answer, and an agent's first step is a call). Unset, "
            "a `local:` model gets `json` (see `resolved_tool_calls`)."
        ),
    )
    direct_answers: Literal["auto", "on", "off"] = Field(
        default="auto",
        description=(
            "Whether an agent whose one read-only tool call answered the request (a result opsgraph presents: "
            "an IAM decision, a pod list, a diagnosis, a cost report) ends with opsgraph's rendering of it "
            "instead of another model call. `auto`: on for a `local:` model, off for every other (see "
            "`resolved_direct_answers`)."
        ),
    )
    max_tools: int = Field(
        default=8, ge=1, description="Tools bound per model call of a real model (the most relevant ones)."
    )
    agent_max_steps: int = Field(
        default=8, ge=1, description="Model calls an agent may make for one request before the run stops."
    )
    tool_retries: int = Field(
        default=2,
        ge=0,
        description="Times a model is asked again after an invalid tool call, or an argument a tool rejected.",
    )
    router_max_tokens: int = Field(
        default=160, ge=16, description="Token limit of the routing decision (a short JSON object)."
    )
    kubeconfig: Path | None = Field(
        default=None, description="Kubeconfig file; KUBECONFIG is honoured when unset."
    )
    kube_context: str | None = Field(default=None, description="Kubeconfig context to use.")
    sandbox: bool = Field(
        default=True,
        description="Start the local sandbox cluster when no kubeconfig or context is configured.",
    )
    checkpoint_url: str = Field(
        default="",
        description=(
            "`memory`, `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` (SQLAlchemy's form: the "
            "path follows the third slash), or `postgresql://...`. Empty means SQLite under data_dir."
        ),
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    read_only: bool = Field(default=False, description="Refuse every tool that changes anything.")
    cost_prices: Path | None = Field(
        default=None, description="Cost price overrides (TOML/JSON): discounts, Savings Plan, reserved."
    )
    user: str = Field(
        default_factory=lambda: os.environ.get("USER", "local"), description="Who the CLI acts as."
    )
    api_tokens: str = Field(
        default="", description='Server bearer tokens: "token1=alice:admin,token2=bob:readonly".'
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="The largest request body the server reads (HTTP API and Slack); larger ones get 413.",
    )
    workspace: Path | None = Field(
        default=None,
        description=(
            "The one folder requests over HTTP or Slack may name files in (policies, specs), checked after "
            "links are resolved. Unset: such requests must send a policy's content, never a path."
        ),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_toml_file())
        return (init_settings, env_settings, toml, file_secret_settings)

    @field_validator("checkpoint_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        ok = ("", "memory", "sqlite://", "postgres://", "postgresql://")
        if value and not any(value == p or (p.endswith("://") and value.startswith(p)) for p in ok):
            raise ValueError("checkpoint_url must be `memory`, `sqlite:///path` or `postgresql://...`")
        return value

    def resolved_api_key(self) -> str | None:
        if self.api_key is not None:
            return self.api_key.get_secret_value()
        return os.environ.get("OPENAI_API_KEY") or None

    def resolved_model(self) -> str:
        if self.model:
            return self.model
        if self.base_url:
            raise ValueError("OPSGRAPH_MODEL must name the model served at OPSGRAPH_BASE_URL")
        return "openai:gpt-4o-mini" if self.resolved_api_key() else "offline"

    def resolved_tool_calls(self) -> Literal["auto", "native", "text", "json"]:
        """The tool-call mode: `tool_calls` where it was set (environment, `opsgraph.toml`, argument),
        else `json` for a `local:` model and `auto` for every other. Measured on Qwen2.5-Coder-1.5B with
        `bench/real_model.py` (docs/models.md, "Measured routing and quality"): in `auto` the small model
        writes prose around a call it invents arguments for, hundreds of tokens at a few per second; a
        constrained step is a few dozen tokens naming the file the request names."""
        if "tool_calls" in self.model_fields_set or not self.model.startswith("local:"):
            return self.tool_calls
        return "json"

    def resolved_direct_answers(self) -> bool:
        """Whether agents end with the rendering of a decisive read-only result (`direct_answers`). `auto`
        turns it on for `local:` models: on 2 CPU cores the model calls it saves were most of an IAM check's
        time, and a 1.5B model restating a decision got 1 of 6 checks right (docs/models.md)."""
        if self.direct_answers == "auto":
            return self.model.startswith("local:")
        return self.direct_answers == "on"

    def resolved_checkpoint_url(self) -> str:
        return self.checkpoint_url or f"sqlite:///{self.data_dir / 'opsgraph.sqlite'}"

    def resolved_kubeconfig(self) -> Path | None:
        if self.kubeconfig is not None:
            return self.kubeconfig
        env = os.environ.get("KUBECONFIG")
        return Path(env.split(os.pathsep)[0]) if env else None

    def wants_sandbox(self) -> bool:
        """True when no cluster is configured and the sandbox should stand in for one."""
        if self.kube_context or self.resolved_kubeconfig() is not None:
            return False
        return self.sandbox and not Path.home().joinpath(".kube", "config").exists()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `opsgraph.toml`, with explicit overrides on top."""
    return Settings(**overrides)
