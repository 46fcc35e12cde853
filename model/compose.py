"""A guideline made of several files: a base file and the overlays it includes.

The base lists its overlays under ``include`` (paths relative to the base file). An overlay
is a YAML mapping that *adds* to the base and never silently changes it:

* ``sources``, ``categories``, ``strengths``, ``variables``, ``definitions`` and
  ``recommendations`` gain new entries (an id the base already has is an error naming both
  places);
* ``constraints``, ``conflicts`` and ``invariants`` gain new items;
* ``amend: {recommendations: {id: {field: ...}}}`` adds fields the base recommendation does
  not have (``contraindicated_when``, ``cautions``, ``safety_review``), so safety rules stay
  in the overlay while the recommendation they guard stays where the source put it.

``overlay: {origin: safety, title: ...}`` says where the overlay's content comes from;
every item it adds without its own ``origin`` gets that one, so the answer, the flowchart
and the traceability record can tell source content from additions at a glance.

Composition works on the position-keeping YAML nodes, before the loader reads them: every
node keeps the file and line it came from, so an error inside an overlay points into the
overlay. An overlay includes nothing itself.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import Collector, InputError
from .fields import describe
from .source import SourceText, YMap, YNode, YScalar, YSeq, parse_yaml, read_text

#: sections an overlay adds entries to, and sections it appends items to
MAP_SECTIONS = ("sources", "categories", "strengths", "variables", "definitions", "recommendations")
LIST_SECTIONS = ("constraints", "conflicts", "invariants")
#: sections whose entries carry an ``origin`` (the rest are not advice)
ORIGIN_SECTIONS = ("definitions", "recommendations", "constraints", "invariants")
OVERLAY_KEYS = ("guideproof", "overlay", *MAP_SECTIONS, *LIST_SECTIONS, "amend")
ORIGINS = ("source", "safety")


#: Reads an included file, given its name as the base file writes it (a guideline from a
#: git revision reads its overlays from the same revision).
Opener = Callable[[str], SourceText]


def compose(src: SourceText, root: YNode | None, col: Collector, opener: Opener | None = None) -> YNode | None:
    """``root`` with every overlay it includes merged in (``root`` itself when it includes
    none). Problems go to ``col``; files that cannot be read or parsed raise at once.
    ``opener`` reads an included file (default: the file beside the base file)."""
    if not isinstance(root, YMap) or root.key("include") is None:
        return root
    include = root.get("include")
    sections: dict[str, tuple[YScalar, YNode]] = {str(k.value): (k, v) for k, v in root.items if k.value != "include"}
    if not isinstance(include, YSeq):
        col.error("wrong-type", f"include: expected a list of file names, found {describe(include)}",
                  include.span if include is not None else root.span)
        return YMap(tuple(sections.values()), root.span)
    if opener is None:
        base_dir = Path(src.file).parent

        def opener(name: str) -> SourceText:
            return read_text(base_dir / name, "included file")
    for item in include.items:
        if not isinstance(item, YScalar) or not isinstance(item.value, str) or not item.value.strip():
            col.error("wrong-type", f"include: expected a file name, found {describe(item)}", item.span)
            continue
        overlay = _read(opener, item, col)
        if overlay is not None:
            _merge(sections, overlay, col)
    return YMap(tuple(sections.values()), root.span)


def _read(opener: Opener, where: YScalar, col: Collector) -> YMap | None:
    try:
        osrc = opener(str(where.value))
    except InputError as e:
        d = e.diagnostics[0]
        col.error("include-unreadable", f"include {where.value!r}: {d.message}", where.span)
        return None
    col.others[osrc.file] = osrc.lines
    col.included[osrc.file] = osrc.text
    root = parse_yaml(osrc)  # a syntax error in the overlay is reported at its own position
    if not isinstance(root, YMap):
        col.error("wrong-type", f"include {where.value!r}: an overlay is a mapping of sections, found {describe(root)}",
                  root.span if root is not None else where.span)
        return None
    return root


def _merge(sections: dict[str, tuple[YScalar, YNode]], overlay: YMap, col: Collector) -> None:
    origin = _origin(overlay, col)
    for key, node in overlay.items:
        name = str(key.value)
        if name not in OVERLAY_KEYS:
            col.error("unknown-key", f"an overlay has no section {name!r}; expected one of {', '.join(OVERLAY_KEYS)}", key.span)
        elif name in ("guideproof", "overlay"):
            continue  # the version is checked with the base's; the origin is read above
        elif name == "amend":
            _amend(sections, node, col)
        elif not isinstance(node, YMap if name in MAP_SECTIONS else YSeq):
            want = "a mapping" if name in MAP_SECTIONS else "a list"
            col.error("wrong-type", f"{name}: expected {want}, found {describe(node)}", node.span)
        else:
            stamped = _stamp(node, origin) if name in ORIGIN_SECTIONS else node
            base = sections.get(name)
            if base is None:
                sections[name] = (key, stamped)
            elif isinstance(stamped, YMap) and isinstance(base[1], YMap):
                sections[name] = (base[0], YMap(base[1].items + _new_entries(name, base[1], stamped, col), base[1].span))
            elif isinstance(stamped, YSeq) and isinstance(base[1], YSeq):
                sections[name] = (base[0], YSeq(base[1].items + stamped.items, base[1].span))
            # a base section of the wrong shape is reported when the base is read


def _origin(overlay: YMap, col: Collector) -> str:
    """The overlay's declared origin (``overlay: {origin: safety}``); ``safety`` by default,
    since an overlay adds to the source."""
    meta = overlay.get("overlay")
    if meta is None:
        return "safety"
    node = meta.get("origin") if isinstance(meta, YMap) else None
    if isinstance(node, YScalar) and node.value in ORIGINS:
        return str(node.value)
    col.error("wrong-type", f"overlay.origin: expected one of {', '.join(ORIGINS)}, found {describe(node)}",
              node.span if node is not None else meta.span)
    return "safety"


def _stamp(node: YMap | YSeq, origin: str) -> YMap | YSeq:
    """Give every entry without an ``origin`` the overlay's (positioned at the entry)."""
    def one(entry: YNode) -> YNode:
        if not isinstance(entry, YMap) or entry.key("origin") is not None or not entry.items:
            return entry
        first = entry.items[0][0]  # the new key and value stand where the entry starts
        return YMap(entry.items + ((first.replace(value="origin", end=first.start),
                                    first.replace(value=origin, end=first.start)),), entry.span)
    if isinstance(node, YMap):
        return YMap(tuple((k, one(v)) for k, v in node.items), node.span)
    return YSeq(tuple(one(v) for v in node.items), node.span)


def _new_entries(section: str, base: YMap, overlay: YMap, col: Collector) -> tuple[tuple[YScalar, YNode], ...]:
    out = []
    for k, v in overlay.items:
        first = base.key(str(k.value))
        if first is not None:
            col.error("duplicate-id", f"{section}.{k.value} is already defined at {first.span}; an overlay adds, "
                                      "it does not replace (use 'amend' to add fields)", k.span)
            continue
        out.append((k, v))
    return tuple(out)


def _amend(sections: dict[str, tuple[YScalar, YNode]], node: YNode, col: Collector) -> None:
    """``amend: {recommendations: {id: {field: value}}}``: fields added to base entries."""
    if not isinstance(node, YMap):
        col.error("wrong-type", f"amend: expected a mapping of sections, found {describe(node)}", node.span)
        return
    for skey, body in node.items:
        section = str(skey.value)
        if section != "recommendations":
            col.error("unknown-key", f"amend: only recommendations can be amended, found {section!r}", skey.span)
            continue
        base = sections.get(section)
        if not isinstance(body, YMap) or base is None or not isinstance(base[1], YMap):
            col.error("wrong-type", f"amend.{section}: expected a mapping of ids to the fields to add", body.span)
            continue
        items = list(base[1].items)
        index = {str(k.value): i for i, (k, _) in enumerate(items)}
        for rkey, fields in body.items:
            rid = str(rkey.value)
            if rid not in index:
                col.error("unknown-reference", f"amend.{section}: no recommendation {rid!r} to amend", rkey.span)
                continue
            k0, target = items[index[rid]]
            if not isinstance(fields, YMap) or not isinstance(target, YMap):
                col.error("wrong-type", f"amend.{section}.{rid}: expected a mapping of fields", fields.span)
                continue
            added = []
            for fk, fv in fields.items:
                have = target.key(str(fk.value))
                if have is not None:
                    col.error("duplicate-key", f"amend.{section}.{rid}.{fk.value}: the recommendation already has it "
                                               f"(at {have.span}); an amendment adds fields only", fk.span)
                    continue
                added.append((fk, fv))
            items[index[rid]] = (k0, YMap(target.items + tuple(added), target.span))
        sections[section] = (base[0], YMap(tuple(items), base[1].span))
