"""Kubernetes checks: RBAC rule evaluation and least-privilege Role synthesis."""

from verifiers.kubernetes.rbac import (
    ApiCall,
    RbacCheck,
    check_role,
    least_privilege_rules,
    parse_call,
    rules_allow,
)

__all__ = ["ApiCall", "RbacCheck", "check_role", "least_privilege_rules", "parse_call", "rules_allow"]
