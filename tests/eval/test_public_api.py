"""The eval package's public names are a contract."""

from __future__ import annotations

import eval as eval_package


def test_public_names() -> None:
    assert set(eval_package.__all__) == {
        "SUITE_NAMES",
        "Case",
        "CaseEnv",
        "CaseOutcome",
        "CaseResult",
        "Chart",
        "DatasetInfo",
        "RunOptions",
        "RunOutcome",
        "Status",
        "Suite",
        "SuiteSummary",
        "SuiteUnavailableError",
        "Table",
        "Usage",
        "get_suite",
        "list_datasets",
        "read_results",
        "register_suite",
        "run_suite",
    }
    assert all(hasattr(eval_package, name) for name in eval_package.__all__)
    assert set(eval_package.SUITE_NAMES) == {
        "iam-compare",
        "iam-repair",
        "iam-synthesis",
        "iam-explain",
        "iam-questions",
        "routing",
        "k8s-tasks",
        "kubeintellect",
        "cost",
    }
