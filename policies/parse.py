"""Parse IAM policy JSON into `Policy`, naming the JSON pointer and what was expected on any error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.model import PRINCIPAL_KINDS, ConditionClause, Policy, Principal, Statement
from policies.operators import parse_operator

__all__ = ["VERSIONS", "PolicyParseError", "load_json", "load_policy", "parse_policy"]

VERSIONS = ("2012-10-17", "2008-10-17")
_POLICY_KEYS = ("Version", "Id", "Statement")
_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)


class PolicyParseError(ValueError):
    """A policy (or request) that is not valid; `.pointer` is the JSON pointer of the offending place.

    `code` names the rule in IAM Access Analyzer's words (`JSON_SYNTAX_ERROR`, `INVALID_POLICY_ELEMENT`,
    ...); `line` and `column` locate malformed JSON (for the others, `policies.locate` finds the pointer)."""

    def __init__(
        self,
        pointer: str,
        message: str,
        *,
        source: str | None = None,
        code: str = "DATA_TYPE_MISMATCH",
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.pointer = pointer
        self.reason = message
        self.source = source
        self.code = code
        self.line, self.column = line, column
        where = f"{source}: " if source else ""
        super().__init__(f"{where}at {pointer or '/'}: {message}")


def _escape(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def load_json(text: str, source: str | None = None) -> Any:
    """`json.loads` with the error turned into a `PolicyParseError` naming line and column."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyParseError(
            "",
            f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}",
            source=source,
            code="JSON_SYNTAX_ERROR",
            line=exc.lineno,
            column=exc.colno,
        ) from None
    except RecursionError:
        raise PolicyParseError(
            "", "JSON nested too deeply to be a policy", source=source, code="JSON_SYNTAX_ERROR"
        ) from None


class _Parser:
    def __init__(self, source: str | None) -> None:
        self.source = source

    def fail(self, pointer: str, message: str, code: str = "DATA_TYPE_MISMATCH") -> PolicyParseError:
        return PolicyParseError(pointer, message, source=self.source, code=code)

    def check_keys(self, obj: Mapping[str, Any], allowed: tuple[str, ...], pointer: str) -> None:
        for key in obj:
            if key in allowed:
                continue
            hint = next((a for a in allowed if a.lower() == str(key).lower()), None)
            extra = f" (element names are case-sensitive: did you mean {hint!r}?)" if hint else ""
            raise self.fail(
                f"{pointer}/{_escape(key)}",
                f"unknown element {key!r}; expected one of {', '.join(allowed)}{extra}",
                "INVALID_POLICY_ELEMENT",
            )

    def string_list(self, value: Any, pointer: str, what: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        if isinstance(value, list) and not value:
            raise self.fail(
                pointer, f"expected {what}: a string or a non-empty list of strings, got an empty list"
            )
        for i, item in enumerate(items):
            if not isinstance(item, str):
                where = f"{pointer}/{i}" if isinstance(value, list) else pointer
                raise self.fail(where, f"expected {what} as a string, got {_kind(item)}")
        return tuple(items)

    def principal(self, value: Any, pointer: str) -> Principal:
        if value == "*":
            return Principal(wildcard=True)
        if not isinstance(value, dict) or not value:
            raise self.fail(
                pointer,
                f'expected "*" or an object with keys {", ".join(PRINCIPAL_KINDS)}, got {_kind(value)}',
            )
        values: dict[str, tuple[str, ...]] = {}
        for kind, items in value.items():
            if kind not in PRINCIPAL_KINDS:
                raise self.fail(
                    f"{pointer}/{_escape(kind)}",
                    f"unknown principal type {kind!r}; expected one of {', '.join(PRINCIPAL_KINDS)}",
                    "INVALID_PRINCIPAL_KEY",
                )
            values[kind] = self.string_list(items, f"{pointer}/{_escape(kind)}", "a principal")
        return Principal(values=values)

    def condition(self, value: Any, pointer: str) -> tuple[ConditionClause, ...]:
        if not isinstance(value, dict):
            raise self.fail(pointer, f"expected an object of operator -> {{key: values}}, got {_kind(value)}")
        clauses = []
        for op_name, block in value.items():
            op_pointer = f"{pointer}/{_escape(op_name)}"
            if parse_operator(op_name) is None:
                raise self.fail(
                    op_pointer, f"unknown condition operator {op_name!r}", "INVALID_CONDITION_OPERATOR"
                )
            if not isinstance(block, dict) or not block:
                raise self.fail(
                    op_pointer, f"expected a non-empty object of condition key -> values, got {_kind(block)}"
                )
            for key, raw in block.items():
                key_pointer = f"{op_pointer}/{_escape(key)}"
                items = raw if isinstance(raw, list) else [raw]
                if not items:
                    raise self.fail(key_pointer, "expected a condition value or a non-empty list of values")
                values = []
                for i, item in enumerate(items):
                    if isinstance(item, bool):
                        values.append("true" if item else "false")
                    elif isinstance(item, (int, float)):
                        values.append(json.dumps(item))
                    elif isinstance(item, str):
                        values.append(item)
                    else:
                        where = f"{key_pointer}/{i}" if isinstance(raw, list) else key_pointer
                        raise self.fail(where, f"expected a string, number or boolean, got {_kind(item)}")
                clauses.append(ConditionClause(operator=op_name, key=key, values=tuple(values)))
        return tuple(clauses)

    def statement(self, value: Any, pointer: str, index: int) -> Statement:
        if not isinstance(value, dict):
            raise self.fail(pointer, f"expected a statement object, got {_kind(value)}")
        self.check_keys(value, _STATEMENT_KEYS, pointer)
        effect = value.get("Effect")
        if effect not in ("Allow", "Deny"):
            where = f"{pointer}/Effect" if "Effect" in value else pointer
            got = "nothing" if "Effect" not in value else repr(effect)
            raise self.fail(
                where,
                f'expected Effect "Allow" or "Deny", got {got}',
                "INVALID_EFFECT" if "Effect" in value else "MISSING_EFFECT",
            )
        for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
            if a in value and b in value:
                raise self.fail(
                    f"{pointer}/{b}",
                    f"a statement may have {a} or {b}, not both",
                    "UNSUPPORTED_ELEMENT_COMBINATION",
                )
        if "Action" not in value and "NotAction" not in value:
            raise self.fail(pointer, "expected an Action or NotAction element", "MISSING_ACTION")
        sid = value.get("Sid")
        if sid is not None and not isinstance(sid, str):
            raise self.fail(f"{pointer}/Sid", f"expected Sid as a string, got {_kind(sid)}")
        fields: dict[str, Any] = {}
        for name, attr, what in (
            ("Action", "action", "an action"),
            ("NotAction", "not_action", "an action"),
            ("Resource", "resource", "a resource ARN"),
            ("NotResource", "not_resource", "a resource ARN"),
        ):
            if name in value:
                fields[attr] = self.string_list(value[name], f"{pointer}/{name}", what)
        for name, attr in (("Principal", "principal"), ("NotPrincipal", "not_principal")):
            if name in value:
                fields[attr] = self.principal(value[name], f"{pointer}/{name}")
        if "Condition" in value:
            fields["condition"] = self.condition(value["Condition"], f"{pointer}/Condition")
        return Statement(sid=sid, effect=effect, index=index, **fields)

    def policy(self, doc: Any) -> Policy:
        if not isinstance(doc, dict):
            raise self.fail("", f"expected a policy object with a Statement element, got {_kind(doc)}")
        self.check_keys(doc, _POLICY_KEYS, "")
        version = doc.get("Version")
        if version is not None and version not in VERSIONS:
            raise self.fail(
                "/Version", f"expected Version {' or '.join(VERSIONS)}, got {version!r}", "INVALID_VERSION"
            )
        pid = doc.get("Id")
        if pid is not None and not isinstance(pid, str):
            raise self.fail("/Id", f"expected Id as a string, got {_kind(pid)}")
        if "Statement" not in doc:
            raise self.fail("", "expected a Statement element", "MISSING_STATEMENT")
        raw = doc["Statement"]
        statements: tuple[Statement, ...]
        if isinstance(raw, dict):
            statements = (self.statement(raw, "/Statement", 0),)
        elif isinstance(raw, list):
            statements = tuple(self.statement(s, f"/Statement/{i}", i) for i, s in enumerate(raw))
        else:
            raise self.fail("/Statement", f"expected a statement object or a list of them, got {_kind(raw)}")
        return Policy(version=version, id=pid, statements=statements, source=self.source)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    names = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


def parse_policy(
    text_or_dict: str | bytes | Mapping[str, Any] | Policy, *, source: str | None = None
) -> Policy:
    """Parse a policy from JSON text or a decoded dict; raises `PolicyParseError` naming the JSON pointer."""
    if isinstance(text_or_dict, Policy):
        return text_or_dict
    if isinstance(text_or_dict, bytes):
        text_or_dict = text_or_dict.decode("utf-8", errors="replace")
    doc: Any = text_or_dict
    if isinstance(text_or_dict, str):
        doc = load_json(text_or_dict, source)
    elif isinstance(text_or_dict, Mapping):
        doc = dict(text_or_dict)
    return _Parser(source).policy(doc)


def load_policy(spec: str, *, base_dir: Path | None = None) -> Policy:
    """A policy from inline JSON (text starting with `{`) or a file path (relative to `base_dir`)."""
    text = spec.strip()
    if text.startswith("{"):
        return parse_policy(text, source="<inline>")
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyParseError(
            "", f"cannot read policy file: {exc.strerror or exc}", source=str(path)
        ) from None
    return parse_policy(content, source=spec)
