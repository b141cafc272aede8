"""Every lint code: its severity and one line on what it means (for `--sarif` rules and docs/iam-lint.md).

`AA` marks the codes IAM Access Analyzer's policy validation also has (same name); the others are
opsgraph's own checks. A test holds the lint to this table (a finding's code is listed here, with the
same severity).
"""

from __future__ import annotations

from verifiers.iam.lint.findings import Severity

__all__ = ["CODES"]

CODES: dict[str, tuple[Severity, bool, str]] = {
    # grammar (reported by the parser; the policy cannot be read further)
    "JSON_SYNTAX_ERROR": ("error", True, "The text is not JSON."),
    "INVALID_POLICY_ELEMENT": (
        "error",
        True,
        "An element name IAM does not know (names are case-sensitive).",
    ),
    "DATA_TYPE_MISMATCH": ("error", True, "A value of the wrong JSON type."),
    "INVALID_VERSION": ("error", True, "Version is neither 2012-10-17 nor 2008-10-17."),
    "MISSING_STATEMENT": ("error", True, "No Statement element."),
    "MISSING_EFFECT": ("error", True, "A statement without Effect."),
    "INVALID_EFFECT": ("error", True, "Effect is neither Allow nor Deny."),
    "MISSING_ACTION": ("error", True, "A statement without Action or NotAction."),
    "UNSUPPORTED_ELEMENT_COMBINATION": (
        "error",
        True,
        "Action and NotAction (or the like) in one statement.",
    ),
    "INVALID_CONDITION_OPERATOR": ("error", True, "A condition operator IAM does not know."),
    "INVALID_PRINCIPAL_KEY": (
        "error",
        True,
        "A principal type other than AWS, Service, Federated, CanonicalUser.",
    ),
    # actions
    "INVALID_ACTION": ("error", True, "An action that is not service:name, or that matches no known action."),
    "INVALID_SERVICE_IN_ACTION": ("error", True, "An action of a service that does not exist."),
    "WILDCARD_IN_SERVICE_NAME": ("suggestion", True, "A wildcard in an action's service name."),
    "SCP_SYNTAX_ERROR_ACTION_WILDCARD": ("error", True, "In an SCP, a wildcard before the end of an action."),
    "REDUNDANT_ACTION": ("suggestion", True, "An action another action of the same statement covers."),
    "UNSUPPORTED_RESOURCE_FOR_ACTION": (
        "warning",
        False,
        "An action that acts on none of the statement's resources (or needs Resource *).",
    ),
    # resources
    "INVALID_ARN_PREFIX": ("error", True, "A resource that is neither * nor an ARN."),
    "MISSING_ARN_FIELD": ("error", True, "An ARN with fewer than six parts and no trailing *."),
    "INVALID_PARTITION": ("error", True, "An ARN partition that does not exist."),
    "WILDCARD_IN_ARN_SERVICE": ("error", False, "A wildcard in the service part of an ARN (not allowed)."),
    "INVALID_ARN_SERVICE_CASE": ("error", True, "An ARN service in upper case."),
    "INVALID_SERVICE": ("error", True, "An ARN of a service that does not exist."),
    "ARN_REGION_NOT_ALLOWED": ("error", True, "A region in the ARN of a service whose ARNs have none."),
    "MISSING_ARN_REGION": ("error", True, "No region in the ARN of a service whose ARNs need one."),
    "INVALID_ARN_REGION": ("error", True, "A region name that is not an AWS region."),
    "ARN_ACCOUNT_NOT_ALLOWED": (
        "error",
        True,
        "An account in the ARN of a service whose ARNs have none (S3).",
    ),
    "MISSING_ARN_ACCOUNT": ("error", False, "No account in the ARN of a service whose ARNs need one."),
    "INVALID_ARN_ACCOUNT": ("error", True, "An account that is not 12 digits."),
    "INVALID_ARN_RESOURCE": (
        "error",
        True,
        "A resource part that fits none of the service's resource types.",
    ),
    "WILDCARD_IN_RESOURCE_TYPE": (
        "error",
        False,
        "A wildcard inside the resource-type word (user, role ...) of an ARN: AWS matches it literally.",
    ),
    "REDUNDANT_RESOURCE": ("suggestion", True, "A resource another resource of the same statement covers."),
    # conditions
    "INVALID_CONDITION_DATA_TYPE": (
        "error",
        True,
        "A value that is not of the operator's type (never matches).",
    ),
    "INVALID_CONDITION_MULTIPLE_BOOLEAN": ("error", True, "Bool with more than one value."),
    "INVALID_CONDITION_KEY_FORMAT": ("error", True, "A condition key that is not service:name."),
    "INVALID_GLOBAL_CONDITION_KEY": ("error", True, "An aws: key that is not a global condition key."),
    "INVALID_SERVICE_CONDITION_KEY": ("error", True, "A service condition key that does not exist."),
    "INVALID_VARIABLE_FOR_OPERATOR": (
        "error",
        True,
        "A policy variable under an operator that does not substitute it.",
    ),
    "MISSING_QUALIFIER": ("error", True, "A multivalued key without ForAllValues/ForAnyValue."),
    "TYPE_MISMATCH": ("warning", True, "An operator of another type than its key."),
    "WILDCARD_WITHOUT_LIKE_OPERATOR": (
        "warning",
        True,
        "* or ? under an Equals operator (compared literally).",
    ),
    "FORALLVALUES_WITH_SINGLE_VALUED_KEY": ("security_warning", True, "ForAllValues on a single-valued key."),
    "FORANYVALUE_WITH_SINGLE_VALUED_KEY": ("warning", False, "ForAnyValue on a single-valued key."),
    "ALLOW_FORALLVALUES_WITHOUT_NULL": (
        "security_warning",
        False,
        "ForAllValues in an Allow, true when the key is absent, without a Null condition.",
    ),
    "UNSUPPORTED_CONDITION_KEY_FOR_ACTIONS": (
        "warning",
        False,
        "A service key none of the statement's actions sends (always absent).",
    ),
    "DENY_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE": (
        "security_warning",
        True,
        "A Deny conditioned on a tag key the actions do not send.",
    ),
    "ALLOW_WITH_UNSUPPORTED_TAG_CONDITION_KEY_FOR_SERVICE": (
        "suggestion",
        True,
        "An Allow conditioned on a tag key the actions do not send.",
    ),
    # principals
    "UNSUPPORTED_PRINCIPAL": ("error", True, "Principal in an identity policy."),
    "MISSING_PRINCIPAL": ("error", True, "A resource policy statement without Principal."),
    "SCP_SYNTAX_ERROR_PRINCIPAL": ("error", True, "Principal in an SCP."),
    "UNSUPPORTED_WILDCARD_IN_PRINCIPAL": ("error", True, "A wildcard inside a principal ARN."),
    "INVALID_PRINCIPAL_FORMAT": ("error", True, "An AWS principal that is not an account id or an ARN."),
    "INVALID_SERVICE_PRINCIPAL_FORMAT": (
        "error",
        True,
        "A service principal that is not name.amazonaws.com.",
    ),
    "ALLOW_WITH_NOT_PRINCIPAL": (
        "security_warning",
        True,
        "Allow with NotPrincipal (everyone else, anonymous too).",
    ),
    # statements and the policy
    "UNIQUE_SIDS_REQUIRED": ("error", True, "Two statements with the same Sid."),
    "UNSUPPORTED_SID": ("error", True, "A Sid with characters other than letters and digits."),
    "REDUNDANT_STATEMENT": ("suggestion", True, "A statement another statement fully covers."),
    "PASS_ROLE_WITH_STAR_IN_RESOURCE": ("security_warning", True, "iam:PassRole on every role."),
    "PASS_ROLE_WITH_STAR_IN_ACTION_AND_RESOURCE": (
        "security_warning",
        True,
        "iam:PassRole through an action wildcard, on every role.",
    ),
    "FULL_ADMIN": ("security_warning", False, "Every action on every resource, unconditionally."),
    "ALLOW_WITH_NOT_ACTION": (
        "warning",
        False,
        "Allow with NotAction (every other action, future ones too).",
    ),
    "MISSING_VERSION": (
        "warning",
        True,
        "No Version: policy variables are literal text and some features are off.",
    ),
    "VARIABLE_UNSUPPORTED_IN_VERSION": (
        "error",
        True,
        "Policy variables in a document without Version 2012-10-17 (they are literal text).",
    ),
}
