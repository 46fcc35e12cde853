"""The one place that calls Z3.

A :class:`Prover` holds one incremental solver per guideline: the domain (bounds and
domain constraints) is asserted once behind indicator literals, and every obligation is
checked inside ``push``/``pop`` with its own indicator literals as assumptions, so an unsat
core names the constraints and conditions involved without re-asserting anything.

Settings, and why:

* ``random_seed`` / ``smt.random_seed`` fixed: the same guideline gives the same models
  (witnesses) and the same verdicts on every run;
* ``timeout`` (ms) per check: a slow obligation becomes *unknown*, never proved;
* ``rlimit``: Z3's deterministic resource counter, for limits that do not depend on the
  machine's speed (tests use it to force *unknown* reproducibly).
"""
from __future__ import annotations

import time
from typing import Sequence

import z3

from ..model.record import Record


class SolverError(Exception):
    """Z3 failed in a way that is not an answer (a bug or a resource exhaustion)."""


class Result(Record):
    status: str  # "sat", "unsat" or "unknown"
    model: object = None  # z3.ModelRef when sat
    core: tuple = ()  # names of the tracked parts in an unsat core
    reason: str = ""  # Z3's reason_unknown when unknown
    seconds: float = 0.0


class Prover:
    def __init__(self, domain: Sequence[tuple[str, z3.BoolRef]], timeout: float | None = None,
                 rlimit: int | None = None, seed: int = 0):
        z3.set_param("smt.random_seed", seed)
        z3.set_param("sat.random_seed", seed)
        self.solver = z3.Solver()
        self.solver.set("random_seed", seed)
        # Smaller cores make shorter explanations; the cost is paid only on unsat answers.
        self.solver.set("core.minimize", True)
        self._optimize_timeout_ms = 5000
        if timeout is not None:
            self.solver.set("timeout", max(1, int(timeout * 1000)))
            self._optimize_timeout_ms = min(5000, max(1, int(timeout * 1000)))
        if rlimit is not None:
            self.solver.set("rlimit", int(rlimit))
        self._names: dict[str, str] = {}  # indicator name -> human name
        self._counter = 0
        self.domain_indicators = [self._track(self.solver, name, term) for name, term in domain]
        self.calls = 0

    def _track(self, target, name: str, term: z3.BoolRef) -> z3.BoolRef:
        self._counter += 1
        ind = z3.Bool(f"__track{self._counter}")
        self._names[str(ind)] = name
        target.add(z3.Implies(ind, term))
        return ind

    def check(self, parts: Sequence[tuple[str, z3.BoolRef]], use_domain: bool = True,
              want_core: bool = True) -> Result:
        """Is the conjunction of the domain and ``parts`` satisfiable?

        ``parts`` are (name, term) pairs; on ``unsat`` the core lists the names involved.
        """
        s = self.solver
        self.calls += 1
        s.push()
        try:
            inds = [self._track(s, name, term) for name, term in parts] if want_core else []
            if not want_core:
                for _, term in parts:
                    s.add(term)
            assumptions = (self.domain_indicators if use_domain else []) + inds
            t0 = time.perf_counter()
            try:
                status = s.check(*assumptions)
            except z3.Z3Exception as e:
                raise SolverError(str(e)) from e
            dt = time.perf_counter() - t0
            if status == z3.sat:
                return Result("sat", model=s.model(), seconds=dt)
            if status == z3.unsat:
                core = tuple(sorted({self._names[str(c)] for c in s.unsat_core()})) if want_core else ()
                return Result("unsat", core=core, seconds=dt)
            return Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt)
        finally:
            s.pop()

    def plausible(self, parts: Sequence[tuple[str, z3.BoolRef]], prefer: Sequence[z3.BoolRef],
                  distance: z3.ArithRef | None, fallback: z3.ModelRef) -> z3.ModelRef:
        """A model of the domain and ``parts`` that keeps as many ``prefer`` literals as it can,
        then minimises ``distance``. Only used for witnesses that will be shown to a user, so
        the extra solving is paid for refuted obligations alone; on any failure to optimise
        the ``fallback`` model (already a valid witness) is returned unchanged."""
        opt = z3.Optimize()
        opt.set("timeout", self._optimize_timeout_ms)
        for ind in self.domain_indicators:
            opt.add(ind)
        for a in self.solver.assertions():
            opt.add(a)
        for _, term in parts:
            opt.add(term)
        for p in prefer:
            opt.add_soft(p, 1)
        if distance is not None:
            opt.minimize(distance)
        self.calls += 1
        try:
            if opt.check() == z3.sat:
                return opt.model()
        except z3.Z3Exception:
            pass
        return fallback
