"""The layers import only downward: model at the bottom; verify and diagrams above it; the
CLI on top. click only in the CLI, graphviz only in diagrams, z3 never on the query path."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"model": ROOT / "model", "verify": ROOT / "verify", "diagrams": ROOT / "diagrams",
          "cli": ROOT / "guideproof"}
ALLOWED = {  # layer -> guideproof layers it may import
    "model": {"model"},
    "verify": {"model", "verify"},
    "diagrams": {"model", "diagrams"},
    "cli": {"model", "verify", "diagrams", "cli", "guideline"},
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            if node.level:  # relative: resolve against the layer
                layer = "cli" if path.parent.name == "guideproof" else path.parent.name
                parts = mod.split(".") if mod else []
                if node.level == 1:
                    out.add(f"guideproof.{layer}." + mod if mod else f"guideproof.{layer}")
                else:
                    out.add("guideproof." + mod if mod else "guideproof")
                    if not parts:
                        out |= {f"guideproof.{a.name}" for a in node.names}
            else:
                out.add(mod)
    return out


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "guideproof":
        return None
    if len(parts) == 1 or parts[1] in ("cli", "views", "report", "__main__"):
        return "cli"
    return parts[1]


@pytest.mark.slow
def test_layers_import_downward_only():
    problems = []
    for layer, folder in LAYERS.items():
        for f in folder.glob("*.py"):
            for mod in _imports(f):
                target = _layer_of(mod)
                if target and target not in ALLOWED[layer]:
                    problems.append(f"{f.relative_to(ROOT)} imports {mod}")
                top = mod.split(".")[0]
                if top == "click" and layer != "cli":
                    problems.append(f"{f.relative_to(ROOT)} imports click")
                if top == "graphviz" and layer != "diagrams":
                    problems.append(f"{f.relative_to(ROOT)} imports graphviz")
    assert not problems, problems


def _after_query(args: list[str], expr: str) -> str:
    """``expr`` evaluated (and printed) in a fresh interpreter after ``query ARGS``."""
    import subprocess
    import sys

    code = ("import sys; from guideproof.cli import cli; "
            "from click.testing import CliRunner; "
            f"r = CliRunner().invoke(cli, ['query', *{args!r}]); "
            f"assert r.exit_code in (0, 3), r.output; print({expr})")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()


COMPLETE_QUERIES = pytest.mark.parametrize("args", [
    ["-p", "guideline/examples/uncomplicated_acute.yaml"],
    # scores, decimals, an optional fact left out: the second guideline's complete query
    ["-g", "guideline/af_anticoagulation.yaml", "-p", "guideline/examples/af/elderly_low_weight_reduced_dose.yaml"],
])


@pytest.mark.slow
@COMPLETE_QUERIES
def test_query_path_never_imports_z3(args):
    assert _after_query(args, "'z3' in sys.modules") == "False"


@pytest.mark.slow
@COMPLETE_QUERIES
def test_query_without_fhir_never_imports_the_fhir_library(args):
    """fhir.resources (and pydantic under it) is loaded only by `query --fhir`."""
    assert _after_query(args, "any(m.split('.')[0] in ('fhir', 'pydantic', 'fhir_core') for m in sys.modules)") == "False"


@pytest.mark.slow
def test_query_with_fhir_does_load_the_fhir_library():
    """The check above can fail: with --fhir the library is loaded."""
    args = ["-g", "guideline/af_anticoagulation.yaml", "--fhir", "guideline/examples/fhir/af/woman_score_2_consider.json",
            "--at", "2026-06-01"]
    assert _after_query(args, "'fhir.resources' in sys.modules") == "True"


def _module_name(path: Path) -> str:
    layer = "cli" if path.parent.name == "guideproof" else path.parent.name
    base = "guideproof" if layer == "cli" else f"guideproof.{layer}"
    return base if path.stem == "__init__" else f"{base}.{path.stem}"


@pytest.mark.slow
def test_no_import_cycles():
    """Modules of the package import each other without a cycle — counting imports inside
    functions too, so a cycle cannot hide behind a deferred import."""
    from guideproof.model.graph import cycles

    files = [f for folder in LAYERS.values() for f in folder.glob("*.py")]
    names = {_module_name(f) for f in files}
    graph: dict[str, list[str]] = {}
    for f in files:
        me = _module_name(f)
        deps = set()
        for mod in _imports(f):
            mod = mod.replace("guideproof.cli.", "guideproof.")
            while mod and mod not in names:
                mod = mod.rpartition(".")[0]
            if mod and mod != me and mod != "guideproof" and not me.startswith(mod + "."):
                deps.add(mod)
        graph[me] = sorted(deps)
    assert len(graph) > 20, sorted(graph)
    assert cycles(graph) == []

