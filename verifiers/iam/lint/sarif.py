"""Lint findings as SARIF 2.1.0, the format code-scanning tools (GitHub, GitLab, IDEs) read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifiers.iam.lint.codes import CODES
from verifiers.iam.lint.findings import Finding

__all__ = ["to_sarif"]

_LEVEL = {"error": "error", "security_warning": "warning", "warning": "warning", "suggestion": "note"}
_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_sarif(findings: Sequence[Finding], *, version: str = "0") -> dict[str, Any]:
    """One run of `opsgraph iam lint` with one result per finding; rules are the codes used."""
    used = sorted({f.code for f in findings})
    rules = [
        {
            "id": code,
            "shortDescription": {"text": CODES[code][2] if code in CODES else code},
            "defaultConfiguration": {"level": _LEVEL[CODES[code][0]] if code in CODES else "warning"},
            "properties": {
                "tags": ["security"] if code in CODES and CODES[code][0] == "security_warning" else []
            },
        }
        for code in used
    ]
    results = []
    for f in findings:
        location: dict[str, Any] = {
            "physicalLocation": {"artifactLocation": {"uri": f.path or "policy.json"}}
        }
        if f.location is not None:
            location["physicalLocation"]["region"] = {
                "startLine": f.location.line,
                "startColumn": f.location.column,
                "endLine": f.location.end_line,
                "endColumn": f.location.end_column,
                "charOffset": f.location.offset,
                "charLength": f.location.length,
            }
        location["logicalLocations"] = [{"fullyQualifiedName": f.pointer or "/", "kind": "element"}]
        results.append(
            {
                "ruleId": f.code,
                "ruleIndex": used.index(f.code),
                "level": _LEVEL[f.severity],
                "message": {"text": f.message},
                "locations": [location],
                "properties": {"severity": f.severity},
            }
        )
    return {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "opsgraph iam lint",
                        "version": version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
