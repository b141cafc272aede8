"""The suite registry: `opsgraph eval run NAME` looks a suite up here (modules load on first use)."""

from __future__ import annotations

import importlib

from eval.suite import Suite

__all__ = ["SUITE_NAMES", "get_suite", "register_suite", "registered_suite"]

_BUILTIN: dict[str, str] = {
    "iam-compare": "eval.suites.iam_compare:IamCompareSuite",
    "iam-repair": "eval.suites.iam_repair:IamRepairSuite",
    "iam-synthesis": "eval.suites.iam_synthesis:IamSynthesisSuite",
    "iam-explain": "eval.suites.iam_explain:IamExplainSuite",
    "iam-questions": "eval.suites.iam_questions:IamQuestionsSuite",
    "routing": "eval.suites.routing:RoutingSuite",
    "k8s-tasks": "eval.suites.k8s_tasks:K8sTasksSuite",
    "kubeintellect": "eval.suites.kubeintellect:KubeIntellectSuite",
    "cost": "eval.suites.cost:CostSuite",
}
SUITE_NAMES: tuple[str, ...] = tuple(_BUILTIN)
_extra: dict[str, type[Suite]] = {}


def register_suite(cls: type[Suite]) -> None:
    """Add a suite at run time (tests use this for suites that crash on purpose)."""
    _extra[cls.name] = cls


def registered_suite(name: str) -> type[Suite] | None:
    """The class of a suite added with `register_suite` (None for a built-in one): the Ray backend ships it."""
    return _extra.get(name)


def get_suite(name: str) -> Suite:
    """An instance of the suite called `name`; KeyError names the known suites."""
    if name in _extra:
        return _extra[name]()
    if name not in _BUILTIN:
        raise KeyError(f"unknown suite {name!r}; known: {', '.join(SUITE_NAMES)}")
    module, _, attr = _BUILTIN[name].partition(":")
    cls: type[Suite] = getattr(importlib.import_module(module), attr)
    return cls()
