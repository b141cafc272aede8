"""The contract every suite follows, and what a running case may use (`CaseEnv`).

A suite lists its cases in the parent process and runs each one in a worker, so `run_case` takes only
picklable inputs. Summaries are computed from result rows alone, which is what makes `--resume` and
`opsgraph eval compare` work from the files of a run.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from eval.case import Case, CaseOutcome, CaseResult, Usage
from eval.cassette import CassetteEntry, RecordingChatModel, ReplayChatModel

__all__ = ["CaseEnv", "Chart", "RunOptions", "Suite", "SuiteSummary", "Table", "missing_modules"]


@dataclass(frozen=True)
class RunOptions:
    """Options of one run, as given on the command line."""

    dataset: str | None = None
    model: str | None = None
    workers: int = 1
    limit: int | None = None
    time_limit_s: float = 120.0
    replay: Path | None = None
    resume: bool = False
    backend: str = "local"
    seed: int = 0


@dataclass
class CaseEnv:
    """What a case may use while it runs: the chat model (recorded, or replayed from a cassette)."""

    case_id: str
    model: str | None
    replay: list[CassetteEntry] | None = None
    _models: list[RecordingChatModel | ReplayChatModel] = field(default_factory=list)

    def chat_model(self) -> BaseChatModel:
        """The run's model for this case; every call is recorded (or answered from the cassette)."""
        if self.replay is not None:
            replaying = ReplayChatModel(case_id=self.case_id, recorded=self.replay)
            self._models.append(replaying)
            return replaying
        from agents.models import make_chat_model
        from opsgraph.settings import load_settings

        settings = load_settings(model=self.model) if self.model else load_settings()
        inner = make_chat_model(settings)
        label = settings.resolved_model()
        recording = RecordingChatModel(inner=inner, model_label=label, case_id=self.case_id)
        self._models.append(recording)
        return recording

    def entries(self) -> list[CassetteEntry]:
        out: list[CassetteEntry] = []
        for m in self._models:
            out.extend(m.entries if isinstance(m, RecordingChatModel) else m.used)
        return out

    def usage(self) -> Usage:
        total = Usage()
        for entry in self.entries():
            total = total.add(entry.usage())
        return total


class Table(BaseModel):
    """A table of the report (rendered to Markdown and HTML)."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    note: str = ""


class Chart(BaseModel):
    """A bar chart of the HTML report: `series` name -> one value per label."""

    title: str
    labels: list[str]
    series: dict[str, list[float]]
    ylabel: str = ""


class SuiteSummary(BaseModel):
    """Suite-specific figures: headline metrics, tables and charts."""

    metrics: dict[str, Any] = Field(default_factory=dict)
    tables: list[Table] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)


def missing_modules(*modules: str) -> str | None:
    """None when every module imports; otherwise why not, in one line (for `unavailable_reason`)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # an import error of a half-landed module is as blocking as a missing one
            return f"`{name}` cannot be imported ({type(exc).__name__}: {exc})"
    return None


class Suite(ABC):
    """One suite: its cases, how one case runs, and how results add up."""

    name: ClassVar[str]
    description: ClassVar[str]
    datasets: ClassVar[tuple[str, ...]] = ()
    uses_model: ClassVar[bool] = False

    def unavailable_reason(self, options: RunOptions) -> str | None:
        """Why this suite cannot run here (a dependency not built yet), or None when it can."""
        return None

    @abstractmethod
    def cases(self, options: RunOptions) -> list[Case]:
        """Every case, in a stable order (ids unique within the suite)."""

    @abstractmethod
    def run_case(self, case: Case, env: CaseEnv) -> CaseOutcome:
        """Run one case; raise on a broken case (the runner records the error and goes on)."""

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        """Suite-specific figures; the runner adds status counts, times and usage itself."""
        return SuiteSummary()
