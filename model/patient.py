"""Patient records: files (YAML or JSON) and ``--set name=value`` overrides, validated.

A patient file is a mapping from variable names to values::

    age: 72
    fracture_levels: [L1]        # a set variable: a list of members
    deformity: none              # an enum variable: one of its values
    neuro_deficit: false

Values are checked against the guideline's declarations; every problem is reported at
once, with its position in the file. Unset variables are returned as missing, never
defaulted: the caller decides whether that is an error (complete query) or unknown.
"""
from __future__ import annotations

import os
from fractions import Fraction
from typing import Any

from .errors import Collector, Diagnostic, InputError, did_you_mean
from .fields import describe
from .guideline import Guideline, Variable
from .kinds import describe_value, kind_of
from .numbers import format_number
from .source import YMap, YSeq, parse_yaml, plain, read_text



class PatientInput:
    """Validated known facts and where each came from (for messages)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origin: dict[str, str] = {}  # name -> "file:line:col" or "--set"

    def missing(self, g: Guideline) -> list[Variable]:
        """The required variables not given (an optional one left out has no value)."""
        return [v for n, v in g.variables.items() if n not in self.values and not v.optional]

    def without_value(self, g: Guideline) -> PatientInput:
        """Give every optional variable left out the value None (it has no value); returns
        itself."""
        for n in g.optional:
            self.origin.setdefault(n, "left out (optional)")
        self.values = g.with_absent(self.values)
        return self


def coerce(var: Variable, raw: Any) -> tuple[Any, tuple[str, str] | None]:
    """Convert a YAML/JSON/--set value for ``var``; returns (value, (code, message) or None).

    Text is accepted for every type (``"72"``, ``"yes"``) because ``--set`` values are text.
    An optional variable also takes ``null`` (YAML/JSON null, or the text ``null``): no value.
    """
    if var.optional and raw is None:
        return None, None
    value, problem = kind_of(var.type).coerce(var, raw)
    if problem and var.optional and isinstance(raw, str) and raw.strip() == "null":
        return None, None
    if problem and var.optional:
        return value, (problem[0], problem[1] + " (or null: it is optional)")
    return value, problem




def load_patient_file(g: Guideline, path: str | os.PathLike[str], into: PatientInput | None = None) -> PatientInput:
    src = read_text(path, "patient file")
    root = parse_yaml(src)
    col = src.collector()
    out = into or PatientInput()
    if root is None:
        return out  # an empty file states no facts
    if not isinstance(root, YMap):
        col.error("wrong-type", f"a patient file is a mapping of variable names to values, found {describe(root)}", root.span)
        col.raise_if_any()
    assert isinstance(root, YMap)
    read_facts(g, root, col, out)
    col.raise_if_any()
    return out.without_value(g)


def read_facts(g: Guideline, root: YMap, col: Collector, out: PatientInput) -> None:
    """The facts of a mapping of variable names to values into ``out``; every problem goes to
    ``col`` with its position (a patient file, a visit of a history file)."""
    for key, node in root.items:
        name = str(key.value)
        var = g.variables.get(name)
        if var is None:
            col.error("unknown-variable", f"unknown variable {name!r}{did_you_mean(name, g.variables)} (see 'guideproof variables')", key.span)
            continue
        if isinstance(node, YMap) or (isinstance(node, YSeq) and var.type.kind != "set"):
            col.error("wrong-type", f"{name}: expected {type_words(var)}, found {describe_value(plain(node))}", node.span)
            continue
        value, problem = coerce(var, plain(node))
        if problem:
            col.error(problem[0], problem[1], node.span)
            continue
        out.values[name] = value
        out.origin[name] = str(node.span)


def apply_sets(g: Guideline, assignments: list[str], into: PatientInput | None = None) -> PatientInput:
    """Apply ``name=value`` overrides (a set variable takes a comma-separated list)."""
    out = into or PatientInput()
    problems: list[Diagnostic] = []
    for a in assignments:
        if "=" not in a:
            problems.append(Diagnostic("bad-assignment", f"--set {a!r}: expected NAME=VALUE"))
            continue
        name, raw = (s.strip() for s in a.split("=", 1))
        var = g.variables.get(name)
        if var is None:
            problems.append(Diagnostic("unknown-variable", f"--set {a!r}: unknown variable {name!r}{did_you_mean(name, g.variables)}"))
            continue
        value, problem = coerce(var, raw)
        if problem:
            problems.append(Diagnostic(problem[0], f"--set {a!r}: {problem[1]}"))
            continue
        out.values[name] = value
        out.origin[name] = "--set"
    if problems:
        raise InputError(problems)
    return out


def require_complete(g: Guideline, p: PatientInput) -> None:
    missing = p.missing(g)
    if missing:
        lines = "\n".join(f"    {v.name} ({type_words(v)}): {v.question}" for v in missing)
        raise InputError([Diagnostic(
            "missing-variable",
            f"{len(missing)} patient variable{'s are' if len(missing) != 1 else ' is'} missing:\n{lines}")])


def type_words(v: Variable) -> str:
    return kind_of(v.type).words(v)


def check_constraints(g: Guideline, p: PatientInput) -> None:
    """A complete patient must satisfy every domain constraint (exit 2 otherwise)."""
    from .evaluate import violated_constraints
    from .expr import variables_of

    problems = []
    defs = g.definition_exprs()
    broken = set(violated_constraints(g, p.values))
    for c in g.constraints:
        if c.id in broken:
            names = sorted(variables_of(c.cond.expr, defs))
            facts = ", ".join(f"{n} = {format_value(p.values[n])} ({p.origin.get(n, '?')})" for n in names)
            problems.append(Diagnostic(
                "constraint-violated",
                f"the patient breaks domain constraint {c.id!r} ({c.cond.text}): {facts}. {c.why}".rstrip()))
    if problems:
        raise InputError(problems)


def format_value(v: Any) -> str:
    """A patient value for people: ``true``, ``72``, ``1.25``, ``[L1, L2]``."""
    if v is None:
        return "no value"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (frozenset, set)):
        return "[" + ", ".join(sorted(v)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(map(str, v)) + "]"
    if isinstance(v, (int, Fraction)):
        return format_number(v)
    return str(v)


def typical_value(var: Variable) -> Any:
    """The declared typical value, else the kind's (false, the minimum, the first value, none);
    for an optional variable without a declared one, no value."""
    if var.typical is not None or var.optional:
        return var.typical
    return kind_of(var.type).typical(var)


def to_plain(g: Guideline, values: dict[str, Any]) -> dict[str, Any]:
    """A patient as JSON/YAML-ready values, in the guideline's variable order."""
    return {n: None if values[n] is None else kind_of(v.type).plain(v, values[n])
            for n, v in g.variables.items() if n in values}
