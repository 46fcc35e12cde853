"""Immutable records without ``dataclasses``' start-up cost.

``@dataclass`` generates each class's methods with ``exec`` at import time, about a
millisecond a class here; with ~40 record classes that was most of a query's run time.
:class:`Record` gives the same things this project uses (keyword construction with
defaults, ``match`` patterns, equality, hashing, a readable repr, immutability) from one
shared implementation. Fields are the class's annotations, in order, base classes first;
a field listed in ``_nocompare`` (such as a source position) is left out of equality.
``dataclass_transform`` tells type checkers that the annotations are the constructor's
parameters, so a wrong field name or type in a record's construction is caught statically.
"""
from __future__ import annotations

from typing import Any, ClassVar, Self, dataclass_transform


@dataclass_transform(eq_default=True, frozen_default=True)
class Record:
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}
    _nocompare: ClassVar[frozenset[str]] = frozenset()
    _compared: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        fields: list[str] = list(cls._fields)
        defaults = dict(cls._defaults)
        for name, ann in cls.__annotations__.items():  # a class's own annotations (Python >= 3.10)
            if "ClassVar" in str(ann) or name.startswith("_"):
                continue
            if name not in fields:
                fields.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
        cls._fields = tuple(fields)
        cls._defaults = defaults
        cls._compared = tuple(f for f in fields if f not in cls._nocompare)
        cls.__match_args__ = cls._fields  # type: ignore[attr-defined,misc]
        if "__init__" not in cls.__dict__:
            cls.__init__ = _compile_on_first_use  # type: ignore[method-assign]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        n = len(args)
        if n > len(fields):
            raise TypeError(f"{type(self).__name__} takes at most {len(fields)} arguments")
        d = self.__dict__  # writing the instance dict directly skips the frozen __setattr__
        d.update(zip(fields, args, strict=False))  # args fill the first fields
        for f in fields[n:]:
            if f in kwargs:
                d[f] = kwargs.pop(f)
            elif f in self._defaults:
                d[f] = self._defaults[f]
            else:
                raise TypeError(f"{type(self).__name__} needs {f!r}")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected or repeated fields {sorted(kwargs)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._compared)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))

    def __repr__(self) -> str:
        inner = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({inner})"

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (the record itself never changes)."""
        values = {f: getattr(self, f) for f in self._fields}
        values.update(changes)
        return type(self)(**values)


def _compile_on_first_use(self: Record, *args: Any, **kwargs: Any) -> None:
    """The first construction of a record class compiles its own ``__init__`` (direct
    assignments, Python's own argument handling) and installs it, so only the classes a run
    uses pay the one ``exec``: loading a large guideline builds hundreds of thousands of
    records, a query a few hundred."""
    cls = type(self)
    init = _compiled_init(cls)
    if init is not None:
        cls.__init__ = init  # type: ignore[method-assign]
    else:  # a required field after a defaulted one: keep the generic constructor
        cls.__init__ = Record.__init__  # type: ignore[method-assign]
    cls.__init__(self, *args, **kwargs)


def _compiled_init(cls: type[Record]) -> Any:
    fields, defaults = cls._fields, cls._defaults
    seen_default = False
    params = []
    for i, f in enumerate(fields):
        if f in defaults:
            seen_default = True
            params.append(f"{f}=_d{i}")
        elif seen_default or not f.isidentifier():
            return None
        else:
            params.append(f)
    body = "".join(f"    d[{f!r}] = {f}\n" for f in fields) or "    pass\n"
    src = f"def __init__(self, {', '.join(params)}):\n    d = self.__dict__\n{body}" if params else \
        "def __init__(self):\n    pass\n"
    env = {f"_d{i}": defaults[f] for i, f in enumerate(fields) if f in defaults}
    exec(src, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
