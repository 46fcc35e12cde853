"""The values of one variable a condition allows (``model/intervals.py``), which the
misleading-overlap check uses to skip solver queries: compared with a direct reading of the
condition on a fine grid of numbers, and the check's verdicts with and without the shortcut."""
from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from guideproof.model import expr as X
from guideproof.model.intervals import complement, intersect, values_allowed
from guideproof.verify import checks as checks_module
from guideproof.verify.checks import verify
from conftest import load_text

INT = X.Type("int")
X_VAR = X.Var("x", INT)
numbers = st.one_of(st.integers(-3, 3).map(X.IntLit), st.integers(-6, 6).map(lambda k: X.DecLit(Fraction(k, 2))))
atoms = st.builds(lambda op, c, left: op(X_VAR, c) if left else op(c, X_VAR),
                  st.sampled_from([X.Eq, X.Lt, X.Le]), numbers, st.booleans())
conditions = st.recursive(
    st.one_of(atoms, st.booleans().map(X.BoolLit)),
    lambda inner: st.one_of(inner.map(X.Not),
                            st.lists(inner, min_size=1, max_size=3).map(lambda xs: X.And(tuple(xs))),
                            st.lists(inner, min_size=1, max_size=3).map(lambda xs: X.Or(tuple(xs)))),
    max_leaves=8)
GRID = [Fraction(k, 4) for k in range(-20, 21)]


def holds(e: X.Expr, x: Fraction) -> bool:
    match e:
        case X.BoolLit(value=v):
            return v
        case X.Not(arg=a):
            return not holds(a, x)
        case X.And(args=xs):
            return all(holds(a, x) for a in xs)
        case X.Or(args=xs):
            return any(holds(a, x) for a in xs)
    left = x if isinstance(e.left, X.Var) else Fraction(e.left.value)
    right = x if isinstance(e.right, X.Var) else Fraction(e.right.value)
    return left == right if isinstance(e, X.Eq) else left < right if isinstance(e, X.Lt) else left <= right


def member(pieces, x: Fraction) -> bool:
    return any((lo is None or lo < x or (lo == x and lo_in)) and (hi is None or x < hi or (x == hi and hi_in))
               for lo, lo_in, hi, hi_in in pieces)


def well_formed(pieces) -> bool:
    """Sorted, disjoint, none empty."""
    for (_, _, b, b_in), (c, c_in, _, _) in itertools.pairwise(pieces):
        if b is None or c is None or c < b or (c == b and b_in and c_in):
            return False
    return all(lo is None or hi is None or lo <= hi for lo, _, hi, _ in pieces)


@settings(max_examples=300, deadline=None)
@given(conditions, conditions)
def test_values_allowed_match_the_condition(e, f):
    pe, pf = values_allowed(e, "x"), values_allowed(f, "x")
    assert pe is not None and pf is not None
    both, rest = intersect(pe, pf), complement(pe)
    for pieces in (pe, both, rest):
        assert well_formed(pieces)
    for x in GRID:
        assert member(pe, x) == holds(e, x)
        assert member(both, x) == (holds(e, x) and holds(f, x))
        assert member(rest, x) == (not holds(e, x))


def test_other_forms_are_not_read():
    y = X.Var("y", INT)
    assert values_allowed(X.Lt(X_VAR, y), "x") is None  # another variable
    assert values_allowed(X.Lt(X.Sub(X_VAR, y), X.IntLit(2)), "x") is None  # arithmetic
    assert values_allowed(X.And((X.Lt(X_VAR, X.IntLit(2)), X.Lt(y, X.IntLit(2)))), "x") is None


def test_misleading_findings_do_not_change_with_the_shortcut(monkeypatch):
    """A generated guideline with nested threshold ladders (skipped by the shortcut) and, in
    every other chain, a rung turned into a range that overlaps the one above it without
    holding it (a misleading overlap, warned about)."""
    import re
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from realistic import realistic_yaml

    text = re.sub(r"\bw(\d*[02468]) <= 12\b", r"w\1 >= 3 and w\1 <= 12", realistic_yaml(200))
    g = load_text(text, "g.yaml")
    shortcut = checks_module.MisleadingOverlaps.nested_or_apart
    settled = []
    monkeypatch.setattr(checks_module.MisleadingOverlaps, "nested_or_apart",
                        staticmethod(lambda *a: settled.append(shortcut(*a)) or settled[-1]))
    fast = verify(g, only={"GP009"})
    assert sum(settled) >= 20  # the shortcut did settle pairs here
    monkeypatch.setattr(checks_module.MisleadingOverlaps, "nested_or_apart", staticmethod(lambda *a: False))
    slow = verify(g, only={"GP009"})
    assert [(f.subject, f.verdict, f.message, f.witness) for f in fast] == \
        [(f.subject, f.verdict, f.message, f.witness) for f in slow]
    assert sum(f.verdict == "warning" for f in fast) >= 3 and sum(f.verdict == "proved" for f in fast) >= 20
