"""How tool results read to people: Markdown renderings of tool artifacts, registered per kind.

A tool that has something structured to show returns `(text, artifact)` (LangChain's
`content_and_artifact`): the text goes to the model, the artifact (a JSON-serialisable dict with a `kind`)
to people. `present(artifact)` turns an artifact into Markdown for the terminal (through `rich`), the web
page and Slack. Kinds are namespaced by domain, `"<domain>.<name>"`, and a domain registers its presenters
in `tools/<domain>/present.py`, which `present` imports the first time it meets the domain.

`check_against_request(artifact, request)` holds a result against the words of the request it answers, for
kinds whose domain registers a check (`request_check`): an IAM policy written from the model's reading of
the request is checked for the addresses, accounts and ARNs the request names.

`readable(content, artifact)` is what every surface shows for a tool result: the artifact presented, or,
for a tool without one (or a kind nobody presents yet), its text made readable by `tools.markdown`.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tools.markdown import readable_text

__all__ = [
    "Artifact",
    "Presenter",
    "RequestCheck",
    "check_against_request",
    "present",
    "presenter",
    "readable",
    "request_check",
]

log = logging.getLogger(__name__)

Artifact = Mapping[str, Any]
Presenter = Callable[[Artifact], str]
RequestCheck = Callable[[Artifact, str], list[str]]

_F = TypeVar("_F", Presenter, RequestCheck)

_PRESENTERS: dict[str, Presenter] = {}
_REQUEST_CHECKS: dict[str, RequestCheck] = {}
_DOMAINS = ("kubernetes", "iam", "cost")


def presenter(kind: str) -> Callable[[Presenter], Presenter]:
    """Register the Markdown rendering of artifacts of `kind` (e.g. `"cost.report"`)."""

    def register(fn: Presenter) -> Presenter:
        _PRESENTERS[kind] = fn
        return fn

    return register


def request_check(kind: str) -> Callable[[RequestCheck], RequestCheck]:
    """Register the check of artifacts of `kind` against the request's words: it returns what a person
    should check (empty: nothing found)."""

    def register(fn: RequestCheck) -> RequestCheck:
        _REQUEST_CHECKS[kind] = fn
        return fn

    return register


def _load_domain(kind: str) -> None:
    domain = kind.partition(".")[0]
    if domain in _DOMAINS:
        try:
            importlib.import_module(f"tools.{domain}.present")
        except ModuleNotFoundError as exc:  # a domain with no presenters yet
            if exc.name != f"tools.{domain}.present":
                raise


def _registered(registry: Mapping[str, _F], artifact: Artifact | None) -> _F | None:
    """The function `registry` holds for `artifact`'s kind, loading its domain's registrations first."""
    if not artifact or not isinstance(artifact.get("kind"), str):
        return None
    kind = str(artifact["kind"])
    if kind not in registry:
        _load_domain(kind)
    return registry.get(kind)


def present(artifact: Artifact | None) -> str | None:
    """The Markdown a person reads for `artifact`, or None when its kind has no presenter."""
    fn = _registered(_PRESENTERS, artifact)
    return fn(artifact) if fn is not None and artifact is not None else None


def check_against_request(artifact: Artifact | None, request: str) -> list[str] | None:
    """What `artifact` leaves out of (or adds to) `request`, or None when its kind has no check."""
    fn = _registered(_REQUEST_CHECKS, artifact)
    return fn(artifact, request) if fn is not None and artifact is not None else None


def readable(content: str, artifact: Artifact | None = None) -> str:
    """The Markdown a person reads for a tool result: `present(artifact)`, else `content` made readable
    (fence markers dropped, JSON as lists and tables). A presenter that fails falls back to the text."""
    try:
        shown = present(artifact)
    except Exception:  # a presenter's bug must not cost the person the result
        log.exception("presenter for %r failed", artifact.get("kind") if artifact else None)
        shown = None
    return shown if shown is not None else readable_text(content)
