"""The contract every suite follows, and what a running case may use (`CaseEnv`).

A suite lists its cases in the parent process and runs each one in a worker, so `run_case` takes only
picklable inputs. Summaries are computed from result rows alone, which is what makes `--resume` and
`opsgraph eval compare` work from the files of a run.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, Field

from agents.settings import Settings
from eval.case import Case, CaseOutcome, CaseResult, Usage
from eval.cassette import CassetteEntry, OfflineReplayChatModel, RecordingChatModel, ReplayChatModel

__all__ = [
    "RUN_SETTINGS",
    "CaseEnv",
    "Chart",
    "RunOptions",
    "Suite",
    "SuiteSummary",
    "Table",
    "missing_modules",
    "run_settings_of",
    "spread_cases",
]


@dataclass(frozen=True)
class RunOptions:
    """Options of one run, as given on the command line."""

    dataset: str | None = None
    model: str | None = None
    workers: int = 1
    limit: int | None = None
    time_limit_s: float = 120.0
    replay: Path | None = None
    replay_in_order: bool = False
    """A request the cassette does not hold gets the next recorded answer (prompts changed since)."""
    resume: bool = False
    backend: str = "local"
    seed: int = 0
    address: str | None = None
    """The Ray cluster for `backend="ray"` (`ray://HOST:10001`); None: `RAY_ADDRESS`, else a local one."""


RUN_SETTINGS = (
    "model",
    "base_url",
    "tool_calls",
    "direct_answers",
    "max_tools",
    "agent_max_steps",
    "tool_retries",
    "router_max_tokens",
    "max_tokens",
    "temperature",
    "model_timeout_s",
    "local_context_size",
    "local_threads",
)
"""The settings that shape model calls: recorded with every cassette entry, restored on replay."""


def run_settings_of(settings: Settings) -> dict[str, Any]:
    """The model-shaping part of `settings` (see `RUN_SETTINGS`), as JSON; the tool-call mode and direct
    answers as used."""
    shaping = settings.model_dump(mode="json", include=set(RUN_SETTINGS))
    direct = "on" if settings.resolved_direct_answers() else "off"
    return {**shaping, "tool_calls": settings.resolved_tool_calls(), "direct_answers": direct}


@dataclass
class CaseEnv:
    """What a case may use while it runs: the chat model (recorded, or replayed from a cassette) and the
    settings the run's model calls are shaped by."""

    case_id: str
    model: str | None
    replay: list[CassetteEntry] | None = None
    replay_in_order: bool = False
    _calls: list[CassetteEntry] = field(default_factory=list)
    """Every model call of the case, recorded or replayed, shared by all the case's models in call order."""

    def settings(self, **overrides: Any) -> Settings:
        """The run's settings with `overrides`: the configured ones (OPSGRAPH_*, `--model`), or, on replay,
        those the cassette was recorded with, so the agents treat the replayed model as they did the real one."""
        from agents.settings import load_settings

        if self.replay is not None:
            recorded = next((e.run_settings for e in self.replay if e.run_settings), {})
            shaping = {
                k: v for k, v in recorded.items() if k in RUN_SETTINGS and k not in ("model", "base_url")
            }
            return load_settings(**{**shaping, **overrides})
        return load_settings(**({"model": self.model} if self.model else {}), **overrides)

    def chat_model(self) -> BaseChatModel:
        """The run's model for this case; every call is recorded (or answered from the cassette)."""
        if self.replay is not None:
            offline = bool(self.replay) and self.replay[0].model == "offline"
            cls = OfflineReplayChatModel if offline else ReplayChatModel
            replaying = cls(case_id=self.case_id, recorded=self.replay, in_order=self.replay_in_order)
            replaying.used = self._calls
            return replaying
        from agents.models import make_chat_model

        settings = self.settings()
        inner = make_chat_model(settings)
        recording = RecordingChatModel(
            inner=inner,
            model_label=settings.resolved_model(),
            case_id=self.case_id,
            run_settings=run_settings_of(settings),
        )
        recording.entries = self._calls
        return recording

    def entries(self) -> list[CassetteEntry]:
        return list(self._calls)

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

    def stratum(self, case: Case) -> str | None:
        """The group `case` belongs to when `--limit` picks a sample (request kinds, task suites); None
        for a suite without groups, where `--limit K` runs the first K cases."""
        return None

    def select(self, cases: list[Case], limit: int) -> list[Case]:
        """The `limit` cases a `--limit` run takes: spread over the strata (see `spread_cases`)."""
        return spread_cases(cases, limit, self.stratum)

    def summarize(self, results: list[CaseResult], options: RunOptions) -> SuiteSummary:
        """Suite-specific figures; the runner adds status counts, times and usage itself."""
        return SuiteSummary()


def spread_cases(cases: list[Case], limit: int, stratum: Callable[[Case], str | None]) -> list[Case]:
    """`limit` of `cases`, in their order, spread over their strata: each stratum gets a share in proportion
    to its size (at least one case each while the limit allows), taken evenly across the stratum rather
    than from its start. Without strata, the first `limit` cases."""
    if limit >= len(cases):
        return list(cases)
    groups: dict[str | None, list[int]] = {}
    for i, case in enumerate(cases):
        groups.setdefault(stratum(case), []).append(i)
    if list(groups) == [None]:
        return list(cases[:limit])
    quota = {name: 0 for name in groups}
    if limit >= len(groups):
        quota = dict.fromkeys(groups, 1)
    left = limit - sum(quota.values())
    spare = {name: len(members) - quota[name] for name, members in groups.items()}
    total = sum(spare.values())
    shares = {name: left * spare[name] / total for name in groups}
    for name in groups:
        quota[name] += int(shares[name])
    by_remainder = sorted(groups, key=lambda n: (-(shares[n] - int(shares[n])), list(groups).index(n)))
    for name in by_remainder[: limit - sum(quota.values())]:
        quota[name] += 1
    chosen: set[int] = set()
    for name, members in groups.items():
        k = quota[name]
        chosen.update(members[(j * len(members)) // k] for j in range(k))
    return [case for i, case in enumerate(cases) if i in chosen]
