"""The symbolic request space: the Z3 variables that stand for one request.

Z3 sees only Booleans, reals and bit-vectors. Every string field (the action, the resource, the
principal, each value slot of each context key) is represented by one Boolean atom per glob it is
compared with; whether a combination of atoms has a real witness string is decided in Python
(`verifiers.iam.globs`) by the lazy loop in `verifiers.iam.solve`. Numbers and dates are reals, IP
addresses 128-bit vectors (IPv4 in the low 32 bits).

A context key has a presence flag, a "multivalued" flag, and a few value slots with "used" flags; the
number of slots is the number of set-qualified clauses on the key (at least one), which is enough for
any Boolean combination of those clauses to have a witness set of values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import z3

from policies.model import Policy
from policies.operators import Family
from policies.variables import Piece, split_pattern
from verifiers.iam.budget import check
from verifiers.iam.globs import Glob, literal_glob
from verifiers.iam.semantics import ACCOUNT_ARN, DIGITS12, account_globs

__all__ = ["ACTION", "PRINCIPAL", "RESOURCE", "Atom", "Space", "Template", "field_slot", "slot_field"]

ACTION, RESOURCE, PRINCIPAL = "action", "resource", "principal"
_ACCOUNT_ID = re.compile(r"(?<!\d)\d{12}(?!\d)")
_EMPTY = literal_glob("")


def slot_field(key: str, slot: int) -> str:
    return f"{key.lower()}#{slot}"


def field_slot(field_name: str) -> tuple[str, int]:
    """The (key, slot) of a context slot field: the inverse of `slot_field`."""
    key, slot = field_name.rsplit("#", 1)
    return key, int(slot)


@dataclass(frozen=True)
class Template:
    """A policy string containing variables; its glob is known only once the variables' values are."""

    pieces: tuple[Piece, ...]
    wildcards: bool
    ignore_case: bool = False
    arn: bool = False

    @property
    def var_keys(self) -> tuple[str, ...]:
        return tuple(p.text.lower() for p in self.pieces if p.kind == "var")


@dataclass(frozen=True)
class Atom:
    field: str
    glob: Glob | None = None
    template: Template | None = None


@dataclass
class Space:
    """Z3 variables for one symbolic request; build one per query and encode every policy into it."""

    atoms: dict[str, Atom] = field(default_factory=dict)
    _refs: dict[tuple[str, object], z3.BoolRef] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)
    key_names: dict[str, str] = field(default_factory=dict)
    families: dict[str, set[Family]] = field(default_factory=dict)
    axioms: list[z3.BoolRef] = field(default_factory=list)
    _vars: dict[str, z3.ExprRef] = field(default_factory=dict)
    _axiomed: set[tuple[str, int]] = field(default_factory=set)
    accounts: set[str] = field(default_factory=set)
    """The account ids the prepared policies mention, which `same_account` tells apart."""
    linked: bool = False
    """`same_account` is in use: realization must make the witness's accounts agree with it."""
    principals: bool = False
    """Some prepared statement has a Principal or NotPrincipal: the request's principal matters."""
    encoded: dict[tuple[str, bool], z3.BoolRef] = field(default_factory=dict)
    """Statement bodies already encoded into this space (`verifiers.iam.encode`)."""
    _prepared: dict[int, Policy] = field(default_factory=dict)
    hints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Readable values to try first for a field (a check's outsider principal), when they fit."""
    lemmas: tuple[int, list[z3.BoolRef]] | None = None
    """The glob lemmas of the solver loop and the atom count they were computed for."""

    # --- set-up -----------------------------------------------------------------------------------

    def prepare(self, policies: Iterable[Policy]) -> Space:
        """Scan the policies for context keys, their families and slot counts; call before encoding."""
        counts: dict[str, int] = {}
        for policy in policies:
            if id(policy) in self._prepared:  # encoding prepares each policy again: once is enough
                continue
            self._prepared[id(policy)] = policy  # held, so that its id is not reused while the space lives
            for st in policy.statements:
                check("reading the policies")
                texts = [*(st.resource or ()), *(st.not_resource or ())]
                named = [
                    v for e in (st.principal, st.not_principal) if e for vs in e.values.values() for v in vs
                ]
                self.principals = self.principals or bool(st.principal or st.not_principal)
                self.accounts.update(a for text in (*texts, *named) for a in _ACCOUNT_ID.findall(text))
                for clause in st.condition:
                    op = clause.op
                    key = clause.key.lower()
                    self.key_names.setdefault(key, clause.key)
                    self.families.setdefault(key, set()).add(op.family)
                    counts.setdefault(key, 0)
                    if op.qualifier:
                        counts[key] += 1
                    texts.extend(clause.values)
                if policy.supports_variables:
                    for text in texts:
                        for piece in split_pattern(text, True):
                            if piece.kind == "var":
                                key = piece.text.lower()
                                self.key_names.setdefault(key, piece.text)
                                self.families.setdefault(key, set()).add("String")
                                counts.setdefault(key, 0)
        for key, n in counts.items():
            self.slots[key] = max(self.slots.get(key, 1), n, 1)
        for key, n in self.slots.items():
            if (key, n) not in self._axiomed:
                self._axiomed.add((key, n))
                self._key_axioms(key)
        return self

    def _key_axioms(self, key: str) -> None:
        present, multi = self.present(key), self.is_list(key)
        used = [self.used(key, i) for i in range(self.slots[key])]
        self.axioms.append(z3.Implies(z3.Not(present), z3.And(z3.Not(multi), *[z3.Not(u) for u in used])))
        self.axioms.append(
            z3.Implies(z3.And(present, z3.Not(multi)), z3.And(used[0], *[z3.Not(u) for u in used[1:]]))
        )
        fams = self.families.get(key, set())
        for i in range(self.slots[key]):
            if fams & {"Numeric", "Date"}:
                self.axioms.append(z3.Implies(self.num_ok(key, i), self.date_ok(key, i)))
                # a date that is not a plain number is rendered as ISO 8601, so whole seconds only
                r = self.real(key, i)
                self.axioms.append(
                    z3.Implies(z3.And(self.date_ok(key, i), z3.Not(self.num_ok(key, i))), z3.IsInt(r))
                )
            if "IpAddress" in fams:
                ip = self.ip(key, i)
                self.axioms.append(z3.Implies(z3.Not(self.ip6(key, i)), z3.Extract(127, 32, ip) == 0))

    # --- variables --------------------------------------------------------------------------------

    def _var(self, name: str, make: type) -> z3.ExprRef:
        if name not in self._vars:
            self._vars[name] = make(name)
        return self._vars[name]

    def _bool(self, name: str) -> z3.BoolRef:
        ref: z3.BoolRef = self._var(name, z3.Bool)
        return ref

    def present(self, key: str) -> z3.BoolRef:
        return self._bool(f"present[{key.lower()}]")

    def is_list(self, key: str) -> z3.BoolRef:
        return self._bool(f"list[{key.lower()}]")

    def used(self, key: str, slot: int) -> z3.BoolRef:
        return self._bool(f"used[{slot_field(key, slot)}]")

    def num_ok(self, key: str, slot: int) -> z3.BoolRef:
        return self._bool(f"num_ok[{slot_field(key, slot)}]")

    def date_ok(self, key: str, slot: int) -> z3.BoolRef:
        return self._bool(f"date_ok[{slot_field(key, slot)}]")

    def ip_ok(self, key: str, slot: int) -> z3.BoolRef:
        return self._bool(f"ip_ok[{slot_field(key, slot)}]")

    def ip6(self, key: str, slot: int) -> z3.BoolRef:
        return self._bool(f"ip6[{slot_field(key, slot)}]")

    def real(self, key: str, slot: int) -> z3.ArithRef:
        ref: z3.ArithRef = self._var(f"real[{slot_field(key, slot)}]", z3.Real)
        return ref

    def ip(self, key: str, slot: int) -> z3.BitVecRef:
        name = f"ip[{slot_field(key, slot)}]"
        if name not in self._vars:
            self._vars[name] = z3.BitVec(name, 128)
        ref: z3.BitVecRef = self._vars[name]
        return ref

    def var_ok(self, template: Template) -> z3.BoolRef:
        """The template's variables all resolve: present and single-valued, or absent with a default."""
        terms = []
        for piece in template.pieces:
            if piece.kind != "var":
                continue
            key = piece.text.lower()
            resolved = z3.And(self.present(key), z3.Not(self.is_list(key)))
            terms.append(
                z3.Or(resolved, z3.Not(self.present(key))) if piece.default is not None else resolved
            )
        return z3.And(*terms) if terms else z3.BoolVal(True)

    def empty(self, key: str, slot: int) -> z3.BoolRef:
        """The slot holds the empty string (no data for a set operator; never a number, date or IP)."""
        field_name = slot_field(key, slot)
        known = (field_name, _EMPTY) in self._refs
        ref = self.atom(field_name, _EMPTY)
        if not known:
            typed = (self.num_ok(key, slot), self.date_ok(key, slot), self.ip_ok(key, slot))
            self.axioms.append(z3.Implies(ref, z3.And(*[z3.Not(t) for t in typed])))
        return ref

    def account_of(self, field_name: str, account: str) -> z3.BoolRef:
        """The principal's or resource's account is `account` (a bare id, or an ARN in that account)."""
        return z3.Or(*[self.atom(field_name, g) for g in account_globs(account)])

    def has_account(self, field_name: str) -> z3.BoolRef:
        """The principal or resource names an account at all (a bare id, or an ARN with one)."""
        return z3.Or(self.atom(field_name, DIGITS12), self.atom(field_name, ACCOUNT_ARN))

    def same_account(self) -> z3.BoolRef:
        """The principal and the resource share an account, or either names none. Accounts the prepared
        policies mention are told apart by atoms; two others are equal when `equal_other_accounts` says
        so, which `verifiers.iam.realize` makes true of the witness."""
        self.linked = True
        pool = sorted(self.accounts)
        known = [z3.And(self.account_of(PRINCIPAL, a), self.account_of(RESOURCE, a)) for a in pool]
        return z3.Or(
            z3.Not(self.has_account(PRINCIPAL)),
            z3.Not(self.has_account(RESOURCE)),
            *known,
            z3.And(self.other_account(PRINCIPAL), self.other_account(RESOURCE), self.equal_other_accounts()),
        )

    def other_account(self, field_name: str) -> z3.BoolRef:
        """The field names an account that no policy mentions."""
        return z3.And(
            self.has_account(field_name),
            *[z3.Not(self.account_of(field_name, a)) for a in self.accounts or ()],
        )

    def equal_other_accounts(self) -> z3.BoolRef:
        return self._bool("same_other_account")

    def atom(self, field_name: str, glob: Glob) -> z3.BoolRef:
        """The Boolean "field matches glob"; a glob that matches nothing is the constant False."""
        if glob.never:
            return z3.BoolVal(False)
        handle = (field_name, glob)
        if handle not in self._refs:
            name = f"m{len(self.atoms)}[{field_name}~{glob.text}]"
            self._refs[handle] = z3.Bool(name)
            self.atoms[name] = Atom(field_name, glob=glob)
        return self._refs[handle]

    def template_atom(self, field_name: str, template: Template) -> z3.BoolRef:
        handle = (field_name, template)
        if handle not in self._refs:
            name = f"m{len(self.atoms)}[{field_name}~{''.join(p.text for p in template.pieces)}]"
            ref = z3.Bool(name)
            self._refs[handle] = ref
            self.atoms[name] = Atom(field_name, template=template)
            self.axioms.append(z3.Implies(ref, self.var_ok(template)))
        return self._refs[handle]

    def string_fields(self) -> list[str]:
        return sorted({a.field for a in self.atoms.values()})
