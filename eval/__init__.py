"""The offline eval suite: shipped datasets, suites, a crash-isolating runner, cassettes and reports."""

from eval.case import Case, CaseOutcome, CaseResult, Status, Usage
from eval.datasets import DatasetInfo, list_datasets
from eval.runner import RunOutcome, SuiteUnavailableError, read_results, run_suite
from eval.suite import CaseEnv, Chart, RunOptions, Suite, SuiteSummary, Table
from eval.suites import SUITE_NAMES, get_suite, register_suite

__all__ = [
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
]
