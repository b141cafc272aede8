"""IAM policy repair, synthesis and fault localization, every result proven by the engine (issue 4).

`repair(policy, spec)` finds the fewest edits that make a policy satisfy its spec, least permissive first;
`synthesize(intent, spec)` writes a policy from a spec (or an intent, with a model); `localize` says which
statements cause each wrong decision; `summarize` gives per-service counts checked against the engine.
"""

from verifiers.iam.repair.check import SpecCheck, Violation, check_spec
from verifiers.iam.repair.edits import Edit
from verifiers.iam.repair.localize import Fault, FaultReport, localize
from verifiers.iam.repair.model import ModelRound, Proposer, chat_proposer, extract_policy
from verifiers.iam.repair.repair import RepairOptions, RepairResult, repair
from verifiers.iam.repair.spec import Spec, SpecRequest, load_spec, parse_spec
from verifiers.iam.repair.summarize import Summary, summarize
from verifiers.iam.repair.synthesize import SynthesisResult, synthesize

__all__ = [
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
]
