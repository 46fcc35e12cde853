"""Proof obligations over a loaded guideline -> findings (verdict, location, witness).

    solver.py    the one place that calls Z3 (seeds, limits, unknown -> verdict unknown)
    findings.py  Finding values and verdicts
    checks.py    the obligations, one class per check code
    witness.py   plausible witness patients, re-checked by the plain evaluator
    render.py    text and JSON renderers (checks never print)
"""
