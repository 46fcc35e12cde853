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
import re
from typing import Any

from .errors import Diagnostic, InputError, did_you_mean
from .expr import MAX_INT_DIGITS
from .fields import describe
from .guideline import Guideline, Variable
from .source import YMap, YScalar, YSeq, parse_yaml, plain, read_text

_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)")
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}


class PatientInput:
    """Validated known facts and where each came from (for messages)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.origin: dict[str, str] = {}  # name -> "file:line:col" or "--set"

    def missing(self, g: Guideline) -> list[Variable]:
        return [v for n, v in g.variables.items() if n not in self.values]


def coerce(var: Variable, raw: Any) -> tuple[Any, tuple[str, str] | None]:
    """Convert a YAML/JSON/--set value for ``var``; returns (value, (code, message) or None).

    Text is accepted for every type (``"72"``, ``"yes"``) because ``--set`` values are text.
    """
    t = var.type
    if t.kind == "bool":
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.strip().lower() in TRUE_WORDS, None
        return None, ("wrong-type", f"{var.name} is true or false, found {_describe(raw)}")
    if t.kind == "int":
        # Plain decimal digits only: no '010' (octal in YAML 1.1), '1_000', '+5', '0x1A',
        # fractions or non-ASCII digits, each of which Python's int() or YAML 1.1 would
        # silently turn into some number.
        value = raw
        wrong = ("wrong-type", f"{var.name} is a whole number of {var.unit or 'units'} written with the "
                               f"digits 0-9, found {_describe(raw)}")
        if isinstance(raw, str):
            text = raw.strip()
            if not _DECIMAL.fullmatch(text):
                return None, wrong
            if len(text.lstrip("-")) > MAX_INT_DIGITS:
                return None, ("number-too-large", f"{var.name}: number too large "
                                                  f"({len(text.lstrip('-')):,} digits, at most {MAX_INT_DIGITS})")
            value = int(text)
        if isinstance(value, bool) or not isinstance(value, int):
            return None, wrong
        assert var.min is not None and var.max is not None
        if not var.min <= value <= var.max:
            unit = f" {var.unit}" if var.unit else ""
            return None, ("out-of-range", f"{var.name} must be between {var.min} and {var.max}{unit}, found {value}")
        return value, None
    if t.kind == "enum":
        if isinstance(raw, str) and raw.strip() in t.values:
            return raw.strip(), None
        code = "unknown-value" if isinstance(raw, str) else "wrong-type"
        return None, (code, f"{var.name} is one of {', '.join(t.values)}, found {_describe(raw)}")
    if t.kind == "set":
        items = raw
        if isinstance(raw, str):
            items = [x.strip() for x in raw.split(",") if x.strip()]
        if not isinstance(items, (list, tuple, set, frozenset)):
            return None, ("wrong-type", f"{var.name} is a list of members from {', '.join(t.values)}, found {_describe(raw)}")
        bad = [x for x in items if not isinstance(x, str) or x not in t.values]
        if bad:
            return None, ("unknown-value", f"{var.name} members are from {', '.join(t.values)}, found {', '.join(map(_describe, bad))}")
        return frozenset(items), None
    raise AssertionError(t.kind)


def _describe(raw: Any) -> str:
    if isinstance(raw, bool):
        return str(raw).lower()
    if raw is None:
        return "an empty value"
    if isinstance(raw, str):
        return repr(raw) if len(raw) <= 40 else repr(raw[:40]) + f" (and {len(raw) - 40:,} more characters)"
    if isinstance(raw, (list, tuple)):
        return "a list"
    if isinstance(raw, dict):
        return "a mapping"
    return str(raw)


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
    for key, node in root.items:
        name = str(key.value)
        var = g.variables.get(name)
        if var is None:
            col.error("unknown-variable", f"unknown variable {name!r}{did_you_mean(name, g.variables)} (see 'guideproof variables')", key.span)
            continue
        if isinstance(node, YMap) or (isinstance(node, YSeq) and var.type.kind != "set"):
            col.error("wrong-type", f"{name}: expected {type_words(var)}, found {_describe(plain(node))}", node.span)
            continue
        value, problem = coerce(var, plain(node))
        if problem:
            col.error(problem[0], problem[1], node.span)
            continue
        out.values[name] = value
        out.origin[name] = str(node.span)
    col.raise_if_any()
    return out


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
    t = v.type
    if t.kind == "int":
        return f"{v.min}..{v.max} {v.unit}".strip()
    if t.kind == "enum":
        return "one of " + ", ".join(t.values)
    if t.kind == "set":
        return "any of " + ", ".join(t.values)
    return "true/false"


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
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, (frozenset, set, list, tuple)):
        return "[" + ", ".join(sorted(v) if isinstance(v, (frozenset, set)) else v) + "]"
    return str(v)


def typical_value(var: Variable) -> Any:
    """The declared typical value, else false / the first enum value / no members / the minimum."""
    if var.typical is not None:
        return var.typical
    return {"bool": False, "int": var.min, "set": frozenset()}.get(var.type.kind, var.type.values[0] if var.type.values else None)


def to_plain(g: Guideline, values: dict[str, Any]) -> dict[str, Any]:
    """A patient as JSON/YAML-ready values, in the guideline's variable order."""
    out = {}
    for n, v in g.variables.items():
        if n in values:
            x = values[n]
            out[n] = sorted(x, key=v.type.values.index) if isinstance(x, frozenset) else x
    return out
