"""The package's public names are a contract."""

from __future__ import annotations

import verifiers.iam.repair as repair_package


def test_public_names() -> None:
    assert set(repair_package.__all__) == {
        "Edit",
        "Fault",
        "FaultReport",
        "ModelRound",
        "Proposer",
        "RepairOptions",
        "RepairResult",
        "Spec",
        "SpecCheck",
        "SpecRequest",
        "Summary",
        "SynthesisResult",
        "Violation",
        "chat_proposer",
        "check_spec",
        "extract_policy",
        "load_spec",
        "localize",
        "parse_spec",
        "repair",
        "summarize",
        "synthesize",
    }
    for name in repair_package.__all__:
        assert getattr(repair_package, name) is not None
