"""What a partial answer hinges on: minimal sets of unknown facts that determine each
undecided recommendation, through constraints and computed values alike.

The claims are checked by brute force over every valid completion (the plain evaluator,
not the solver), on hand-written guidelines and on random small ones."""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import load_text
from guideproof import views
from guideproof.guideline import HERE
from guideproof.model.evaluate import run, violated_constraints
from guideproof.model.loader import load_guideline
from guideproof.model.patient import load_patient_file
from guideproof.verify import partial
from guideproof.verify.partial import APPLIES, DEPENDS, NEVER, decide

HEAD = """\
guideproof: 1
guideline: {id: t, title: T, version: "1"}
sources: {1: {title: S}}
categories: {care: Care}
strengths: {strong: Strong}
"""


def guideline(variables: str, constraints: list[str], recs: dict[str, str]):
    """A guideline with one `any` decision per recommendation, all reached through a fork
    (a single recommendation hangs off the start directly)."""
    lines = [HEAD, "variables:", *(f"  {v}" for v in variables.strip().splitlines())]
    if constraints:
        lines.append("constraints:")
        lines += [f"  - {{id: c{i}, holds: '{c}', why: W.}}" for i, c in enumerate(constraints)]
    lines.append("recommendations:")
    lines += [f"  {r}: {{short: {r}, text: T., category: care, strength: strong, sources: [1], section: S}}"
              for r in recs]
    steps = []
    for r, cond in recs.items():
        steps.append(f"  ask_{r}: {{kind: decision, title: {r}?, choice: any, "
                     f"branches: [{{when: '{cond}', goto: do_{r}}}], otherwise: done}}")
        steps.append(f"  do_{r}: {{kind: action, title: {r}, recommend: [{r}], next: done}}")
    steps.append("  done: {kind: end, title: End}")
    if len(recs) > 1:
        lines.append("start: all")
        steps.insert(0, f"  all: {{kind: fork, title: All, tracks: [{', '.join(f'ask_{r}' for r in recs)}]}}")
    else:
        lines.append(f"start: ask_{next(iter(recs))}")
    lines += ["steps:", *steps]
    return load_text("\n".join(lines) + "\n")


def completions(g, known):
    """Every valid completion of ``known`` (bool, enum and small int variables only)."""
    names = [n for n in g.variables if n not in known]
    domains = []
    for n in names:
        v = g.variables[n]
        domains.append([False, True] if v.type.kind == "bool" else list(v.type.values) if v.type.kind == "enum"
                       else list(range(v.min, v.max + 1)))
    for values in itertools.product(*domains):
        p = {**known, **dict(zip(names, values, strict=True))}
        if not violated_constraints(g, p):
            yield p


def determines(g, known, names, rid, cs=None) -> bool:
    """Brute force: is ``rid`` a function of ``names`` over the valid completions?"""
    seen: dict[tuple, bool] = {}
    for p in cs if cs is not None else completions(g, known):
        key = tuple(p[n] for n in names)
        if seen.setdefault(key, rid in run(g, p).applies) != (rid in run(g, p).applies):
            return False
    return True


# -- the scenario: a hand-computed score tied to its inputs by a constraint ---------

# The score comes first, as a form would ask it: declaration order alone would keep it.
SCORE_VARS = """
score: {type: int, min: 0, max: 9, unit: points, question: CHA2DS2-VASc score as computed by hand?}
age: {type: int, min: 18, max: 110, unit: years, question: Age?}
female: {type: bool, question: Female?}
heart_failure: {type: bool, question: Heart failure?}
hypertension: {type: bool, question: Hypertension?}
diabetes: {type: bool, question: Diabetes?}
stroke: {type: bool, question: Prior stroke?}
vascular: {type: bool, question: Vascular disease?}
"""
SCORE_IS = ("score == count(heart_failure, hypertension, diabetes, vascular, female) + (if stroke then 2 else 0)"
            " + (if age >= 75 then 2 else if age >= 65 then 1 else 0)")


@pytest.fixture(scope="module")
def scored():
    return guideline(SCORE_VARS, [SCORE_IS], {"anticoagulate": "score >= 2", "no_anticoagulation": "score < 2"})


ONE_POINT = {"age": 70, "female": False, "heart_failure": False, "diabetes": False, "stroke": False,
             "vascular": False}


def test_the_input_that_decides_is_asked_not_the_score(scored):
    """Age 70 gives one point; hypertension decides. The score is tied to it by the
    constraint, so neither can change alone: the old one-flip method listed the score as
    the question and hypertension as not needed."""
    ans = decide(scored, ONE_POINT)
    assert ans.recs["anticoagulate"].status == DEPENDS
    assert ans.recs["anticoagulate"].hinges == ("hypertension",)
    assert ans.recs["no_anticoagulation"].hinges == ("hypertension",)
    assert ans.ask_next == (("hypertension", 2),)
    assert ans.not_needed == ("score",)
    text = views.partial_text(ans)
    assert "1. hypertension" in text and "NOT NEEDED" in text and text.rstrip().endswith("score")


def test_several_inputs_are_all_asked_and_the_score_is_not(scored):
    known = {k: v for k, v in ONE_POINT.items() if k != "diabetes"}
    ans = decide(scored, known)
    assert ans.recs["anticoagulate"].hinges == ("hypertension", "diabetes")  # either one gives 2 points
    assert "score" in ans.not_needed and "hypertension" not in ans.not_needed
    for rid in ("anticoagulate", "no_anticoagulation"):
        assert determines(scored, known, ["hypertension", "diabetes"], rid)
        assert not determines(scored, known, ["hypertension"], rid)


def test_a_known_score_still_counts(scored):
    """With the score known the inputs cannot change it: the recommendation is decided."""
    ans = decide(scored, {"score": 3})
    assert ans.recs["anticoagulate"].status == APPLIES and ans.ask_next == ()


# -- a variable off every path matters only through a constraint ---------------------------

FLAG_VARS = """
red_flag: {type: bool, question: Any red flag?}
deficit: {type: bool, question: Deficit?}
instability: {type: bool, question: Instability?}
other: {type: bool, question: Unrelated?}
"""


def test_off_path_inputs_are_found_through_a_constraint():
    """Only `red_flag` is on the path, but the constraint defines it from two facts that are
    off every path: those are the questions, and the flag itself (determined by them) is
    not needed. `other` is tied to nothing the recommendation reads."""
    g = guideline(FLAG_VARS, ["red_flag == (deficit or instability)"], {"refer": "red_flag"})
    ans = decide(g, {})
    assert ans.recs["refer"].hinges == ("deficit", "instability")
    assert set(ans.not_needed) == {"red_flag", "other"}
    ans = decide(g, {"deficit": False})
    assert ans.recs["refer"].hinges == ("instability",)


def test_a_one_way_constraint_can_settle_early_but_is_not_needed():
    """`b implies a`: knowing b = true settles the recommendation on `a`, but `a` settles it
    whatever b is, so b is not needed (the exact meaning of "not needed")."""
    g = guideline("a: {type: bool, question: A?}\nb: {type: bool, question: B?}", ["b implies a"], {"r": "a"})
    ans = decide(g, {})
    assert ans.recs["r"].hinges == ("a",) and ans.not_needed == ("b",)
    assert decide(g, {"b": True}).recs["r"].status == APPLIES


# -- no single variable decides alone ----------------------------------------------------

XOR_VARS = """
a: {type: bool, question: A?}
b: {type: bool, question: B?}
c: {type: bool, question: C?}
"""


def test_xor_needs_both():
    g = guideline(XOR_VARS, [], {"r": "(a and not b) or (b and not a)"})
    ans = decide(g, {})
    assert ans.recs["r"].hinges == ("a", "b") and ans.not_needed == ("c",)
    assert decide(g, {"a": True}).recs["r"].hinges == ("b",)


def test_xor_through_a_constraint_needs_both_inputs():
    """`c` is the parity of a and b, written as a constraint; the recommendation reads c.
    Neither input alone determines it, and the parity itself is derived from them."""
    g = guideline(XOR_VARS, ["c == ((a and not b) or (b and not a))"], {"r": "c"})
    ans = decide(g, {})
    assert ans.recs["r"].hinges == ("a", "b") and ans.not_needed == ("c",)


# -- computed values are seen through ------------------------------------------------------

def test_af_score_inputs_are_asked():
    """The AF guideline computes CHA2DS2-VA as a definition: a patient of 70 (one point)
    with hypertension unknown needs hypertension asked for the stroke-prevention decision."""
    g = load_guideline(HERE / "af_anticoagulation.yaml")
    full = load_patient_file(g, sorted((HERE / "examples" / "af").glob("*.yaml"))[0]).values
    known = {**full, "age": 70, "heart_failure": False, "diabetes": False, "vascular_disease": False,
             "prior_stroke_tia_te": False, "hcm_or_amyloidosis": False, "mechanical_valve": False,
             "mod_severe_mitral_stenosis": False}
    for n in ("hypertension", "bleeding_history"):
        del known[n]
    ans = decide(g, known)
    assert ans.recs["oac_recommended"].status == DEPENDS
    assert ans.recs["oac_recommended"].hinges == ("hypertension",)
    assert ans.recs["oac_consider"].hinges == ("hypertension",)
    assert "hypertension" in dict(ans.ask_next) and "hypertension" not in ans.not_needed


# -- the solver giving up is shown ---------------------------------------------------------

def test_unknown_keeps_the_variable_and_says_so(scored, monkeypatch):
    real = partial._Pairs.check

    def check(self, agree, parts):
        if "diabetes" not in agree and parts[0][0] == "applies":
            return "unknown"
        return real(self, agree, parts)

    monkeypatch.setattr(partial._Pairs, "check", check)
    known = {k: v for k, v in ONE_POINT.items() if k != "diabetes"}
    ans = decide(scored, known)
    r = ans.recs["anticoagulate"]
    assert r.hinges == ("hypertension", "diabetes") and r.unproved == ("diabetes",)
    text = views.partial_text(ans)
    assert "kept because the solver could not tell whether it is needed: diabetes" in text
    assert views.partial_json(ans).count('"hinges_unproved": [\n        "diabetes"\n      ]') == 2


# -- random small guidelines ---------------------------------------------------------------

SMALL_VARS = """
a: {type: bool, question: A?}
b: {type: bool, question: B?}
c: {type: bool, question: C?}
n: {type: int, min: 0, max: 3, unit: points, question: N?}
k: {type: enum, values: [x, y, z], question: K?}
"""
ATOMS = ["a", "b", "c", "n >= 1", "n >= 2", "n == 3", "n == count(a, b)", "k == x", "k in [y, z]",
         "n >= count(b, c) + 1"]

#: constraints that tie a variable to others, as a hand-computed score or flag is
TIES = ["n == count(a, b, c)", "n == count(a, b)", "c == (a or b)", "(k == x) == (a and b)",
        "c == ((a and not b) or (b and not a))", "b implies a"]


def conditions(depth: int = 2):
    atom = st.sampled_from(ATOMS)
    if depth == 0:
        return atom
    sub = conditions(depth - 1)
    return st.one_of(atom, atom.map(lambda x: f"not ({x})"),
                     st.tuples(sub, st.sampled_from(["and", "or", "implies"]), sub).map(
                         lambda t: f"({t[0]}) {t[1]} ({t[2]})"))


@st.composite
def small_case(draw):
    ties = st.sampled_from(TIES)
    cons = draw(st.lists(st.one_of(ties, ties, conditions(1)), max_size=2))
    recs = {f"r{i}": c for i, c in enumerate(draw(st.lists(conditions(), min_size=1, max_size=3)))}
    g = guideline(SMALL_VARS, cons, recs)
    valid = list(completions(g, {}))
    assume(valid)
    base = draw(st.sampled_from(valid))
    known_names = draw(st.sets(st.sampled_from(list(g.variables)), max_size=len(g.variables) - 1))
    return g, {n: base[n] for n in known_names}


RANDOM = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much]}


@pytest.mark.slow
@settings(max_examples=400, **RANDOM)
@given(case=small_case())
def test_hinges_on_random_guidelines(case):
    check_hinges(*case)


@pytest.mark.slow
@settings(max_examples=30, **RANDOM)
@given(case=small_case())
def test_hinges_on_random_guidelines_fast_share(case):
    check_hinges(*case)


def check_hinges(g, known):
    """Statuses, hinges and "not needed" against every valid completion."""
    ans = decide(g, known)
    cs = list(completions(g, known))
    asked = [v for v, _ in ans.ask_next]
    assert set(asked) | set(ans.not_needed) == set(ans.unknown) and not set(asked) & set(ans.not_needed)
    for rid, r in ans.recs.items():
        got = {rid in run(g, p).applies for p in cs}
        assert r.status == {frozenset({True}): APPLIES, frozenset({False}): NEVER,
                            frozenset({True, False}): DEPENDS}[frozenset(got)], rid
        assert not r.unproved
        if r.status != DEPENDS:
            assert r.hinges == ()
            continue
        # the hinges determine it, and each of them is necessary
        assert determines(g, known, r.hinges, rid, cs), (rid, r.hinges)
        for v in r.hinges:
            assert not determines(g, known, [h for h in r.hinges if h != v], rid, cs), (rid, r.hinges, v)
    # (a) the not-needed facts cannot change any recommendation once the asked ones are known:
    # completions agreeing on the asked facts get the same recommendations, whatever the rest
    by_asked: dict[tuple, frozenset[str]] = {}
    for p in cs:
        got = frozenset(run(g, p).applies)
        assert by_asked.setdefault(tuple(p[v] for v in asked), got) == got, (asked, p)


def test_a_recommendation_the_solver_gave_up_on_keeps_its_facts_needed(scored, monkeypatch):
    """Nothing is proved about a recommendation left unknown, so every fact it may read,
    through its conditions and the constraints, stays needed (here the score too)."""
    real = partial._Classifier.classify

    def classify(self):
        return {**real(self), "anticoagulate": partial.UNKNOWN}

    monkeypatch.setattr(partial._Classifier, "classify", classify)
    ans = decide(scored, ONE_POINT)
    assert ans.recs["anticoagulate"].hinges == ("score", "hypertension")
    assert ans.recs["no_anticoagulation"].hinges == ("hypertension",)
    assert ans.ask_next == (("hypertension", 2), ("score", 1)) and ans.not_needed == ()
