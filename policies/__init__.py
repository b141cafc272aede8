"""The IAM policy language: models, parsing with JSON-pointer errors, requests, the AWS action catalog."""

from policies.catalog import GLOBAL_KEYS, Catalog, KeyType, load_catalog
from policies.model import PRINCIPAL_KINDS, ConditionClause, Effect, Policy, PolicySet, Principal, Statement
from policies.operators import BASE_OPERATORS, Family, Operator, SetQualifier, parse_operator
from policies.parse import VERSIONS, PolicyParseError, load_json, load_policy, parse_policy
from policies.request import ContextValue, Request, parse_request, parse_requests

__all__ = [
    "BASE_OPERATORS",
    "GLOBAL_KEYS",
    "PRINCIPAL_KINDS",
    "VERSIONS",
    "Catalog",
    "ConditionClause",
    "ContextValue",
    "Effect",
    "Family",
    "KeyType",
    "Operator",
    "Policy",
    "PolicyParseError",
    "PolicySet",
    "Principal",
    "Request",
    "SetQualifier",
    "Statement",
    "load_catalog",
    "load_json",
    "load_policy",
    "parse_operator",
    "parse_policy",
    "parse_request",
    "parse_requests",
]
