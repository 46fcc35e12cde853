"""The condition language: tokenizer, parser and type checker. Never ``eval``.

Conditions are strings in the YAML (``age >= 65 and not neuro_deficit``, ``L3 in levels``).
Parsing gives a *surface* tree; checking resolves names against the guideline's variables,
definitions and recommendations and builds the closed *core* tree below, rewriting sugar:

=====================  ==============================
surface                core
=====================  ==============================
``a implies b``        ``Or(Not(a), b)``
``a != b``             ``Not(Eq(a, b))``
``a > b`` / ``a >= b``  ``Lt(b, a)`` / ``Le(b, a)``
``x in [p, q]``        ``Or(Eq(x, p), Eq(x, q))``
``x not in S``         ``Not(...)``
=====================  ==============================

Precedence, loosest first (the single place it is defined)::

    implies (right-assoc) < or < and < not < comparison / in < + - < atom

Every node carries the :class:`Span` of its first token inside the YAML file, so a type
error points at the exact word.

Limits (real guidelines stay far below them; each is a located error, never a crash): a
condition nests at most :data:`MAX_CONDITION_DEPTH` levels deep, counting parentheses, ``not``,
unary ``-`` and every operator (a sum of 70 terms is 70 levels: split it with definitions);
numbers have at most :data:`MAX_INT_DIGITS` digits; digits and names are ASCII. Back ends
(``evaluate``, ``encode``) match on the core node kinds only and end with ``assert_never``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, TypeVar, assert_never

from .errors import Span, did_you_mean
from .numbers import exact_text
from .record import Record

#: Deepest nesting of a condition: every walker (checker, evaluator, encoder, printer)
#: recurses per level, and definitions are expanded bottom-up, so this bounds the stack.
MAX_CONDITION_DEPTH = 64
#: Longest integer, in digits, in a condition or anywhere in a YAML file.
MAX_INT_DIGITS = 100

_T = TypeVar("_T")

# --------------------------------------------------------------------------- types


class Type(Record):
    """``kind`` is bool, int, decimal, duration, enum or set; ``values`` lists an enum's or
    set's members; ``name`` is the variable that declared the enum/set/duration (for
    messages only)."""

    kind: str
    values: tuple[str, ...] = ()
    name: str = ""
    #: a duration variable's unit (days, weeks or months)
    unit: str = ""

    def __str__(self) -> str:
        if self.kind in ("enum", "set"):
            return f"{self.kind} of {{{', '.join(self.values)}}}"
        return self.kind


BOOL = Type("bool")
INT = Type("int")
DEC = Type("decimal")
NUMERIC = (INT, DEC)
#: a length of time; measured in days inside the evaluator and the encoding
DURATION = Type("duration")

#: the units a duration is written in, singular and plural, and their days; a month has
#: no fixed length: its days come from the rule the guideline declares
DURATION_UNITS: dict[str, str] = {"day": "days", "days": "days", "week": "weeks", "weeks": "weeks",
                                  "month": "months", "months": "months"}
UNIT_DAYS: Mapping[str, Fraction] = MappingProxyType({"days": Fraction(1), "weeks": Fraction(7)})
_DURATION_TEXT = re.compile(rf"(-?[0-9]{{1,{MAX_INT_DIGITS}}})\s*([a-z]+)")


def duration_text(text: str) -> tuple[int, str] | None:
    """A duration written as text outside a condition (``3 months``, ``14 days``, ``1 week``):
    its whole amount and its unit (plural), or None when the text is not one. The one reader
    of such text; the callers decide what a negative amount or an undeclared unit means."""
    m = _DURATION_TEXT.fullmatch(text.strip())
    if m is None or m.group(2) not in DURATION_UNITS:
        return None
    return int(m.group(1)), DURATION_UNITS[m.group(2)]


def join(a: Type, b: Type) -> Type:
    """The type of arithmetic on two numbers: decimal when either is."""
    return DEC if DEC in (a, b) else INT

# --------------------------------------------------------------------------- core nodes


class _Node(Record):
    """Base of the core nodes: the position is not part of a node's identity."""

    _nocompare = frozenset({"span"})


class BoolLit(_Node):
    value: bool
    span: Span | None = None


class IntLit(_Node):
    value: int
    span: Span | None = None


class DecLit(_Node):
    """An exact decimal literal (``1.2``), held as a fraction: no binary floating point."""

    value: Fraction
    span: Span | None = None


class Var(_Node):
    """A patient variable of any type."""

    name: str
    type: Type
    span: Span | None = None


class DurLit(_Node):
    """A duration literal (``3 months``): the amount and unit as written, and its days."""

    amount: Fraction
    unit: str
    days: Fraction
    span: Span | None = None


class InDays(_Node):
    """A duration variable's value (a whole number of its unit) as days: ``arg * days``."""

    arg: Var
    days: Fraction
    span: Span | None = None


class EnumLit(_Node):
    value: str
    type: Type
    span: Span | None = None


class Not(_Node):
    arg: Expr
    span: Span | None = None


class And(_Node):
    args: tuple[Expr, ...]
    span: Span | None = None


class Or(_Node):
    args: tuple[Expr, ...]
    span: Span | None = None


class Eq(_Node):
    """Equality of two bools, two ints or two values of one enum."""

    left: Expr
    right: Expr
    span: Span | None = None


class Lt(_Node):
    left: Expr
    right: Expr
    span: Span | None = None


class Le(_Node):
    left: Expr
    right: Expr
    span: Span | None = None


class Add(_Node):
    left: Expr
    right: Expr
    span: Span | None = None


class Sub(_Node):
    left: Expr
    right: Expr
    span: Span | None = None


class Mul(_Node):
    left: Expr
    right: Expr
    span: Span | None = None


class Div(_Node):
    """Exact division; its type is decimal. The divisor is proved non-zero when loaded."""

    left: Expr
    right: Expr
    span: Span | None = None


class Min(_Node):
    args: tuple[Expr, ...]
    span: Span | None = None


class Max(_Node):
    args: tuple[Expr, ...]
    span: Span | None = None


class Abs(_Node):
    arg: Expr
    span: Span | None = None


class Ite(_Node):
    """``if cond then then else other`` over numbers or conditions."""

    cond: Expr
    then: Expr
    other: Expr
    span: Span | None = None


class Count(_Node):
    """How many of the conditions hold (an int)."""

    args: tuple[Expr, ...]
    span: Span | None = None


class AtLeast(_Node):
    """``at least k of [c1, ...]``."""

    k: int
    args: tuple[Expr, ...]
    span: Span | None = None


class Member(_Node):
    """``element in var`` where ``var`` is a set variable."""

    element: str
    var: Var
    span: Span | None = None


class DefRef(_Node):
    """A named definition: a reusable condition, or a computed value when its ``type`` is a
    number. The back ends expand it."""

    name: str
    span: Span | None = None
    type: Type = BOOL


class Recommends(_Node):
    """``recommends(id)``: true when the recommendation applies (invariants only)."""

    rec: str
    span: Span | None = None


class Known(_Node):
    """``known(x)``: true when the patient has a value for the optional variable ``x``."""

    var: Var
    span: Span | None = None


Expr = (BoolLit | IntLit | DecLit | DurLit | Var | InDays | EnumLit | Not | And | Or | Eq | Lt | Le | Add | Sub | Mul | Div
        | Min | Max | Abs | Ite | Count | AtLeast | Member | DefRef | Recommends | Known)


def children(e: Expr) -> tuple[Expr, ...]:
    """The sub-expressions of a node, in order: the one place that knows every node's shape,
    so generic walks cannot miss a node kind (``assert_never`` makes a new kind a type error
    until it is listed here)."""
    match e:
        case BoolLit() | IntLit() | DecLit() | DurLit() | Var() | EnumLit() | Member() | DefRef() | Recommends() | Known():
            return ()
        case Not(arg=a) | Abs(arg=a) | InDays(arg=a):
            return (a,)
        case And(args=xs) | Or(args=xs) | Min(args=xs) | Max(args=xs) | Count(args=xs) | AtLeast(args=xs):
            return xs
        case Eq(left=l, right=r) | Lt(left=l, right=r) | Le(left=l, right=r) | Add(left=l, right=r) \
                | Sub(left=l, right=r) | Mul(left=l, right=r) | Div(left=l, right=r):
            return (l, r)
        case Ite(cond=c, then=t, other=o):
            return (c, t, o)
        case _:
            assert_never(e)


def with_children(e: Expr, kids: tuple[Expr, ...]) -> Expr:
    """``e`` with its sub-expressions replaced by ``kids`` (in :func:`children`'s order)."""
    match e:
        case BoolLit() | IntLit() | DecLit() | DurLit() | Var() | EnumLit() | Member() | DefRef() | Recommends() | Known():
            return e
        case InDays():
            arg = kids[0]
            if not isinstance(arg, Var):
                raise TypeError(f"a duration read in days needs a variable, found {show(arg)}")
            return e.replace(arg=arg)
        case Not() | Abs():
            return e.replace(arg=kids[0])
        case And() | Or() | Min() | Max() | Count() | AtLeast():
            return e.replace(args=tuple(kids))
        case Eq() | Lt() | Le() | Add() | Sub() | Mul() | Div():
            return e.replace(left=kids[0], right=kids[1])
        case Ite():
            return e.replace(cond=kids[0], then=kids[1], other=kids[2])
        case _:
            assert_never(e)


def rewrite(e: Expr, leaf: Callable[[Expr], Expr]) -> Expr:
    """``e`` rebuilt bottom-up with ``leaf`` applied to every node that has no
    sub-expressions (variables, literals, ``known``, set membership, definitions)."""
    kids = children(e)
    if not kids:
        return leaf(e)
    return with_children(e, tuple(rewrite(k, leaf) for k in kids))


def variables_of(e: Expr, definitions: Mapping[str, Expr] | None = None) -> set[str]:
    """Names of the patient variables ``e`` reads (through definitions when given).

    Each definition is walked once, however often and however deeply it is used.
    """
    out: set[str] = set()
    pending: list[str] = []

    def walk(x: Expr) -> None:
        todo = [x]
        while todo:
            y = todo.pop()
            match y:
                case Var(name=n):
                    out.add(n)
                case Member(var=v) | Known(var=v):
                    out.add(v.name)
                case DefRef(name=n):
                    pending.append(n)
                case _:
                    todo.extend(children(y))

    walk(e)
    done: set[str] = set()
    while pending and definitions is not None:
        n = pending.pop()
        if n not in done and n in definitions:
            done.add(n)
            walk(definitions[n])
    return out


def expansion_order(name: str, definitions: Mapping[str, Expr]) -> list[str]:
    """``name`` and every definition it uses, transitively, each listed after the ones it uses
    (an iterative depth-first post-order; definitions never form a cycle once loaded).

    Back ends expand definitions bottom-up in this order, so a long chain of definitions
    using definitions never deepens their recursion beyond one condition.
    """
    order: list[str] = []
    placed: set[str] = set()
    stack: list[tuple[str, list[str]]] = [(name, sorted(definitions_of(definitions[name])))]
    entered = {name}
    while stack:
        n, rest = stack[-1]
        while rest and (rest[-1] in entered or rest[-1] not in definitions):
            rest.pop()
        if rest:
            m = rest.pop()
            entered.add(m)
            stack.append((m, sorted(definitions_of(definitions[m]))))
            continue
        stack.pop()
        if n not in placed:
            placed.add(n)
            order.append(n)
    return order


def recommendations_of(e: Expr) -> set[str]:
    """The recommendations ``e`` mentions (``recommends(id)``, in invariants), wherever they stand in it."""
    if isinstance(e, Recommends):
        return {e.rec}
    return set().union(*(recommendations_of(a) for a in children(e)))


def definitions_of(e: Expr) -> set[str]:
    """Names of the definitions ``e`` refers to directly."""
    out: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, DefRef):
            out.add(x.name)
        todo.extend(children(x))
    return out


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<int>[0-9]+(?:\.[0-9]+)?)
      |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "implies", "in", "true", "false", "if", "then", "else"}
#: functions of numbers and conditions: name -> (least, most) number of arguments
FUNCTIONS: dict[str, tuple[int, int | None]] = {"min": (2, None), "max": (2, None), "abs": (1, 1), "count": (1, None)}


class Token(Record):
    kind: str  # int, name, op, kw, end
    text: str
    offset: int  # 0-based character offset in the condition string


class ExprError(Exception):
    """A problem at ``offset`` in the condition text; the loader maps it to a file span."""

    def __init__(self, code: str, message: str, offset: int):
        super().__init__(message)
        self.code, self.message, self.offset = code, message, offset


def tokenize(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            ch = text[pos]
            if ch.isdigit() or ch.isnumeric():
                raise ExprError("expr-syntax", f"{ch!r} is not an ASCII digit: write numbers with 0-9", pos)
            if ch.isalpha():
                raise ExprError("expr-syntax", f"{ch!r} is not an ASCII letter: names use A-Z, a-z, 0-9 and '_'", pos)
            raise ExprError("expr-syntax", f"unexpected character {ch!r}", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            tok = m.group()
            if kind == "name" and tok in KEYWORDS:
                kind = "kw"
            out.append(Token(kind, tok, pos))
        pos = m.end()
    out.append(Token("end", "", len(text)))
    return out


# --------------------------------------------------------------------------- surface tree


class S(Record):
    """A surface node: ``op`` names the construct; ``args`` are sub-nodes or strings."""

    op: str
    args: tuple[Any, ...]
    offset: int


class _Parser:
    def __init__(self, text: str):
        self.toks = tokenize(text)
        self.i = 0
        self.nesting = 0  # parentheses, 'not', unary '-' and 'implies' currently open

    def enter(self, t: Token) -> None:
        """One more level of recursion in the parser (undone by ``self.nesting -= 1``)."""
        self.nesting += 1
        if self.nesting > MAX_CONDITION_DEPTH:
            raise _too_deep(t.offset)

    def peek(self, *texts: str) -> bool:
        t = self.toks[self.i]
        return t.kind in ("kw", "op") and t.text in texts

    def take(self) -> Token:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, text: str) -> Token:
        t = self.toks[self.i]
        if t.text != text or t.kind not in ("op", "kw"):
            raise ExprError("expr-syntax", f"expected {text!r}, found {_describe(t)}", t.offset)
        return self.take()

    def parse(self) -> S:
        if self.toks[0].kind == "end":
            raise ExprError("expr-syntax", "empty condition", 0)
        e = self.implies()
        t = self.toks[self.i]
        if t.kind != "end":
            raise ExprError("expr-syntax", f"expected an operator or the end of the condition, found {_describe(t)}", t.offset)
        _check_depth(e)
        return e

    def implies(self) -> S:
        left = self.or_()
        if self.peek("implies"):
            t = self.take()
            self.enter(t)
            right = self.implies()
            self.nesting -= 1
            return S("implies", (left, right), t.offset)
        return left

    def or_(self) -> S:
        args = [self.and_()]
        while self.peek("or"):
            self.take()
            args.append(self.and_())
        return args[0] if len(args) == 1 else S("or", tuple(args), args[0].offset)

    def and_(self) -> S:
        args = [self.not_()]
        while self.peek("and"):
            self.take()
            args.append(self.not_())
        return args[0] if len(args) == 1 else S("and", tuple(args), args[0].offset)

    def not_(self) -> S:
        if self.peek("not"):
            t = self.take()
            self.enter(t)
            arg = self.not_()
            self.nesting -= 1
            return S("not", (arg,), t.offset)
        return self.cmp()

    def cmp(self) -> S:
        left = self.sum()
        if self.peek("==", "!=", "<", "<=", ">", ">="):
            t = self.take()
            right = self.sum()
            if self.peek("==", "!=", "<", "<=", ">", ">="):
                t2 = self.toks[self.i]
                raise ExprError("expr-syntax", "comparisons do not chain; join them with 'and'", t2.offset)
            return S(t.text, (left, right), t.offset)
        negate = False
        if self.peek("not") and self.toks[self.i + 1].text == "in":
            self.take()
            negate = True
        if self.peek("in"):
            t = self.take()
            if self.peek("["):
                self.take()
                values = [self.name_token("a value")]
                while self.peek(","):
                    self.take()
                    values.append(self.name_token("a value"))
                self.expect("]")
                node = S("in-list", (left, tuple(values)), t.offset)
            else:
                node = S("in-set", (left, self.name_token("a set variable")), t.offset)
            return S("not", (node,), t.offset) if negate else node
        return left

    def name_token(self, what: str) -> tuple[str, int]:
        t = self.toks[self.i]
        if t.kind != "name":
            raise ExprError("expr-syntax", f"expected {what}, found {_describe(t)}", t.offset)
        self.take()
        return (t.text, t.offset)

    def sum(self) -> S:
        left = self.product()
        while self.peek("+", "-"):
            t = self.take()
            left = S(t.text, (left, self.product()), t.offset)
        return left

    def product(self) -> S:
        left = self.atom()
        while self.peek("*", "/"):
            t = self.take()
            left = S(t.text, (left, self.atom()), t.offset)
        return left

    def arguments(self) -> list[S]:
        """``( e, e, ... )`` after a function name."""
        self.expect("(")
        args = [self.implies()]
        while self.peek(","):
            self.take()
            args.append(self.implies())
        self.expect(")")
        return args

    def atom(self) -> S:
        t = self.toks[self.i]
        if t.kind == "int":
            self.take()
            digits = len(t.text) - ("." in t.text)
            if digits > MAX_INT_DIGITS:
                raise ExprError("number-too-large", f"number too large: {digits:,} digits (at most {MAX_INT_DIGITS})", t.offset)
            amount = Fraction(Decimal(t.text))
            u = self.toks[self.i]
            if u.kind == "name" and u.text in DURATION_UNITS:  # a duration: 6 weeks
                self.take()
                return S("dur", (amount, DURATION_UNITS[u.text], u.offset), t.offset)
            if "." in t.text:
                return S("dec", (amount,), t.offset)
            return S("int", (int(t.text),), t.offset)
        if t.kind == "kw" and t.text == "if":
            self.take()
            self.enter(t)
            cond = self.implies()
            self.expect("then")
            then = self.implies()
            self.expect("else")
            other = self.implies()
            self.nesting -= 1
            return S("if", (cond, then, other), t.offset)
        if t.kind == "name" and t.text == "at" and self.toks[self.i + 1].text == "least":
            self.i += 2
            k = self.toks[self.i]
            if k.kind != "int" or "." in k.text:
                raise ExprError("expr-syntax", f"expected a whole number after 'at least', found {_describe(k)}", k.offset)
            self.take()
            of = self.toks[self.i]
            if of.text != "of":
                raise ExprError("expr-syntax", f"expected 'of' after 'at least {k.text}', found {_describe(of)}", of.offset)
            self.take()
            self.expect("[")
            self.enter(t)
            conds = [self.implies()]
            while self.peek(","):
                self.take()
                conds.append(self.implies())
            self.expect("]")
            self.nesting -= 1
            return S("atleast", (int(k.text), *conds), t.offset)
        if t.kind == "kw" and t.text in ("true", "false"):
            self.take()
            return S("bool", (t.text == "true",), t.offset)
        if t.kind == "op" and t.text == "-":
            self.take()
            self.enter(t)
            inner = self.atom()
            self.nesting -= 1
            if inner.op in ("int", "dec", "dur"):
                return S(inner.op, (-inner.args[0], *inner.args[1:]), t.offset)
            return S("-", (S("int", (0,), t.offset), inner), t.offset)
        if t.kind == "name":
            self.take()
            if self.peek("(") and t.text in FUNCTIONS:
                self.enter(t)
                args = self.arguments()
                self.nesting -= 1
                return S(t.text, tuple(args), t.offset)
            if self.peek("("):
                self.take()
                arg = self.name_token("a name")
                self.expect(")")
                return S("call", (t.text, arg), t.offset)
            return S("name", (t.text,), t.offset)
        if t.kind == "op" and t.text == "(":
            self.take()
            self.enter(t)
            e = self.implies()
            self.expect(")")
            self.nesting -= 1
            return e
        raise ExprError("expr-syntax", f"expected a value, a name or '(', found {_describe(t)}", t.offset)


def _describe(t: Token) -> str:
    return "the end of the condition" if t.kind == "end" else repr(t.text)


def _too_deep(offset: int) -> ExprError:
    return ExprError("too-deep", f"the condition nests deeper than {MAX_CONDITION_DEPTH} levels "
                                 "(parentheses, 'not', operators); split it into definitions", offset)


def _check_depth(tree: S) -> None:
    """Refuse a surface tree deeper than MAX_CONDITION_DEPTH (without recursing: a long sum
    builds a deep tree in a loop). The error points at the operator whose operands would
    be the first nodes beyond the limit."""
    todo: list[tuple[S, int]] = [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        for a in node.args:
            if isinstance(a, S):
                if depth >= MAX_CONDITION_DEPTH:
                    raise _too_deep(node.offset)
                todo.append((a, depth + 1))


def parse(text: str) -> S:
    """Parse a condition string into a surface tree (raises :class:`ExprError`)."""
    return _Parser(text).parse()


# --------------------------------------------------------------------------- checking


#: (positively, negatively) known: the optional variables that ``known(...)`` says have a
#: value when a condition is true, and when it is false
KnownWhen = tuple[frozenset[str], frozenset[str]]
_NOTHING: frozenset[str] = frozenset()


class Scope:
    """What names mean while checking one condition.

    ``bounds`` maps int variables to (min, max), to catch comparisons outside the domain.
    ``optional`` names the optional variables; ``def_needs`` gives, for each definition
    checked so far, the optional variables it reads without a ``known`` guard of its own
    (its users must guard them), and ``def_known`` what it tells about ``known`` (see
    :func:`known_when`).
    """

    def __init__(self, variables: Mapping[str, Type], bounds: Mapping[str, tuple[Any, Any]],
                 definitions: Mapping[str, Type] | set[str], recommendations: set[str] | None = None,
                 allow_recommends: bool = False, optional: frozenset[str] = frozenset(),
                 def_needs: Mapping[str, frozenset[str]] | None = None,
                 def_known: Mapping[str, KnownWhen] | None = None,
                 unit_days: Mapping[str, Fraction] | None = None):
        self.variables = variables
        self.bounds = bounds
        #: definition name -> its type (bool for a condition, a number for a computed value)
        self.definitions: Mapping[str, Type] = (
            {n: BOOL for n in definitions} if isinstance(definitions, (set, frozenset)) else definitions)
        self.recommendations = recommendations or set()
        self.allow_recommends = allow_recommends
        self.optional = optional
        self.def_needs: Mapping[str, frozenset[str]] = def_needs if def_needs is not None else {}
        self.def_known: Mapping[str, KnownWhen] = def_known if def_known is not None else {}
        #: days in one of each duration unit: days and weeks, and months when the guideline
        #: declares its rule
        self.unit_days: Mapping[str, Fraction] = unit_days if unit_days is not None else UNIT_DAYS


def known_when(e: Expr, def_known: Mapping[str, KnownWhen]) -> KnownWhen:
    """Which optional variables certainly have a value when ``e`` is true, and when it is
    false, read off the ``known(x)`` tests in it (``def_known``: the same for definitions).

    A syntactic, sound under-approximation: ``known(x) and y`` tells ``x`` when true;
    ``not known(x) or y`` tells ``x`` when false; anything it cannot see through tells nothing.
    """
    match e:
        case Known(var=v):
            return frozenset((v.name,)), _NOTHING
        case Not(arg=a):
            pos, neg = known_when(a, def_known)
            return neg, pos
        case And(args=xs) | Or(args=xs):
            parts = [known_when(a, def_known) for a in xs]
            pos_all = [p for p, _ in parts]
            neg_all = [n for _, n in parts]
            if isinstance(e, And):
                return frozenset().union(*pos_all), frozenset.intersection(*neg_all)
            return frozenset.intersection(*pos_all), frozenset().union(*neg_all)
        case Ite(cond=c, then=t, other=o):
            (pc, nc), (pt, nt), (po, no) = (known_when(x, def_known) for x in (c, t, o))
            return (pc | pt) & (nc | po), (pc | nt) & (nc | no)
        case DefRef(name=n):
            return def_known.get(n, (_NOTHING, _NOTHING))
        case _:
            return _NOTHING, _NOTHING


def check(tree: S, scope: Scope, span_at: Callable[[int], Span | None]) -> Expr:
    """Resolve names and types in a surface tree and build the core tree.

    Raises :class:`ExprError` for the first problem (its offset locates it in the text).
    The result's type is bool (a condition); anything else is a type error.
    """
    checked = check_typed(tree, scope, span_at)
    if checked.type != BOOL:
        raise ExprError("type-error", f"a condition must be true or false, but this is {_a(checked.type)}", tree.offset)
    if checked.unguarded:
        raise unguarded_error(checked.unguarded[0])
    return checked.expr


#: an optional variable read where no ``known`` test guards it: (variable, offset of the
#: read, the definition it is read through or "")
Unguarded = tuple[str, int, str]


def unguarded_message(name: str, via: str, context: str = "") -> str:
    """What is wrong with a read of optional ``name`` (through definition ``via``) that
    nothing guards; ``context`` says where it may lack a value."""
    what = f"definition {via!r} reads the optional value {name}, which" if via else f"{name} is optional and"
    return (f"{what} may have no value{context}: test known({name}) first "
            f"(for example 'known({name}) and ...')")


def unguarded_error(u: Unguarded) -> ExprError:
    """The type error for a read of an optional value that nothing guards."""
    name, offset, via = u
    return ExprError("unguarded-optional", unguarded_message(name, via), offset)


class Checked(Record):
    """A checked expression, its type, every divisor in it with its offset (the loader
    proves each non-zero), and every read of an optional variable that no ``known`` test
    inside the expression guards (the loader decides whether the context guards it)."""

    expr: Expr
    type: Type
    divisors: tuple[tuple[Expr, int], ...] = ()
    unguarded: tuple[Unguarded, ...] = ()


def check_typed(tree: S, scope: Scope, span_at: Callable[[int], Span | None]) -> Checked:
    """Like :func:`check`, for an expression of any type (a computed value's formula)."""
    c = _Checker(scope, span_at)
    expr, typ = c.expr(tree, None)
    if typ.kind == "set":
        raise ExprError("type-error", "a set is not a value of its own; test membership with 'in'", tree.offset)
    return Checked(expr, typ, tuple(c.divisors), tuple(c.unguarded))


def describe_type(t: Type) -> str:
    """``a bool``, ``an int``, ``a decimal``, ``a value of stage (enum of {...})``."""
    return _a(t)


def _a(t: Type) -> str:
    return {"bool": "a bool", "int": "an int", "decimal": "a decimal", "duration": "a duration"}.get(
        t.kind, f"a value of {t.name} ({t})")


class _Checker:
    def __init__(self, scope: Scope, span_at: Callable[[int], Span | None]):
        self.scope = scope
        self.span_at = span_at
        self.divisors: list[tuple[Expr, int]] = []
        #: optional variables a ``known`` test guards at the point being checked: the
        #: operands of ``and``/``or``/``implies``/``if`` are evaluated left to right and
        #: only when the earlier ones leave the result open
        self.guard: frozenset[str] = frozenset()
        self.unguarded: list[Unguarded] = []

    def guarded(self, extra: frozenset[str], check: Callable[[], _T]) -> _T:
        """Check with ``extra`` optional variables known to have a value."""
        saved = self.guard
        self.guard = saved | extra
        try:
            return check()
        finally:
            self.guard = saved

    def read(self, name: str, offset: int) -> None:
        """A read of variable ``name``'s value: optional ones must be guarded."""
        if name in self.scope.optional and name not in self.guard:
            self.unguarded.append((name, offset, ""))

    def expr(self, s: S, expected: Type | None) -> tuple[Expr, Type]:
        sp = self.span_at(s.offset)
        op = s.op
        if op == "bool":
            return BoolLit(s.args[0], sp), BOOL
        if op == "int":
            return IntLit(s.args[0], sp), INT
        if op == "dec":
            return DecLit(s.args[0], sp), DEC
        if op == "dur":
            amount, unit, uoff = s.args
            return DurLit(amount, unit, amount * self.days_in(unit, uoff), sp), DURATION
        if op == "name":
            return self.name(s.args[0], s.offset, expected)
        if op == "call":
            fn, (arg, aoff) = s.args
            if fn == "known":
                return self.known(arg, aoff, sp), BOOL
            if fn != "recommends":
                raise ExprError("unknown-name", f"unknown function {fn!r} (the functions of a name are "
                                                "known(variable) and recommends(id))", s.offset)
            if not self.scope.allow_recommends:
                raise ExprError("type-error", "recommends(...) may be used in invariants and temporal properties only", s.offset)
            if arg not in self.scope.recommendations:
                raise ExprError("unknown-name", f"unknown recommendation {arg!r}", aoff)
            return Recommends(arg, sp), BOOL
        if op == "not":
            return Not(self.cond(s.args[0]), sp), BOOL
        if op in ("and", "or"):
            # each operand is read only when the ones before it are true (and) / false (or)
            side = 0 if op == "and" else 1
            saved, operands = self.guard, []
            try:
                for a in s.args:
                    operands.append(self.cond(a))
                    self.guard = self.guard | known_when(operands[-1], self.scope.def_known)[side]
            finally:
                self.guard = saved
            args = tuple(operands)
            return (And(args, sp) if op == "and" else Or(args, sp)), BOOL
        if op == "implies":
            a = self.cond(s.args[0])
            b = self.guarded(known_when(a, self.scope.def_known)[0], lambda: self.cond(s.args[1]))
            return Or((Not(a, sp), b), sp), BOOL
        if op in ("+", "-", "*", "/"):
            (l, lt), (r, rt) = self.quantity(s.args[0]), self.quantity(s.args[1])
            typ = _arithmetic(op, lt, rt, s.offset)
            if op != "/":
                return (Add(l, r, sp) if op == "+" else Sub(l, r, sp) if op == "-" else Mul(l, r, sp)), typ
            if isinstance(r, (IntLit, DecLit, DurLit)) and (r.value if not isinstance(r, DurLit) else r.days) == 0:
                raise ExprError("zero-divisor", "division by zero", s.args[1].offset)
            self.divisors.append((r, s.args[1].offset))
            return Div(l, r, sp), typ
        if op in FUNCTIONS:
            least, most = FUNCTIONS[op]
            if len(s.args) < least or (most is not None and len(s.args) > most):
                want = f"{least}" if least == most else f"at least {least}"
                raise ExprError("type-error", f"{op}(...) takes {want} argument{'s' if least != 1 else ''}, found {len(s.args)}", s.offset)
        if op in ("min", "max"):
            parts = [self.quantity(a) for a in s.args]
            kinds = {pt == DURATION for _, pt in parts}
            if len(kinds) > 1:
                raise ExprError("unit-mismatch", f"{op}(...) mixes durations with bare numbers: give every "
                                                 "argument a unit (6 weeks) or none", s.offset)
            t = DURATION if True in kinds else DEC if any(pt == DEC for _, pt in parts) else INT
            args = tuple(e for e, _ in parts)
            return (Min(args, sp) if op == "min" else Max(args, sp)), t
        if op == "abs":
            (a, t), = (self.quantity(x) for x in s.args)
            return Abs(a, sp), t
        if op == "count":
            return Count(tuple(self.cond(a) for a in s.args), sp), INT
        if op == "atleast":
            k, *conds = s.args
            args = tuple(self.cond(a) for a in conds)
            if k > len(args):
                raise ExprError("type-error", f"'at least {k} of' lists only {len(args)} condition{'s' if len(args) != 1 else ''}", s.offset)
            return AtLeast(k, args, sp), BOOL
        if op == "if":
            c = self.cond(s.args[0])
            pos, neg = known_when(c, self.scope.def_known)
            a, at = self.guarded(pos, lambda: self.expr(s.args[1], expected))
            b, bt = self.guarded(neg, lambda: self.expr(s.args[2], at))
            if at in NUMERIC and bt in NUMERIC:
                return Ite(c, a, b, sp), join(at, bt)
            if DURATION in (at, bt) and at != bt:
                raise ExprError("unit-mismatch", f"'then' gives {_a(at)} but 'else' gives {_a(bt)}: give both "
                                                 "a unit (6 weeks) or neither", s.args[2].offset)
            if at != bt:
                raise ExprError("type-error", f"'then' gives {_a(at)} but 'else' gives {_a(bt)}", s.args[2].offset)
            if at.kind == "set":
                raise ExprError("type-error", "'if' cannot choose between sets", s.args[1].offset)
            return Ite(c, a, b, sp), at
        if op in ("==", "!="):
            l, r = self.pair(s.args[0], s.args[1], s.offset, ordered=False)
            e = Eq(l, r, sp)
            return (e if op == "==" else Not(e, sp)), BOOL
        if op in ("<", "<=", ">", ">="):
            l, r = self.pair(s.args[0], s.args[1], s.offset, ordered=True)
            if op == "<":
                return Lt(l, r, sp), BOOL
            if op == "<=":
                return Le(l, r, sp), BOOL
            return (Lt(r, l, sp) if op == ">" else Le(r, l, sp)), BOOL
        if op == "in-list":
            left, typ = self.expr(s.args[0], None)
            if typ.kind != "enum":
                raise ExprError("type-error", f"'in [...]' needs an enum value on the left, found {_a(typ)}", s.args[0].offset)
            alts = []
            for value, off in s.args[1]:
                alts.append(Eq(left, self.enum_value(value, off, typ), sp))
            return (alts[0] if len(alts) == 1 else Or(tuple(alts), sp)), BOOL
        if op == "in-set":
            el = s.args[0]
            name, noff = s.args[1]
            var_t = self.scope.variables.get(name)
            if var_t is None:
                raise ExprError("unknown-name", self.unknown(name), noff)
            if var_t.kind != "set":
                raise ExprError("type-error", f"'in {name}' needs a set variable, but {name} is {_a(var_t)}", noff)
            if el.op != "name":
                raise ExprError("type-error", f"the left of 'in {name}' must be one of {{{', '.join(var_t.values)}}}", el.offset)
            element = el.args[0]
            if element not in var_t.values:
                raise ExprError("unknown-value", f"{element!r} is not a possible member of {name} (one of {', '.join(var_t.values)})", el.offset)
            self.read(name, noff)
            return Member(element, Var(name, var_t, self.span_at(noff)), sp), BOOL
        raise AssertionError(f"unhandled surface node {op}")

    def cond(self, s: S) -> Expr:
        e, t = self.expr(s, BOOL)
        if t != BOOL:
            raise ExprError("type-error", f"expected a condition (true or false), found {_a(t)}", s.offset)
        return e

    def quantity(self, s: S) -> tuple[Expr, Type]:
        """An operand of arithmetic: a number or a duration."""
        e, t = self.expr(s, INT)
        if t not in NUMERIC and t != DURATION:
            raise ExprError("type-error", f"arithmetic needs numbers, found {_a(t)}", s.offset)
        return e, t

    def days_in(self, unit: str, offset: int) -> Fraction:
        days = self.scope.unit_days.get(unit)
        if days is None:
            raise ExprError("unit-undeclared", f"{unit} have no fixed length: declare how the guideline counts them "
                                               "(for example 'durations: {rule: 3 months = 13 weeks, why: ...}')", offset)
        return days

    def pair(self, ls: S, rs: S, offset: int, ordered: bool) -> tuple[Expr, Expr]:
        # Check the side that is not a bare name first so an enum literal can take its type.
        if ls.op == "name" and ls.args[0] not in self.scope.variables and ls.args[0] not in self.scope.definitions:
            r, rt = self.expr(rs, None)
            l, lt = self.expr(ls, rt)
        else:
            l, lt = self.expr(ls, None)
            r, rt = self.expr(rs, lt)
        if DURATION in (lt, rt) and lt != rt and {lt, rt} <= {DURATION, *NUMERIC}:
            raise ExprError("unit-mismatch", f"cannot compare {_a(lt)} with a bare number: write the number with "
                                             "its unit (6 weeks, 10 days, 3 months)", offset)
        if lt != rt and not (lt in NUMERIC and rt in NUMERIC):
            raise ExprError("type-error", f"cannot compare {_a(lt)} with {_a(rt)}", offset)
        if ordered and lt not in NUMERIC and lt != DURATION:
            raise ExprError("type-error", f"'<', '<=', '>' and '>=' compare numbers and durations, not {lt.kind}s", offset)
        if lt.kind == "set":
            raise ExprError("type-error", "sets cannot be compared; test membership with 'in'", offset)
        self.domain_check(l, r, rs.offset)
        self.domain_check(r, l, ls.offset)
        return l, r

    def domain_check(self, a: Expr, b: Expr, offset: int) -> None:
        """A variable compared with a literal outside its bounds is always a mistake."""
        if isinstance(a, Var) and isinstance(b, (IntLit, DecLit)) and a.name in self.scope.bounds:
            lo, hi = self.scope.bounds[a.name]
            step = 1 if a.type == INT else 0
            if not lo - step <= b.value <= hi + step:
                raise ExprError("value-out-of-domain",
                                f"{exact_text(b.value)} is outside the range of {a.name} ({exact_text(lo)}..{exact_text(hi)})", offset)
        if isinstance(a, InDays) and isinstance(b, DurLit) and a.arg.name in self.scope.bounds:
            lo, hi = self.scope.bounds[a.arg.name]  # whole numbers of the variable's unit
            if not (lo - 1) * a.days <= b.days <= (hi + 1) * a.days:
                raise ExprError("value-out-of-domain",
                                f"{exact_text(b.amount)} {b.unit} is outside the range of {a.arg.name} "
                                f"({exact_text(lo)}..{exact_text(hi)} in its unit)", offset)

    def name(self, name: str, offset: int, expected: Type | None) -> tuple[Expr, Type]:
        sp = self.span_at(offset)
        t = self.scope.variables.get(name)
        if t is not None:
            self.read(name, offset)
            if t.kind == "duration":  # a whole number of its unit, used as days
                return InDays(Var(name, t, sp), self.days_in(t.unit, offset), sp), DURATION
            return Var(name, t, sp), t
        dt = self.scope.definitions.get(name)
        if dt is not None:
            for v in sorted(self.scope.def_needs.get(name, _NOTHING) - self.guard):
                self.unguarded.append((v, offset, name))
            return DefRef(name, sp, dt), dt
        if expected is not None and expected.kind == "enum":
            return self.enum_value(name, offset, expected), expected
        raise ExprError("unknown-name", self.unknown(name), offset)

    def known(self, name: str, offset: int, sp: Span | None) -> Known:
        t = self.scope.variables.get(name)
        if t is None:
            if name in self.scope.definitions:
                raise ExprError("type-error", f"known(...) tests an optional variable; {name!r} is a definition", offset)
            raise ExprError("unknown-name", self.unknown(name), offset)
        if name not in self.scope.optional:
            raise ExprError("type-error", f"{name} always has a value (it is not declared optional): "
                                          f"known({name}) would always be true", offset)
        return Known(Var(name, t, self.span_at(offset)), sp)

    def enum_value(self, value: str, offset: int, t: Type) -> EnumLit:
        if value not in t.values:
            raise ExprError("unknown-value", f"{value!r} is not a value of {t.name} (one of {', '.join(t.values)})", offset)
        return EnumLit(value, t, self.span_at(offset))

    def unknown(self, name: str) -> str:
        names = list(self.scope.variables) + list(self.scope.definitions)
        return f"unknown name {name!r}: not a variable or definition{did_you_mean(name, names)}"


def _arithmetic(op: str, lt: Type, rt: Type, offset: int) -> Type:
    """The type of ``lt op rt`` for numbers and durations: durations add to and subtract
    from durations, scale by numbers, and divide into a number; a bare number never adds to
    a duration (its unit would be a guess)."""
    ld, rd = lt == DURATION, rt == DURATION
    if not ld and not rd:
        return DEC if op == "/" else join(lt, rt)
    if op in ("+", "-") and ld and rd:
        return DURATION
    if op == "*" and ld != rd:
        return DURATION
    if op == "/" and ld:
        return DEC if rd else DURATION
    what = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[op]
    if op in ("+", "-"):
        raise ExprError("unit-mismatch", f"cannot {what} a duration and a bare number: write the number with its "
                                         "unit (6 weeks, 10 days, 3 months)", offset)
    raise ExprError("unit-mismatch", f"cannot {what} " + ("two durations" if ld and rd else "a number by a duration"),
                    offset)


# --------------------------------------------------------------------------- printing

_PREC = {"if": 0, "or": 1, "and": 2, "not": 3, "cmp": 4, "sum": 5, "product": 6, "atom": 7}


def show(e: Expr) -> str:
    """Core tree back to condition text (sugar such as ``implies`` appears desugared)."""
    return _show(e)[0]


def _show(e: Expr) -> tuple[str, int]:
    def wrap(x: Expr, level: int) -> str:
        text, prec = _show(x)
        return f"({text})" if prec < level else text

    match e:
        case BoolLit(value=v):
            return ("true" if v else "false"), _PREC["atom"]
        case IntLit(value=v):
            return str(v), _PREC["atom"]
        case DecLit(value=v):
            return exact_text(v), _PREC["atom"]
        case DurLit(amount=a, unit=u):
            return f"{exact_text(a)} {u}", _PREC["atom"]
        case InDays(arg=a):
            return _show(a)
        case Var(name=n) | DefRef(name=n):
            return n, _PREC["atom"]
        case EnumLit(value=v):
            return v, _PREC["atom"]
        case Recommends(rec=r):
            return f"recommends({r})", _PREC["atom"]
        case Known(var=v):
            return f"known({v.name})", _PREC["atom"]
        case Member(element=el, var=v):
            return f"{el} in {v.name}", _PREC["cmp"]
        case Not(arg=Eq(left=l, right=r)):
            return f"{wrap(l, 5)} != {wrap(r, 5)}", _PREC["cmp"]
        case Not(arg=Member(element=el, var=v)):
            return f"{el} not in {v.name}", _PREC["cmp"]
        case Not(arg=a):
            return f"not {wrap(a, 3)}", _PREC["not"]
        case And(args=xs):
            return " and ".join(wrap(a, 3) for a in xs), _PREC["and"]
        case Or(args=xs):
            return " or ".join(wrap(a, 2) for a in xs), _PREC["or"]
        case Eq(left=l, right=r):
            return f"{wrap(l, 5)} == {wrap(r, 5)}", _PREC["cmp"]
        case Lt(left=l, right=r):
            return f"{wrap(l, 5)} < {wrap(r, 5)}", _PREC["cmp"]
        case Le(left=l, right=r):
            return f"{wrap(l, 5)} <= {wrap(r, 5)}", _PREC["cmp"]
        case Add(left=l, right=r):
            return f"{wrap(l, 5)} + {wrap(r, 6)}", _PREC["sum"]
        case Sub(left=l, right=r):
            return f"{wrap(l, 5)} - {wrap(r, 6)}", _PREC["sum"]
        case Mul(left=l, right=r):
            return f"{wrap(l, 6)} * {wrap(r, 7)}", _PREC["product"]
        case Div(left=l, right=r):
            return f"{wrap(l, 6)} / {wrap(r, 7)}", _PREC["product"]
        case Min(args=xs) | Max(args=xs):
            return f"{'min' if isinstance(e, Min) else 'max'}({', '.join(show(a) for a in xs)})", _PREC["atom"]
        case Abs(arg=a):
            return f"abs({show(a)})", _PREC["atom"]
        case Count(args=xs):
            return f"count({', '.join(show(a) for a in xs)})", _PREC["atom"]
        case AtLeast(k=k, args=xs):
            return f"at least {k} of [{', '.join(show(a) for a in xs)}]", _PREC["atom"]
        case Ite(cond=c, then=t, other=o):
            return f"if {show(c)} then {show(t)} else {show(o)}", _PREC["if"]
        case _:
            assert_never(e)


def conjuncts(e: Expr) -> list[Expr]:
    """The top-level parts of a conjunction (the expression itself otherwise)."""
    return [c for a in e.args for c in conjuncts(a)] if isinstance(e, And) else [e]
