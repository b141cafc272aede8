from __future__ import annotations

import os

import pytest
from langchain_openai import ChatOpenAI

from agents.models import ModelConfigError, OfflineChatModel, make_chat_model
from agents.routing import route_request
from opsgraph.settings import Settings


def test_offline_without_a_key() -> None:
    assert isinstance(make_chat_model(Settings()), OfflineChatModel)


def test_openai_compatible_server_by_base_url() -> None:
    model = make_chat_model(Settings(model="llama3.1", base_url="http://127.0.0.1:11434/v1"))
    assert isinstance(model, ChatOpenAI)
    assert (model.model_name, model.openai_api_base) == ("llama3.1", "http://127.0.0.1:11434/v1")


def test_openai_by_name_with_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    model = make_chat_model(Settings(model="openai:gpt-4o-mini"))
    assert isinstance(model, ChatOpenAI) and model.model_name == "gpt-4o-mini"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model": "openai:gpt-4o-mini"}, "needs OPENAI_API_KEY"),
        ({"model": "gpt-4o"}, "use 'offline', 'openai:<model>'"),
        ({"base_url": "http://127.0.0.1:8000/v1"}, "OPSGRAPH_MODEL must name the model"),
    ],
)
def test_bad_model_settings_say_what_to_fix(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ModelConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_chat_model(Settings(**settings))  # type: ignore[arg-type]


REAL_BASE_URL = os.environ.get("OPSGRAPH_TEST_MODEL_BASE_URL")


@pytest.mark.skipif(
    not REAL_BASE_URL, reason="real model: set OPSGRAPH_TEST_MODEL_BASE_URL and OPSGRAPH_TEST_MODEL to run"
)
def test_a_real_openai_compatible_model_routes() -> None:  # pragma: no cover - needs a live endpoint
    settings = Settings(model=os.environ["OPSGRAPH_TEST_MODEL"], base_url=REAL_BASE_URL)
    assert route_request(make_chat_model(settings), "list the pods in namespace payments").agents == [
        "kubernetes"
    ]
