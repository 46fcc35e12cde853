"""The kinds of patient variable, one adapter each: the single table every layer consults.

An adapter says, for its kind, how a patient value is read (from a file, JSON or ``--set``
text), what a typical patient has, how a value is shown and written to JSON, and how the
kind is encoded for Z3 (declared, fixed to a known value, read back from a model). Adding a
kind means adding one adapter here; nothing else dispatches on the kind's name, so a kind
cannot be silently treated as another. The Z3 methods import z3 only when called: the
complete-query path never does.
"""
from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from . import expr as X
from .expr import MAX_INT_DIGITS, UNIT_DAYS, Type, duration_text
from .numbers import exact_text, format_number

if TYPE_CHECKING:
    from .guideline import Variable

Problem = tuple[str, str]  # (diagnostic code, message)
Coerced = tuple[Any, Problem | None]

TRUE_WORDS = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "no", "n", "0"})


def model_value(model: Any, term: Any) -> Fraction | bool:
    """The value of ``term`` in ``model`` (completed where the model leaves it open): a
    number as a Fraction, a truth value as a bool. Read through Z3's C API: the Python
    layer's wrappers for the answer cost more than the evaluation, and every witness reads
    each of its variables this way."""
    import z3

    ctx = model.ctx.ref()
    out = (z3.Ast * 1)()
    if not z3.Z3_model_eval(ctx, model.model, term.as_ast(), True, out):
        raise z3.Z3Exception("the model could not evaluate a term")
    value = out[0]
    z3.Z3_inc_ref(ctx, value)
    try:
        if z3.Z3_get_ast_kind(ctx, value) == z3.Z3_NUMERAL_AST:
            return Fraction(z3.Z3_get_numeral_string(ctx, value))
        truth = z3.Z3_get_bool_value(ctx, value)
        if truth == z3.Z3_L_UNDEF:  # pragma: no cover - a completed model gives every constant a value
            raise z3.Z3Exception("the model gave a term no value")
        return bool(truth == z3.Z3_L_TRUE)
    finally:
        z3.Z3_dec_ref(ctx, value)


def describe_value(raw: Any) -> str:
    """A patient value as the author wrote it, for messages."""
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
    if isinstance(raw, Decimal):
        return str(raw)  # as written
    if isinstance(raw, Fraction):
        return format_number(raw)
    return str(raw)


_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+|/[1-9][0-9]*)?")


def parse_number(raw: Any, whole: bool) -> Fraction | Problem:
    """An exact number from a YAML/JSON/``--set`` value, or the problem with it.

    Text must be plain decimal digits 0-9 (``72``, ``1.25``, ``-0.5``): no ``010`` (octal in
    YAML 1.1), ``1_000``, ``+5``, ``0x1A``, exponents or non-ASCII digits, each of which some
    reader would silently turn into another number. YAML decimals arrive as
    :class:`~decimal.Decimal`, never as a binary float. ``whole`` refuses a fractional part."""
    what = "a whole number written with the digits 0-9" if whole else "a number written with the digits 0-9 and a decimal point"
    if isinstance(raw, str):
        text = raw.strip()
        if not (_WHOLE if whole else _DECIMAL).fullmatch(text):
            return ("wrong-type", what)
        digits = len(text.lstrip("-").replace(".", ""))
        if digits > MAX_INT_DIGITS:
            return ("number-too-large", f"number too large ({digits:,} digits, at most {MAX_INT_DIGITS})")
        if "/" in text:
            return Fraction(text)
        return Fraction(Decimal(text))
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Fraction(raw)
    if isinstance(raw, Decimal) and not whole and raw.is_finite():
        return Fraction(raw)
    return ("wrong-type", what)


class Kind:
    """The adapter interface; see the module doc."""

    name = ""

    def words(self, v: Variable) -> str:
        raise NotImplementedError

    def coerce(self, v: Variable, raw: Any) -> Coerced:
        raise NotImplementedError

    def typical(self, v: Variable) -> Any:
        raise NotImplementedError

    def format(self, value: Any) -> str:
        return str(value)

    def plain(self, v: Variable, value: Any) -> Any:
        return value

    # -- Z3 ---------------------------------------------------------------------------

    def declare(self, v: Variable) -> tuple[Any, list[tuple[str, Any]]]:
        """The Z3 term(s) for ``v`` and the bounds every value satisfies (name, term)."""
        raise NotImplementedError

    def read(self, v: Variable, term: Any, model: Any) -> Any:
        raise NotImplementedError

    def fix(self, v: Variable, term: Any, value: Any) -> Any:
        raise NotImplementedError

    def prefer(self, v: Variable, term: Any, typical: Any) -> tuple[list[Any], Any | None]:
        """Soft goals toward ``typical`` and, for numbers, the distance from it (or None)."""
        return [self.fix(v, term, typical)], None

    def point(self, v: Variable, value: Any) -> list[X.Expr]:
        """Conditions in the guideline's language that, with their truth at ``value``, pin
        ``v`` to ``value`` (``age == 72``; one membership test per member of a set)."""
        raise NotImplementedError

    def within(self, v: Variable, wider: Type) -> list[X.Expr]:
        """Conditions over a variable of type ``wider`` (this kind with more values, as when
        two versions of a guideline are compared) that hold exactly for ``v``'s own values."""
        return []


class BoolKind(Kind):
    name = "bool"

    def words(self, v: Variable) -> str:
        return "true/false"

    def coerce(self, v: Variable, raw: Any) -> Coerced:
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.strip().lower() in TRUE_WORDS, None
        return None, ("wrong-type", f"{v.name} is true or false, found {describe_value(raw)}")

    def typical(self, v: Variable) -> Any:
        return False

    def format(self, value: Any) -> str:
        return str(value).lower()

    def declare(self, v: Variable) -> tuple[Any, list[tuple[str, Any]]]:
        import z3

        return z3.Bool(v.name), []

    def read(self, v: Variable, term: Any, model: Any) -> Any:
        return model_value(model, term) is True

    def fix(self, v: Variable, term: Any, value: Any) -> Any:
        import z3

        return term == z3.BoolVal(bool(value))

    def point(self, v: Variable, value: Any) -> list[X.Expr]:
        return [X.Var(v.name, v.type)]


class NumberKind(Kind):
    """Whole numbers (``int``: Z3 Int, Python int) and exact decimals (``decimal``: Z3 Real,
    Python Fraction). Both are bounded by the declared min and max."""

    def __init__(self, name: str, whole: bool):
        self.name = name
        self.whole = whole

    def words(self, v: Variable) -> str:
        return f"{format_number(v.min)}..{format_number(v.max)} {v.unit}".strip()

    def coerce(self, v: Variable, raw: Any) -> Coerced:
        value = parse_number(raw, self.whole)
        if isinstance(value, tuple):
            code, what = value
            if code == "wrong-type":
                what = what.replace(" written", f" of {v.unit or 'units'} written", 1)
                return None, (code, f"{v.name} is {what}, found {describe_value(raw)}")
            return None, (code, f"{v.name}: {what}")
        assert v.min is not None and v.max is not None
        if not v.min <= value <= v.max:
            unit = f" {v.unit}" if v.unit else ""
            return None, ("out-of-range",
                          f"{v.name} must be between {format_number(v.min)} and {format_number(v.max)}{unit}, "
                          f"found {format_number(value)}")
        return (int(value) if self.whole else value), None

    def typical(self, v: Variable) -> Any:
        return v.min

    def format(self, value: Any) -> str:
        return format_number(value)

    def plain(self, v: Variable, value: Any) -> Any:
        if self.whole:
            return int(value)
        # Files get the exact text (``1.25``, or ``1/3``): JSON and YAML numbers would pass
        # through binary floating point in most readers.
        return exact_text(value)

    def declare(self, v: Variable) -> tuple[Any, list[tuple[str, Any]]]:
        import z3

        x = z3.Int(v.name) if self.whole else z3.Real(v.name)
        return x, [(f"bounds of {v.name}", z3.And(x >= _z3num(v.min, self.whole), x <= _z3num(v.max, self.whole)))]

    def read(self, v: Variable, term: Any, model: Any) -> Any:
        val = model_value(model, term)
        assert not isinstance(val, bool)  # an Int or Real term
        return int(val) if self.whole else val

    def fix(self, v: Variable, term: Any, value: Any) -> Any:
        return term == _z3num(value, self.whole)

    def prefer(self, v: Variable, term: Any, typical: Any) -> tuple[list[Any], Any | None]:
        import z3

        t = _z3num(typical, self.whole)
        return [term == t], z3.If(term >= t, term - t, t - term)

    def point(self, v: Variable, value: Any) -> list[X.Expr]:
        lit: X.Expr = X.IntLit(int(value)) if self.whole else X.DecLit(Fraction(value))
        return [X.Eq(X.Var(v.name, v.type), lit)]


class DurationKind(NumberKind):
    """A length of time as a whole number of its declared unit (days, weeks or months),
    bounded like an int; conditions use it as days (see ``expr.InDays``). A patient value
    is a whole number in that unit, or text with a unit (``10 days`` for a variable in
    weeks is refused: not a whole number of weeks)."""

    def __init__(self) -> None:
        super().__init__("duration", True)

    def words(self, v: Variable) -> str:
        return f"{format_number(v.min)}..{format_number(v.max)} {v.unit}"

    def coerce(self, v: Variable, raw: Any) -> Coerced:
        found = duration_text(raw) if isinstance(raw, str) else None
        if found is not None:
            amount, unit = Fraction(found[0]), found[1]
            if unit != v.unit:
                if unit not in UNIT_DAYS or v.unit not in UNIT_DAYS:
                    return None, ("unit-mismatch", f"{v.name} is counted in {v.unit}, found {describe_value(raw)}")
                amount = amount * UNIT_DAYS[unit] / UNIT_DAYS[v.unit]
                if amount.denominator != 1:
                    return None, ("unit-mismatch", f"{v.name} is a whole number of {v.unit}, found {describe_value(raw)} "
                                                   f"({exact_text(amount)} of a {v.unit.rstrip('s')})")
            raw = str(amount.numerator)
        return super().coerce(v, raw)


def _z3num(x: Any, whole: bool) -> Any:
    import z3

    f = Fraction(x)
    return z3.IntVal(int(f)) if whole else z3.RealVal(f"{f.numerator}/{f.denominator}")


class EnumKind(Kind):
    """One value of a list, encoded as its index (a bounded Int) to stay in linear arithmetic."""

    name = "enum"

    def words(self, v: Variable) -> str:
        return "one of " + ", ".join(v.type.values)

    def coerce(self, v: Variable, raw: Any) -> Coerced:
        if isinstance(raw, str) and raw.strip() in v.type.values:
            return raw.strip(), None
        code = "unknown-value" if isinstance(raw, str) else "wrong-type"
        return None, (code, f"{v.name} is one of {', '.join(v.type.values)}, found {describe_value(raw)}")

    def typical(self, v: Variable) -> Any:
        return v.type.values[0]

    def declare(self, v: Variable) -> tuple[Any, list[tuple[str, Any]]]:
        import z3

        x = z3.Int(v.name)
        return x, [(f"values of {v.name}", z3.And(x >= 0, x < len(v.type.values)))]

    def read(self, v: Variable, term: Any, model: Any) -> Any:
        return v.type.values[int(model_value(model, term))]

    def fix(self, v: Variable, term: Any, value: Any) -> Any:
        return term == v.type.values.index(value)

    def point(self, v: Variable, value: Any) -> list[X.Expr]:
        return [X.Eq(X.Var(v.name, v.type), X.EnumLit(value, v.type))]

    def within(self, v: Variable, wider: Type) -> list[X.Expr]:
        var = X.Var(v.name, wider)
        return [X.Or(tuple(X.Eq(var, X.EnumLit(x, wider)) for x in v.type.values))]


class SetKind(Kind):
    """Any subset of a list, encoded as one Bool per possible member (``var.member``)."""

    name = "set"

    def words(self, v: Variable) -> str:
        return "any of " + ", ".join(v.type.values)

    def coerce(self, v: Variable, raw: Any) -> Coerced:
        items = raw
        if isinstance(raw, str):
            items = [x.strip() for x in raw.split(",") if x.strip()]
        if not isinstance(items, (list, tuple, set, frozenset)):
            return None, ("wrong-type", f"{v.name} is a list of members from {', '.join(v.type.values)}, found {describe_value(raw)}")
        bad = [x for x in items if not isinstance(x, str) or x not in v.type.values]
        if bad:
            return None, ("unknown-value", f"{v.name} members are from {', '.join(v.type.values)}, found {', '.join(map(describe_value, bad))}")
        return frozenset(items), None

    def typical(self, v: Variable) -> Any:
        return frozenset()

    def format(self, value: Any) -> str:
        return "[" + ", ".join(sorted(value)) + "]"

    def plain(self, v: Variable, value: Any) -> Any:
        return sorted(value, key=v.type.values.index)

    def declare(self, v: Variable) -> tuple[Any, list[tuple[str, Any]]]:
        import z3

        return {el: z3.Bool(f"{v.name}.{el}") for el in v.type.values}, []

    def read(self, v: Variable, term: Any, model: Any) -> Any:
        return frozenset(el for el, b in term.items() if model_value(model, b) is True)

    def fix(self, v: Variable, term: Any, value: Any) -> Any:
        import z3

        return z3.And([b if el in value else z3.Not(b) for el, b in term.items()])

    def prefer(self, v: Variable, term: Any, typical: Any) -> tuple[list[Any], Any | None]:
        import z3

        return [b if el in typical else z3.Not(b) for el, b in term.items()], None

    def point(self, v: Variable, value: Any) -> list[X.Expr]:
        return [X.Member(el, X.Var(v.name, v.type)) for el in v.type.values]

    def within(self, v: Variable, wider: Type) -> list[X.Expr]:
        return [X.Not(X.Member(el, X.Var(v.name, wider))) for el in wider.values if el not in v.type.values]


KINDS: dict[str, Kind] = {k.name: k for k in (BoolKind(), NumberKind("int", True), NumberKind("decimal", False),
                                              DurationKind(), EnumKind(), SetKind())}


def kind_of(t: Type) -> Kind:
    """The adapter of a variable type (a KeyError for an unknown kind is a bug, not input)."""
    return KINDS[t.kind]

