"""guideproof: a clinical practice guideline as data, proved sound by Z3."""
__version__ = "0.1.0"
