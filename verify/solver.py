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

:class:`SlicedProver` (used by ``verify``) keeps queries small on large guidelines: the
domain entries fall into *components* that share no variable, and a query is asked of a
small solver holding only the components its terms read, asserted with it inside
push/pop (a query that reads most of the domain goes to the main solver, where each entry
sits behind its own indicator literal). That is exact once some model of the whole domain is known (the
*base*): the other components are satisfiable on their own, by the base's values, so a
slice model combined with the base's values elsewhere is a model of the whole domain, and a
slice that is unsatisfiable makes the whole domain unsatisfiable too.

Witness polishing (:meth:`Prover.plausible`) is deterministic: seeded and bounded by Z3's
resource counter, never by the clock; when it does not finish, the plain model (already a
valid witness) is kept.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import z3

from ..model.encode import all_of, any_of
from ..model.record import Record


def _check(s: z3.Solver, assumptions: Sequence[z3.BoolRef]) -> z3.CheckSatResult:
    """``s.check(*assumptions)`` without the per-assumption sort checks of Z3's Python layer
    (every assumption here is a Bool term this package built): they cost more than the
    solving on the thousands of small queries of a large guideline."""
    arr = (z3.Ast * len(assumptions))(*[a.as_ast() for a in assumptions])
    return z3.CheckSatResult(z3.Z3_solver_check_assumptions(s.ctx.ref(), s.solver, len(assumptions), arr))


def _assert(s: z3.Solver, term: z3.BoolRef) -> None:
    """``s.add(term)`` for a Bool term, without the Python layer's coercions."""
    if isinstance(term, z3.BoolRef):
        z3.Z3_solver_assert(s.ctx.ref(), s.solver, term.as_ast())
    else:
        s.add(term)


class SolverError(Exception):
    """Z3 failed in a way that is not an answer (a bug or a resource exhaustion)."""


#: Resource budget of one witness optimisation (Z3's deterministic counter). Optimising
#: the literal source's witnesses takes well under a tenth of it.
OPTIMIZE_RLIMIT = 50_000_000


#: Universal claims asked together in one query at most (see :meth:`Prover.settle_together`).
GROUP_SIZE = 32

#: Domain entries a solver asking claims together holds at most (sliced prover).
GROUP_ENTRIES = 256

#: Seconds a query asking claims (or, in verify's reachability cover, targets) together may
#: take before they are asked one by one: see :data:`UNITS_PER_SECOND`.
GROUP_SECONDS = 2.0

#: A query that only saves time (a group of claims, a batch of targets) is bounded by Z3's
#: resource counter, not by the clock: its "seconds" are this many units each (about what
#: Z3 counts in a second on this project's queries, 1 to 3 million). Whether such a query
#: finishes decides which queries follow and so which model a later one returns; counted,
#: it is the same on a slow or a busy machine, and the witnesses shown do not depend on the
#: machine's load (nor on ``verify --jobs``). The prover's timeout still applies on top.
UNITS_PER_SECOND = 2_000_000


def group_seconds(claims: int) -> float:
    """How long a query asking ``claims`` claims together may take: about what asking them
    one by one would (a disjunction Z3 finds hard, such as many threshold ladders under
    at-least-two constraints, is then given up early instead of costing more than it saves)."""
    return min(GROUP_SECONDS, max(0.05, 0.004 * claims))


#: Z3's "no timeout" (its largest unsigned value), to restore a solver without one.
NO_TIMEOUT = 4294967295


class Result(Record):
    status: Literal["sat", "unsat", "unknown"]
    model: Any = None  # z3.ModelRef (or a SliceModel) when sat
    core: tuple[str, ...] = ()  # names of the tracked parts in an unsat core
    reason: str = ""  # Z3's reason_unknown when unknown
    seconds: float = 0.0


class Prover:
    def __init__(self, domain: Sequence[tuple[str, z3.BoolRef]], timeout: float | None = None,
                 rlimit: int | None = None, seed: int = 0):
        z3.set_param("smt.random_seed", seed)
        z3.set_param("sat.random_seed", seed)
        self.domain = list(domain)
        self.timeout, self.rlimit, self.seed = timeout, rlimit, seed
        self._timeouts: dict[int, tuple[int, int]] = {}
        self.solver = self._new_solver()
        self._assert_domain()
        self.calls = 0

    def _assert_domain(self) -> None:
        # The incremental solver holds the domain as plain assertions: most obligations need
        # no core, and thousands of tracked assumptions per check would dominate large runs.
        for _, term in self.domain:
            self.solver.add(term)

    def _new_solver(self, simple: bool = False) -> z3.Solver:
        s = z3.SimpleSolver() if simple else z3.Solver()
        if simple:
            # A small solver answers thousands of small queries on a large guideline:
            # without Z3 sizing its configuration up from the formulas, each takes about
            # 0.4 instead of 0.6 ms (and a new solver's first one 1.1 instead of 1.7 ms).
            s.set("auto_config", False)
        s.set("random_seed", self.seed)
        if self.timeout is not None:
            s.set("timeout", self._timeout_ms())
        if self.rlimit is not None:
            s.set("rlimit", self._rlimit())
        # what :meth:`_limit` last gave this solver (a new solver may reuse a dropped one's id)
        self._timeouts[id(s)] = (self._timeout_ms(), self._rlimit())  # without a timeout set: Z3's "none"
        return s

    def scratch(self) -> z3.Solver:
        """An empty solver with this prover's seed and limits, for a caller that asserts
        part of the domain itself (a relaxation: unsat there is unsat with the whole)."""
        return self._new_solver(simple=True)

    def check(self, parts: Sequence[tuple[str, z3.BoolRef]], use_domain: bool = True,
              want_core: bool = True, seconds: float | None = None) -> Result:
        """Is the conjunction of the domain (unless ``use_domain`` is false) and ``parts``
        satisfiable? On ``unsat`` with ``want_core``, the core lists the names involved.
        ``seconds`` bounds this query more tightly than the prover's timeout (for a query
        that only saves time: its unknown is never a verdict)."""
        self.calls += 1
        if not use_domain:
            return self._tracked(parts, [], want_core)
        answer, dt = self._scoped(self.solver, parts, [], lambda s: s.model(), seconds)
        if answer is not None:
            return answer
        if not want_core:
            return Result("unsat", seconds=dt)
        return self._core(parts, self.domain, dt)

    def _scoped(self, s: z3.Solver, parts: Sequence[tuple[str, z3.BoolRef]], assumptions: list[z3.BoolRef],
                model: Callable[[z3.Solver], Any], seconds: float | None = None) -> tuple[Result | None, float]:
        """``parts`` added to ``s`` inside push/pop and checked under ``assumptions``: the
        result when sat (with ``model(s)``) or unknown, None when unsat; and the seconds."""
        s.push()
        try:
            for _, term in parts:
                _assert(s, term)
            self._limit(s, seconds)
            status, dt = self._run(s, assumptions)
            if status == z3.sat:
                return Result("sat", model=model(s), seconds=dt), dt
            if status == z3.unknown:
                return Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt), dt
            return None, dt
        finally:
            s.pop()

    def _core(self, parts: Sequence[tuple[str, z3.BoolRef]], domain: Sequence[tuple[str, z3.BoolRef]],
              dt: float) -> Result:
        """The unsat core of ``domain`` and ``parts``, already found unsat in ``dt`` seconds."""
        r = self._tracked(parts, domain, True)
        # The core comes from a second, tracked solve; its verdict must match the first.
        if r.status == "sat":
            raise SolverError("the tracked re-check of an unsat obligation came back sat")
        return r.replace(status="unsat", seconds=dt + r.seconds) if r.status == "unknown" else r

    def settle_together(self, negations: Sequence[Sequence[tuple[str, z3.BoolRef]]]) -> list[Result | None]:
        """Which of ``negations`` are unsatisfiable with the domain, asked together rather
        than one query each (the per-query cost, not the solving, dominated large runs).

        The negations form groups of at most :data:`GROUP_SIZE`; a group is one query, the
        disjunction of its members. ``unsat`` proves every member unsatisfiable, since each
        implies the disjunction. A model satisfies some members: those are left to their
        own queries (which find and confirm their witnesses) and the rest is asked again. A
        group the solver does not settle within :func:`group_seconds` is left to the
        one-by-one queries as well, so only the time taken, never a verdict, depends on the
        grouping or on the clock.

        Returns, for each negation, an ``unsat`` result when it is proved here, else None.
        """
        out: list[Result | None] = [None] * len(negations)
        members = list(range(len(negations)))
        for k in range(0, len(members), GROUP_SIZE):
            self._settle_group(negations, members[k:k + GROUP_SIZE], out, self.solver, [])
        return out

    def _settle_group(self, negations: Sequence[Sequence[tuple[str, z3.BoolRef]]], pending: list[int],
                      out: list[Result | None], s: z3.Solver, assumptions: list[z3.BoolRef],
                      entries: Sequence[z3.BoolRef] = ()) -> None:
        """:meth:`settle_together` for one group, asked of ``s`` under ``assumptions``, with
        the domain ``entries`` asserted with each query."""
        while len(pending) >= 2:
            conj = {i: all_of([t for _, t in negations[i]]) for i in pending}
            self.calls += 1
            answer, dt = self._scoped(s, [*(("domain", t) for t in entries),
                                          ("one of the claims fails", any_of(list(conj.values())))], assumptions,
                                      lambda s: s.model(), group_seconds(len(pending)))
            if answer is None:  # unsat: every claim of the group holds
                for i in pending:
                    out[i] = Result("unsat", seconds=dt / len(pending))
                return
            if answer.status != "sat":
                return
            hit = {i for i in pending if z3.is_true(answer.model.eval(conj[i], model_completion=True))}
            if not hit:  # pragma: no cover - a model of a disjunction satisfies a member
                return
            pending = [i for i in pending if i not in hit]

    def check_assuming(self, parts: Sequence[tuple[str, z3.BoolRef]], seconds: float | None = None) -> Result:
        """Domain and all ``parts`` at once, each part behind an assumption literal in the
        incremental solver: cheap cores that name only parts (used to batch many existential
        targets into one query and to find which of them conflict). ``seconds`` bounds this
        query more tightly than the prover's timeout (for a query that only saves time)."""
        self.calls += 1
        self.solver.push()
        try:
            self._limit(self.solver, seconds)
            return self._assume(self.solver, parts, want_core=True)
        finally:
            self.solver.pop()

    def _timeout_ms(self) -> int:
        """The prover's timeout as Z3 takes it (milliseconds; Z3's largest value: none)."""
        return NO_TIMEOUT if self.timeout is None else max(1, int(self.timeout * 1000))

    def _rlimit(self, units: int | None = None) -> int:
        """The resource limit of a check: ``units`` (None: none of its own) within the
        prover's (0: Z3's "none")."""
        if units is None:
            return 0 if self.rlimit is None else int(self.rlimit)
        return units if self.rlimit is None else min(units, int(self.rlimit))

    def _limit(self, s: z3.Solver, seconds: float | None) -> None:
        """Set the limits of ``s``'s next check: the prover's timeout and resource limit;
        with ``seconds`` (a query that only saves time), also a resource limit of that many
        seconds' worth of units (:data:`UNITS_PER_SECOND`). Every check of a prover's solvers
        is preceded by this call, so the limits are set only when they change (setting one
        costs more than a small query)."""
        limits = (self._timeout_ms(), self._rlimit(None if seconds is None else max(1, int(seconds * UNITS_PER_SECOND))))
        if self._timeouts.get(id(s)) != limits:
            s.set("timeout", limits[0])
            s.set("rlimit", limits[1])
            self._timeouts[id(s)] = limits

    def _tracked(self, parts: Sequence[tuple[str, z3.BoolRef]], domain: Sequence[tuple[str, z3.BoolRef]],
                 want_core: bool) -> Result:
        """Solve in a fresh solver with every part behind an indicator literal, for a core."""
        s = self._new_solver()
        # Smaller cores make shorter explanations; the cost is paid only here.
        s.set("core.minimize", True)
        return self._assume(s, list(domain) + list(parts), want_core)

    def _assume(self, s: z3.Solver, parts: Sequence[tuple[str, z3.BoolRef]], want_core: bool,
                also: Sequence[z3.BoolRef] = ()) -> Result:
        """``parts`` behind fresh indicator literals (named by position, mapped back by AST
        id: never through Z3's printer), checked assuming them and ``also``."""
        names: dict[int, str] = {}
        inds: list[z3.BoolRef] = []
        for i, (name, term) in enumerate(parts):
            ind = z3.Bool(f"__part{i}")
            names[ind.get_id()] = name
            s.add(z3.Implies(ind, term))
            inds.append(ind)
        status, dt = self._run(s, inds + list(also))
        if status == z3.sat:
            return Result("sat", model=s.model(), seconds=dt)
        if status == z3.unsat:
            core = tuple(sorted({names[i] for c in s.unsat_core() if (i := c.get_id()) in names})) if want_core else ()
            return Result("unsat", core=core, seconds=dt)
        return Result("unknown", reason=s.reason_unknown() or "unknown", seconds=dt)

    def _run(self, s: z3.Solver, assumptions: Sequence[z3.BoolRef]) -> tuple[object, float]:
        t0 = time.perf_counter()
        try:
            status = _check(s, assumptions)
        except z3.Z3Exception as e:
            raise SolverError(str(e)) from e
        return status, time.perf_counter() - t0

    def plausible(self, parts: Sequence[tuple[str, z3.BoolRef]], prefer: Sequence[z3.BoolRef],
                  distance: z3.ArithRef | None, fallback: z3.ModelRef | None,
                  tiebreak: z3.ArithRef | None = None) -> z3.ModelRef | None:
        """A model of the domain and ``parts`` that keeps as many ``prefer`` literals as it can,
        then minimises ``distance``. Only used for witnesses that will be shown to a user, so
        the extra solving is paid for refuted obligations alone; on any failure to optimise
        the ``fallback`` model (already a valid witness) is returned unchanged.

        Deterministic: seeded, and bounded by Z3's resource counter (the smaller of
        :data:`OPTIMIZE_RLIMIT` and ``--rlimit``), so the witness does not depend on the
        machine's speed. The prover's timeout stands behind that bound: an optimisation over
        nonlinear arithmetic was once seen running for many minutes inside one check
        without reaching it."""
        opt = z3.Optimize()
        opt.set("random_seed", self.seed)
        opt.set("rlimit", self._rlimit(OPTIMIZE_RLIMIT))
        if self.timeout is not None:
            opt.set("timeout", self._timeout_ms())
        for _, term in self.domain:
            opt.add(term)
        for _, term in parts:
            opt.add(term)
        # Distinct weights make the optimum unique in practice: fewest deviations first
        # (every weight is above half the largest), ties broken toward keeping earlier
        # preferences, so witnesses do not depend on Z3's internal term order.
        n = len(prefer)
        for i, p in enumerate(prefer):
            # With ``tiebreak``, weights that make the optimum unique outright: the fewest
            # deviations, then the set of deviations read as a binary number (no two sets
            # weigh the same), then ``distance``, then ``tiebreak`` (a sum of the numbers).
            opt.add_soft(p, (1 << (n + 1)) + (1 << (n - 1 - i)) if tiebreak is not None else 2 * n + (n - i))
        if distance is not None:
            opt.minimize(distance)
        if tiebreak is not None:
            opt.minimize(tiebreak)
        self.calls += 1
        try:
            # ``sat`` only when the optimum was reached; a run cut short by the resource limit
            # answers ``unknown`` and its (partial) model is not used.
            if opt.check() == z3.sat:
                return opt.model()
        except z3.Z3Exception:
            pass
        return fallback


class SliceModel:
    """A model of part of the domain (the components a query read, and the query's own
    variables); every other variable takes its value in the prover's base model."""

    def __init__(self, model: z3.ModelRef, variables: frozenset[str]):
        self.model = model
        #: the variables this model decides
        self.variables = variables


Support = Callable[[z3.ExprRef], "frozenset[str] | None"]


class SlicedProver(Prover):
    """A :class:`Prover` that gives each query only the domain components it reads.

    ``support(term)`` names the variables a term reads (None when unknown: the query then
    sees the whole domain). Until a model of the whole domain is known (:attr:`base`, set by
    the first satisfiable whole-domain query) every query sees the whole domain."""

    def __init__(self, domain: Sequence[tuple[str, z3.BoolRef]], support: Support,
                 timeout: float | None = None, rlimit: int | None = None, seed: int = 0):
        self.support = support
        self.base: z3.ModelRef | None = None
        self._lone: z3.Solver | None = None
        super().__init__(domain, timeout=timeout, rlimit=rlimit, seed=seed)

    def _assert_domain(self) -> None:
        # One indicator literal per domain entry, asserted once; a query assumes those of the
        # components it reads. Names are positional and never printed.
        self._ind = [z3.Bool(f"__domain{i}") for i in range(len(self.domain))]
        self._index = {name: i for i, (name, _) in enumerate(self.domain)}
        for ind, (_, term) in zip(self._ind, self.domain, strict=True):
            _assert(self.solver, z3.Implies(ind, term))
        # Components: entries linked by shared variables (union-find over variable names).
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        supports = [self.support(term) for _, term in self.domain]
        everything = "\0all"  # entries of unknown support join one component with everything
        parent[everything] = everything
        for sup in supports:
            for v in sup or ():
                parent.setdefault(v, v)
        for sup in supports:
            names = list(sup) if sup is not None else [everything] + list(parent)
            for v in names[1:]:
                a, b = find(names[0]), find(v)
                if a != b:
                    parent[b] = a
        self._comp_of: dict[str, str] = {v: find(v) for v in parent}
        self._entries: dict[str, list[int]] = {}
        self._comp_vars: dict[str, list[str]] = {}
        self._entry_comp: list[str] = []
        for i, sup in enumerate(supports):
            key = find(everything) if sup is None else find(next(iter(sup))) if sup else f"\0ground{i}"
            self._entries.setdefault(key, []).append(i)
            self._entry_comp.append(key)
        for v, root in self._comp_of.items():
            if v != everything:
                self._comp_vars.setdefault(root, []).append(v)
        self._everything = find(everything)

    def _components(self, parts: Sequence[tuple[str, z3.BoolRef]], drop: int | None = None
                    ) -> tuple[frozenset[str], list[int], set[str]] | None:
        """The domain components ``parts`` read (with the dropped entry's), their entries and
        the variables read; None when the query must see the whole domain."""
        if self.base is None:
            return None
        read: set[str] = set()
        for _, term in parts:
            sup = self.support(term)
            if sup is None:
                return None
            read |= sup
        comps = frozenset({self._comp_of[v] for v in read if v in self._comp_of}
                          | ({self._entry_comp[drop]} if drop is not None else set()))
        if self._everything in comps:
            return None
        entries = [i for c in sorted(comps) for i in self._entries.get(c, ())]
        if 2 * len(entries) > len(self._ind):
            return None
        return comps, entries, read

    def _packs(self, queries: Sequence[Sequence[tuple[str, z3.BoolRef]]]
               ) -> tuple[list[int], list[tuple[set[str], list[int]]]]:
        """``queries`` (by index) that read the whole domain, and runs of the others, in
        their order, of at most :data:`GROUP_SIZE` queries whose domain components together
        hold at most :data:`GROUP_ENTRIES` entries (with those components)."""
        whole: list[int] = []
        packs: list[tuple[set[str], list[int]]] = []
        entries = 0
        for i, parts in enumerate(queries):
            found = self._components(parts)
            if found is None:
                whole.append(i)
                continue
            comps = found[0]
            if packs and len(packs[-1][1]) < GROUP_SIZE and (comps <= packs[-1][0] or entries + len(found[1]) <= GROUP_ENTRIES):
                if not comps <= packs[-1][0]:
                    packs[-1][0].update(comps)
                    entries = sum(len(self._entries.get(c, ())) for c in packs[-1][0])
                packs[-1][1].append(i)
            else:
                packs.append((set(comps), [i]))
                entries = len(found[1])
        return whole, packs

    def settle_together(self, negations: Sequence[Sequence[tuple[str, z3.BoolRef]]]) -> list[Result | None]:
        """:meth:`Prover.settle_together`, a group per pack of negations (:meth:`_packs`),
        asked of a solver holding just the pack's domain components, or of the main solver
        for negations that read the whole domain."""
        out: list[Result | None] = [None] * len(negations)
        whole, groups = self._packs(negations)
        for k in range(0, len(whole), GROUP_SIZE):
            self._settle_group(negations, whole[k:k + GROUP_SIZE], out, self.solver, self._ind)
        for comps, members in groups:
            if len(members) < 2:
                continue
            entries = [self.domain[i][1] for c in sorted(comps) for i in self._entries.get(c, ())]
            self._settle_group(negations, members, out, self._slice(), [], entries)
        return out

    def _scope(self, parts: Sequence[tuple[str, z3.BoolRef]], drop: int | None = None
               ) -> tuple[z3.Solver, list[z3.BoolRef], frozenset[str] | None, list[z3.BoolRef]]:
        """The solver to ask, the indicator literals to assume, the variables the slice
        decides (None: the whole domain, in the main solver) and the domain entries to
        assert with the query (a slice's)."""
        found = self._components(parts, drop)
        if found is None:
            if drop is None:  # the common case: every entry, without copying the list
                return self.solver, self._ind, None, []
            return self.solver, [ind for i, ind in enumerate(self._ind) if i != drop], None, []
        comps, entries, read = found
        variables = set(read)
        for c in comps:
            variables.update(self._comp_vars.get(c, ()))
        return self._slice(), [], frozenset(variables), [self.domain[i][1] for i in entries if i != drop]

    def _slice(self) -> z3.Solver:
        """The one small solver slice queries are asked of: each asserts the domain entries
        it reads together with its own parts, inside push/pop, so the solver holds nothing
        else while it answers. Z3's check costs time in proportion to everything its solver
        holds, asked about or not, and a new solver's first answer costs more than several
        later ones: one solver emptied after each query beats a solver per set of
        components (or kept solvers holding several)."""
        if self._lone is None:
            self._lone = self._new_solver(simple=True)
        return self._lone

    def _model(self, s: z3.Solver, variables: frozenset[str] | None) -> Any:
        model = s.model()
        if variables is None:
            if self.base is None:
                self.base = model
            return model
        return SliceModel(model, variables)

    def check(self, parts: Sequence[tuple[str, z3.BoolRef]], use_domain: bool = True,
              want_core: bool = True, seconds: float | None = None) -> Result:
        if not use_domain:
            return super().check(parts, use_domain, want_core, seconds)
        return self._check(parts, None, want_core, seconds)

    def check_without(self, name: str, parts: Sequence[tuple[str, z3.BoolRef]]) -> Result:
        """The domain without its entry ``name``, and ``parts``: can a valid patient break
        that entry? On ``unsat`` the core names the other entries involved."""
        return self._check(parts, self._index[name], True)

    def _check(self, parts: Sequence[tuple[str, z3.BoolRef]], drop: int | None, want_core: bool,
               seconds: float | None = None) -> Result:
        self.calls += 1
        s, inds, variables, entries = self._scope(parts, drop)
        answer, dt = self._scoped(s, [*(("domain", t) for t in entries), *parts], inds,
                                  lambda s: self._model(s, variables), seconds)
        if answer is not None:
            return answer
        if not want_core:
            return Result("unsat", seconds=dt)
        return self._core(parts, [entry for i, entry in enumerate(self.domain) if i != drop], dt)

    def check_assuming(self, parts: Sequence[tuple[str, z3.BoolRef]], seconds: float | None = None) -> Result:
        self.calls += 1
        s, inds, variables, entries = self._scope(parts)
        s.push()
        try:
            for t in entries:
                _assert(s, t)
            self._limit(s, seconds)
            r = self._assume(s, parts, want_core=True, also=inds)
            if r.status == "sat":
                r = r.replace(model=self._model(s, variables))
            return r
        finally:
            s.pop()
