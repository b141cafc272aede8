"""What a suite hands the runner (a `Case`) and what comes back for it (a `CaseResult`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["Case", "CaseOutcome", "CaseResult", "Status", "Usage"]

Status = Literal["pass", "fail", "error", "timeout", "crashed"]
"""`pass`/`fail`: the case ran and its check held or not. `error`: the case raised (the message says
where). `timeout`: it ran past the per-case limit and was killed. `crashed`: its worker process died."""


class Case(BaseModel):
    """One unit of work: an id unique within the suite and the JSON data the suite needs to run it."""

    id: str
    data: dict[str, Any] = Field(default_factory=dict)


class Usage(BaseModel):
    """Model use of one case: calls, tokens, recorded latency, and cost when the model has a known price."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float | None = 0.0

    def add(self, other: Usage) -> Usage:
        cost = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            latency_s=self.latency_s + other.latency_s,
            cost_usd=cost,
        )


class CaseOutcome(BaseModel):
    """What a suite's `run_case` returns: the verdict, a score, and the facts the summary aggregates."""

    passed: bool
    score: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    detail: dict[str, Any] = Field(default_factory=dict)


class CaseResult(BaseModel):
    """One row of `results.jsonl`."""

    suite: str
    id: str
    status: Status
    duration_s: float
    score: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    detail: dict[str, Any] = Field(default_factory=dict)
    usage: Usage = Field(default_factory=Usage)
    error: str | None = None
