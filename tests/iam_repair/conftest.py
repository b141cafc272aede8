"""Shared fixtures for the IAM repair tests: fixture files, and a scripted chat model (a test double)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from policies import Policy, parse_policy
from verifiers.iam.repair import Spec, parse_spec

FIXTURES = Path(__file__).parent / "fixtures"


class FakeScriptedChatModel(BaseChatModel):
    """Replies with the scripted texts in order and records every prompt it was sent."""

    replies: list[str]
    prompts: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "fake-scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.prompts.append("\n".join(str(m.content) for m in messages))
        reply = self.replies[min(len(self.prompts) - 1, len(self.replies) - 1)]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])


def load_case(path: Path) -> tuple[Policy, Spec]:
    doc = json.loads(path.read_text())
    return parse_policy(doc["policy"]), parse_spec(doc.get("suite") or doc["spec"], source=str(path))


@pytest.fixture
def case() -> Any:
    """`case(name)`: the policy and spec of `fixtures/cloudfix/<name>.json` (or a path to any fixture file)."""

    def get(name: str | Path) -> tuple[Policy, Spec]:
        return load_case(name if isinstance(name, Path) else FIXTURES / "cloudfix" / f"{name}.json")

    return get


@pytest.fixture
def scripted_model() -> Any:
    """`scripted_model(replies)`: a FakeScriptedChatModel answering with these texts in order."""

    def make(replies: list[str]) -> FakeScriptedChatModel:
        return FakeScriptedChatModel(replies=replies, prompts=[])

    return make
