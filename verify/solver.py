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
        self.domain = list(domain)
        self.timeout, self.rlimit, self.seed = timeout, rlimit, seed
        self._optimize_timeout_ms = 5000 if timeout is None else min(5000, max(1, int(timeout * 1000)))
        # The incremental solver holds the domain as plain assertions: most obligations need
        # no core, and thousands of tracked assumptions per check would dominate large runs.
        self.solver = self._new_solver()
        for _, term in self.domain:
            self.solver.add(term)
        self.calls = 0

    def _new_solver(self) -> z3.Solver:
        s = z3.Solver()
        s.set("random_seed", self.seed)
        if self.timeout is not None:
            s.set("timeout", max(1, int(self.timeout * 1000)))
        if self.rlimit is not None:
            s.set("rlimit", int(self.rlimit))
        return s

    def check(self, parts: Sequence[tuple[str, z3.BoolRef]], use_domain: bool = True,
              want_core: bool = True) -> Result:
        """Is the conjunction of the domain (unless ``use_domain`` is false) and ``parts``
        satisfiable? On ``unsat`` with ``want_core``, the core lists the names involved."""
        self.calls += 1
        if not use_domain:
            return self._tracked(parts, [], want_core)
        s = self.solver
        s.push()
        try:
            for _, term in parts:
                s.add(term)
            status, dt = self._run(s, [])
            if status == z3.sat:
                return Result("sat", model=s.model(), seconds=dt)
            if status == z3.unknown:
                return Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt)
        finally:
            s.pop()
        if not want_core:
            return Result("unsat", seconds=dt)
        r = self._tracked(parts, self.domain, True)
        # The core comes from a second, tracked solve; its verdict must match the first.
        if r.status == "sat":
            raise SolverError("the tracked re-check of an unsat obligation came back sat")
        return r.replace(status="unsat", seconds=dt + r.seconds) if r.status == "unknown" else r

    def check_assuming(self, parts: Sequence[tuple[str, z3.BoolRef]]) -> Result:
        """Domain and all ``parts`` at once, each part behind an assumption literal in the
        incremental solver: cheap cores that name only parts (used to batch many existential
        targets into one query and to find which of them conflict)."""
        self.calls += 1
        self.solver.push()
        try:
            return self._assume(self.solver, parts, want_core=True)
        finally:
            self.solver.pop()

    def _tracked(self, parts, domain, want_core: bool) -> Result:
        """Solve in a fresh solver with every part behind an indicator literal, for a core."""
        s = self._new_solver()
        # Smaller cores make shorter explanations; the cost is paid only here.
        s.set("core.minimize", True)
        return self._assume(s, list(domain) + list(parts), want_core)

    def _assume(self, s: z3.Solver, parts, want_core: bool) -> Result:
        names: dict[str, str] = {}
        inds = []
        for i, (name, term) in enumerate(parts):
            ind = z3.Bool(f"__part{i}")
            names[str(ind)] = name
            s.add(z3.Implies(ind, term))
            inds.append(ind)
        status, dt = self._run(s, inds)
        if status == z3.sat:
            return Result("sat", model=s.model(), seconds=dt)
        if status == z3.unsat:
            core = tuple(sorted({names[str(c)] for c in s.unsat_core()})) if want_core else ()
            return Result("unsat", core=core, seconds=dt)
        return Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt)

    def _run(self, s: z3.Solver, assumptions) -> tuple[object, float]:
        t0 = time.perf_counter()
        try:
            status = s.check(*assumptions)
        except z3.Z3Exception as e:
            raise SolverError(str(e)) from e
        return status, time.perf_counter() - t0

    def plausible(self, parts: Sequence[tuple[str, z3.BoolRef]], prefer: Sequence[z3.BoolRef],
                  distance: z3.ArithRef | None, fallback: z3.ModelRef | None) -> z3.ModelRef | None:
        """A model of the domain and ``parts`` that keeps as many ``prefer`` literals as it can,
        then minimises ``distance``. Only used for witnesses that will be shown to a user, so
        the extra solving is paid for refuted obligations alone; on any failure to optimise
        the ``fallback`` model (already a valid witness) is returned unchanged."""
        opt = z3.Optimize()
        opt.set("timeout", self._optimize_timeout_ms)
        for _, term in self.domain:
            opt.add(term)
        for _, term in parts:
            opt.add(term)
        # Distinct weights make the optimum unique in practice: fewest deviations first
        # (every weight is above half the largest), ties broken toward keeping earlier
        # preferences, so witnesses do not depend on Z3's internal term order.
        n = len(prefer)
        for i, p in enumerate(prefer):
            opt.add_soft(p, 2 * n + (n - i))
        if distance is not None:
            opt.minimize(distance)
        self.calls += 1
        try:
            if opt.check() == z3.sat:
                return opt.model()
        except z3.Z3Exception:
            pass
        return fallback
