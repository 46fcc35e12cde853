"""Z3 semantics for every patient at once: the same meaning as ``evaluate.py``, as terms.

Encoding choices (each keeps witnesses easy to read back):

* bool -> ``Bool``; int -> ``Int`` bounded by the declared min/max;
* enum -> ``Int`` holding the value's index in the declared list (bounded), which keeps
  every enum in linear integer arithmetic alongside the ints;
* set -> one ``Bool`` per possible member, named ``var.member``.

Bounds and the author's domain constraints are returned separately (:attr:`domain`) so a
check can track each one for unsat cores.
"""
from __future__ import annotations

from typing import Any, assert_never

import z3

from . import expr as X

# Z3 would otherwise catch Ctrl-C during a check and answer "unknown", so an interrupted run
# would carry on with an inconclusive verdict; the CLI interrupts checks itself
# (guideproof/interrupts.py) and exits 130.
z3.set_param("ctrl_c", False)
from .guideline import Guideline
from .semantics import edges_of


#: A definition using at most this many others (transitively) is encoded where it is first
#: used, as it always was; a longer chain is encoded bottom-up first, so that the recursion
#: never spans more than a few conditions (each is at most MAX_CONDITION_DEPTH deep).
_INLINE_EXPANSION = 2


class Encoding:
    def __init__(self, g: Guideline):
        self.g = g
        self.vars: dict[str, Any] = {}
        self.members: dict[str, dict[str, z3.BoolRef]] = {}
        #: (name, term) for every bound and domain constraint, in declaration order
        self.domain: list[tuple[str, z3.BoolRef]] = []
        for v in g.variables.values():
            k = v.type.kind
            if k == "bool":
                self.vars[v.name] = z3.Bool(v.name)
            elif k == "int":
                x = self.vars[v.name] = z3.Int(v.name)
                self.domain.append((f"bounds of {v.name}", z3.And(x >= v.min, x <= v.max)))
            elif k == "enum":
                x = self.vars[v.name] = z3.Int(v.name)
                self.domain.append((f"values of {v.name}", z3.And(x >= 0, x < len(v.type.values))))
            elif k == "set":
                self.members[v.name] = {el: z3.Bool(f"{v.name}.{el}") for el in v.type.values}
            else:
                raise AssertionError(k)
        self._defs: dict[str, z3.BoolRef] = {}
        for c in g.constraints:
            self.domain.append((f"constraint {c.id}", self.term(c.cond.expr)))
        self.reached: dict[str, z3.BoolRef] = {}
        self.fired: dict[str, z3.BoolRef] = {}  # edge key -> term
        self._encode_graph()
        for sid in g.steps:  # steps no path leads to (only in edited guidelines) are never reached
            self.reached.setdefault(sid, z3.BoolVal(False))
        by_rec: dict[str, list[z3.BoolRef]] = {r: [] for r in g.recommendations}
        for sid, step in g.steps.items():
            for r in step.recommend:
                by_rec[r].append(self.reached[sid])
        self.applies: dict[str, z3.BoolRef] = {r: z3.Or(ts) if ts else z3.BoolVal(False) for r, ts in by_rec.items()}

    def valid(self) -> z3.BoolRef:
        """All bounds and domain constraints together."""
        return z3.And([t for _, t in self.domain])

    def term(self, e: X.Expr) -> Any:
        match e:
            case X.BoolLit(value=v):
                return z3.BoolVal(v)
            case X.IntLit(value=v):
                return z3.IntVal(v)
            case X.EnumLit(value=v, type=t):
                return z3.IntVal(t.values.index(v))
            case X.Var(name=n):
                return self.vars[n]
            case X.Not(arg=a):
                return z3.Not(self.term(a))
            case X.And(args=xs):
                return z3.And([self.term(a) for a in xs])
            case X.Or(args=xs):
                return z3.Or([self.term(a) for a in xs])
            case X.Eq(left=l, right=r):
                return self.term(l) == self.term(r)
            case X.Lt(left=l, right=r):
                return self.term(l) < self.term(r)
            case X.Le(left=l, right=r):
                return self.term(l) <= self.term(r)
            case X.Add(left=l, right=r):
                return self.term(l) + self.term(r)
            case X.Sub(left=l, right=r):
                return self.term(l) - self.term(r)
            case X.Member(element=el, var=v):
                return self.members[v.name][el]
            case X.DefRef(name=n):
                if n not in self._defs:
                    order = self.g.expansion_order(n)
                    if len(order) > _INLINE_EXPANSION:  # a long chain: encode it bottom-up
                        for d in order[:-1]:
                            if d not in self._defs:
                                self._defs[d] = self.term(self.g.definitions[d].cond.expr)
                    self._defs[n] = self.term(self.g.definitions[n].cond.expr)
                return self._defs[n]
            case X.Recommends(rec=r):
                return self.applies[r]
            case _:
                assert_never(e)

    def _encode_graph(self) -> None:
        g = self.g
        incoming: dict[str, list[z3.BoolRef]] = {s: [] for s in g.order}
        for sid in g.order:
            step = g.steps[sid]
            here = z3.BoolVal(True) if sid == g.start else z3.Or(incoming[sid]) if incoming[sid] else z3.BoolVal(False)
            self.reached[sid] = here
            earlier: list[z3.BoolRef] = []
            for e in edges_of(step):
                if e.kind == "branch":
                    c = self.term(e.branch.cond.expr)
                    guard = z3.And(c, z3.Not(z3.Or(earlier))) if step.choice == "first" and earlier else c
                    earlier.append(c)
                elif e.kind == "otherwise":
                    guard = z3.Not(z3.Or(earlier)) if earlier else z3.BoolVal(True)
                else:
                    guard = z3.BoolVal(True)
                self.fired[e.key] = z3.And(here, guard)
                incoming[e.target].append(self.fired[e.key])

    def patient(self, model: z3.ModelRef) -> dict[str, Any]:
        """Read a patient record (the evaluator's and the patient file's format) off a model."""
        out: dict[str, Any] = {}
        for v in self.g.variables.values():
            k = v.type.kind
            if k == "bool":
                out[v.name] = z3.is_true(model.eval(self.vars[v.name], model_completion=True))
            elif k == "int":
                out[v.name] = model.eval(self.vars[v.name], model_completion=True).as_long()
            elif k == "enum":
                i = model.eval(self.vars[v.name], model_completion=True).as_long()
                out[v.name] = v.type.values[i]
            else:
                out[v.name] = frozenset(el for el, b in self.members[v.name].items()
                                        if z3.is_true(model.eval(b, model_completion=True)))
        return out

    def fix(self, name: str, value: Any) -> z3.BoolRef:
        """The constraint ``variable == value`` for a known fact."""
        v = self.g.variables[name]
        k = v.type.kind
        if k == "set":
            return z3.And([b if el in value else z3.Not(b) for el, b in self.members[name].items()])
        if k == "enum":
            return self.vars[name] == v.type.values.index(value)
        if k == "bool":
            return self.vars[name] == z3.BoolVal(bool(value))
        return self.vars[name] == value
