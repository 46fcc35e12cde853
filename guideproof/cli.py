"""The command line: a thin shell over the library. Only this module imports click, and only
:func:`main` exits. Each command parses its options, calls the library, renders, and returns
an :class:`ExitCode`.
"""
from __future__ import annotations

import math
import os
import sys
import traceback
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .model.errors import InputError

if TYPE_CHECKING:  # annotations only: the query path never imports the solver layer
    from .diagrams.dot import Highlight
    from .model.guideline import Guideline
    from .model.patient import PatientInput
    from .verify.partial import PartialAnswer


class ExitCode(IntEnum):
    OK = 0  #: success; for verify: every obligation proved
    REFUTED = 1  #: verify found a violation (a witness patient is printed); query: the guideline fails this patient
    BAD_INPUT = 2  #: bad input or usage: the message names the file, line and field
    INCONCLUSIVE = 3  #: a solver answered unknown: verify with nothing refuted, or a partial query
    INTERNAL = 4  #: a bug in guideproof itself (please report it)
    INTERRUPTED = 130  #: Ctrl-C (SIGINT): nothing half-written is left behind


EPILOG = (
    "Exit codes: 0 success (verify: every obligation proved; a GP009 warning does not change it; diff: no "
    "behavioural change, proved); 1 verify refuted something, query found "
    "the guideline fails this patient, or diff found patients whose advice changed; "
    "2 bad input or usage; 3 inconclusive: the solver answered unknown (verify: with nothing refuted; "
    "query: some recommendation undecided; diff: no change found, none proved absent); 4 internal error; "
    "130 interrupted (Ctrl-C)."
)

#: Z3 takes its timeout in milliseconds and its resource limit as unsigned 32-bit integers.
MAX_TIMEOUT_S = 4_294_967
MAX_RLIMIT = 4_294_967_295


class _Seconds(click.ParamType):  # type: ignore[type-arg]  # ParamType is generic only in click's stubs
    """A finite number of seconds within what Z3 accepts (not inf, nan, 0 or negative)."""

    name = "seconds"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, float) and math.isfinite(value) and 0.001 <= value <= MAX_TIMEOUT_S:
            return value
        try:
            seconds = float(str(value))
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and 0.001 <= seconds <= MAX_TIMEOUT_S):
            self.fail(f"expected a number of seconds from 0.001 to {MAX_TIMEOUT_S:,}, found {str(value)!r}", param, ctx)
        return seconds


SECONDS = _Seconds()
RLIMIT = click.IntRange(min=1, max=MAX_RLIMIT)

GUIDELINE_OPTION = click.option(
    "--guideline", "-g", "guideline_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Guideline YAML file (default: the shipped L1-L2 compression fracture guideline).")
FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, help="Output format; JSON is versioned.")


def _guideline(path: Path | None) -> Guideline:
    from .guideline import SHIPPED
    from .model.loader import load_guideline

    if path is None:
        # Name the shipped file relative to the working directory when it is below it, so
        # messages and reports do not carry this machine's paths.
        try:
            path = SHIPPED.relative_to(Path.cwd())
        except ValueError:
            path = SHIPPED
    return load_guideline(path)


def _emit(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


class _Group(click.Group):
    """Turns the library's errors into exit codes for every subcommand, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            rv = super().invoke(ctx)
        except InputError as e:
            click.echo(str(e), err=True)
            ctx.exit(ExitCode.BAD_INPUT)
        except KeyboardInterrupt:
            _interrupted(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:  # `guideproof ... | head`: the reader left; not an error
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - replaces stdout for the rest of the run
            ctx.exit(ExitCode.OK)
        except Exception as e:  # a bug in guideproof: say so plainly, without a traceback
            click.echo(f"guideproof: internal error: {type(e).__name__}: {e}", err=True)
            if os.environ.get("GUIDEPROOF_DEBUG"):
                traceback.print_exc()
            else:
                click.echo("(set GUIDEPROOF_DEBUG=1 to see the traceback; please report it)", err=True)
            ctx.exit(ExitCode.INTERNAL)
        if isinstance(rv, int) and rv != ExitCode.OK:
            ctx.exit(int(rv))
        return rv


    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: object) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except KeyboardInterrupt:
            _interrupted(None)
            raise AssertionError("unreachable") from None


def _interrupted(ctx: click.Context | None) -> None:
    """Ctrl-C: say so and exit 130 (click would print 'Aborted!' and exit 1, verify's
    'refuted')."""
    from .interrupts import reap_children

    click.echo("\nguideproof: interrupted", err=True)
    reap_children()
    raise click.exceptions.Exit(ExitCode.INTERRUPTED)


@click.group(cls=_Group, epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guideproof")
@click.option("--max-input-mb", type=float, default=None, metavar="MIB",
              help="Largest guideline or patient file read, in MiB (default 64, or "
                   "$GUIDEPROOF_MAX_INPUT_MB); larger files are refused before parsing.")
def cli(max_input_mb: float | None) -> None:
    """guideproof: a clinical guideline as data, proved sound by Z3."""
    from .model.source import set_input_limit

    set_input_limit(max_input_mb)


@cli.command(epilog=EPILOG)
@GUIDELINE_OPTION
@click.option("--patient", "-p", "patient_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Patient file (YAML or JSON mapping of variable names to values).")
@click.option("--set", "-s", "sets", multiple=True, metavar="NAME=VALUE",
              help="Set one variable (repeatable; overrides the file). Sets take a comma-separated list.")
@click.option("--fhir", "fhir_path", type=click.Path(dir_okay=False, path_type=Path),
              help="An HL7 FHIR R4 Bundle (JSON): facts of the variables the guideline binds to the record. "
                   "The patient file overrides it, and --set overrides both.")
@click.option("--at", "visit", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="With --fhir: the visit date for 'within N days', ages and times since a date (default: today).")
@FORMAT_OPTION
@click.option("--interactive", "-i", is_flag=True,
              help="Ask the most useful unknown fact, one at a time (works with piped input).")
@click.option("--require-complete", is_flag=True, help="Refuse a patient with unknown variables (exit 2).")
@click.option("--explain", is_flag=True,
              help="Text output: full texts, and for each item the decisions and facts behind it.")
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds the solver may spend on each question about a partial patient.")
@click.option("--rlimit", type=RLIMIT, default=None,
              help="Z3 resource limit per question (deterministic, machine-independent).")
def query(guideline_path: Path | None, patient_path: Path | None, sets: tuple[str, ...], fhir_path: Path | None,
          visit: Any, fmt: str, interactive: bool, require_complete: bool, explain: bool, timeout: float,
          rlimit: int | None) -> int:
    """The recommendations that apply to one patient, and why.

    Unset variables are unknown, never defaulted: each recommendation then applies, does not
    apply, or depends on what is not known, with the facts worth asking next.
    """
    from .model.patient import PatientInput, apply_sets, load_patient_file, require_complete as complete

    if visit is not None and fhir_path is None:
        raise click.UsageError("--at gives the visit date of a --fhir bundle: give --fhir too")
    g = _guideline(guideline_path)
    p = PatientInput()
    record = None
    if fhir_path is not None:  # the lowest precedence: the file and --set override it
        import datetime as dt

        from .model.fhir import read_facts

        record = read_facts(g, fhir_path, visit.date() if visit is not None else dt.date.today())
        for name, fact in record.facts.items():
            p.values[name] = fact.value
            p.origin[name] = fact.source
    if patient_path is not None:
        load_patient_file(g, patient_path, p)
    apply_sets(g, list(sets), p).without_value(g)
    if require_complete:
        complete(g, p)
    partial = _interactive(g, p, timeout, rlimit) if interactive else None
    text, code = _answer_text(g, p, fmt, timeout, rlimit, partial, explain)
    if record is not None:
        from . import views

        text = views.with_provenance(text, fmt, g, p, record)
    _emit(text)
    return code


def _answer_text(g: Guideline, p: PatientInput, fmt: str, timeout: float, rlimit: int | None = None,
                 partial: PartialAnswer | None = None, explain: bool = False) -> tuple[str, int]:
    """The complete answer when every variable is known, the partial one otherwise (``partial``
    when already computed for these facts); and the exit code: REFUTED when the guideline
    fails this patient (no branch of a decision applies, or several of a ``single`` one),
    INCONCLUSIVE when the solver did not settle every recommendation."""
    from . import views
    from .model.patient import check_constraints
    from .model.report import answer

    if not p.missing(g):
        check_constraints(g, p)
        ans = answer(g, p.values)
        text = views.query_json(ans) if fmt == "json" else views.query_text(ans, explain)
        if ans.trace.problems:
            for x in ans.trace.problems:
                click.echo(f"guideproof: guideline problem: {views.problem_text(g, x)}", err=True)
            return text, ExitCode.REFUTED
        return text, ExitCode.OK
    from .verify.partial import UNKNOWN, decide

    if partial is None:
        partial = decide(g, p.values, timeout=timeout, rlimit=rlimit)
    settled = all(r.status != UNKNOWN for r in partial.recs.values())
    text = views.partial_json(partial) if fmt == "json" else views.partial_text(partial)
    return text, ExitCode.OK if settled else ExitCode.INCONCLUSIVE


def _interactive(g: Guideline, p: PatientInput, timeout: float, rlimit: int | None) -> PartialAnswer:
    """Ask the top-ranked unknown fact until nothing depends on the unknowns or input ends.
    Questions go to stderr, so stdout holds only the final answer. An answer is kept only
    if the facts stay consistent; the answer computed to check that is reused, and the one
    for the final facts is returned."""
    from .model.patient import coerce, type_words
    from .verify.partial import decide

    ans = decide(g, p.values, timeout=timeout, rlimit=rlimit)
    while p.missing(g):
        if not ans.ask_next:
            click.echo("Every recommendation is decided; the remaining facts are not needed.", err=True)
            return ans
        name = ans.ask_next[0][0]
        var = g.variables[name]
        while True:
            click.echo(f"{var.question}\n  {name} ({type_words(var)}; empty line to stop): ", err=True, nl=False)
            line = sys.stdin.readline()
            if not line or not line.strip():
                click.echo("", err=True)
                return ans
            value, problem = coerce(var, line.strip())
            if problem:
                click.echo(f"  not accepted: {problem[1]}", err=True)
                continue
            try:
                ans = decide(g, {**p.values, name: value}, timeout=timeout, rlimit=rlimit)
            except InputError as e:
                click.echo(f"  not accepted: {e.diagnostics[0].message}", err=True)
                continue
            p.values[name] = value
            p.origin[name] = "answer"
            break
    return ans


@cli.command(epilog=EPILOG)
@click.argument("guideline_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@FORMAT_OPTION
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds the solver may spend on each obligation; beyond it the verdict is unknown.")
@click.option("--rlimit", type=RLIMIT, default=None,
              help="Z3 resource limit per obligation (deterministic, machine-independent).")
@click.option("--witness-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each witness patient as a file that 'query --patient' accepts (the folder "
                   "is created if missing, its parent must exist; files guideproof did not write "
                   "are never overwritten).")
@click.option("--brief", is_flag=True, help="Text output: leave out the list of proved obligations.")
@click.option("--max-findings", type=click.IntRange(min=0, max=100_000), default=20, show_default=True,
              metavar="N",
              help="Problem regions listed per refuted coverage, exclusivity or consistency obligation (and "
                   "per misleading overlap); a longer listing is cut and says so. 0: one witness only.")
def verify(guideline_file: Path | None, fmt: str, timeout: float, rlimit: int | None, witness_dir: Path | None,
           brief: bool, max_findings: int) -> int:
    """Prove the guideline sound: consistency, coverage, exclusivity, reachability,
    redundancy, invariants and vacuity, with a witness patient for every failure."""
    from .verify import render
    from .verify.checks import verify as run_checks
    from .verify.findings import Verdict
    from .verify.witness import check_witness_dir, write_witnesses

    if witness_dir is not None:
        check_witness_dir(witness_dir)  # before the work, not after it
    g = _guideline(guideline_file)
    findings = run_checks(g, timeout=timeout, rlimit=rlimit, max_regions=max_findings)  # InternalError: exit 4
    if witness_dir is not None:
        for path in write_witnesses(g, findings, witness_dir):
            click.echo(f"wrote witness {path}", err=True)
    _emit(render.as_json(g, findings) if fmt == "json" else render.text(g, findings, verbose=not brief))
    verdicts = {f.verdict for f in findings}
    if Verdict.REFUTED in verdicts:
        return ExitCode.REFUTED
    if Verdict.UNKNOWN in verdicts:
        return ExitCode.INCONCLUSIVE
    return ExitCode.OK


@cli.command(epilog=EPILOG)
@click.argument("old")
@click.argument("new")
@click.option("--only", metavar="REC", default=None, help="Compare this recommendation only.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW",
              help="A recommendation or variable id of OLD and its id in NEW (repeatable).")
@FORMAT_OPTION
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds the solver may spend on each question; beyond it the answer is unknown.")
@click.option("--rlimit", type=RLIMIT, default=None,
              help="Z3 resource limit per question (deterministic, machine-independent).")
@click.option("--max-regions", type=click.IntRange(min=1, max=100_000), default=20, show_default=True, metavar="N",
              help="Regions listed per kind of difference; a longer listing is cut and says so.")
def diff(old: str, new: str, only: str | None, renames: tuple[str, ...], fmt: str, timeout: float,
         rlimit: int | None, max_regions: int) -> int:
    """Which valid patients get different advice from OLD and NEW (guideline files, or
    git:REV:path for a committed version): regions with a witness patient and the
    recommendations gained and lost, and the patients only one version admits."""
    from .model.revision import load_version
    from .verify import diff as D

    d = D.compare(load_version(old), load_version(new), renames, only, timeout=timeout, rlimit=rlimit,
                  max_regions=max_regions)
    _emit(D.as_json(d) if fmt == "json" else D.text(d))
    return {"changed": ExitCode.REFUTED, "unknown": ExitCode.INCONCLUSIVE}.get(d.verdict, ExitCode.OK)


@cli.command(epilog=EPILOG)
@GUIDELINE_OPTION
@click.option("--patient", "-p", "patient_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Highlight this patient's path and recommendations; fade the rest.")
@click.option("--set", "-s", "sets", multiple=True, metavar="NAME=VALUE", help="Set one patient variable (repeatable).")
@click.option("--output", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file; the format comes from the extension: .svg, .png, .pdf or .dot. Its "
                   "folder must exist; an input file is never overwritten.")
@click.option("--overview", is_flag=True,
              help="Draw the overview: one box per phase, and the decisions that choose the management pathway.")
@click.option("--phase", "phase", metavar="ID", default=None,
              help="Draw one phase in detail (its id from the guideline's 'phases').")
@click.option("--ids", is_flag=True, help="Show the machine ids of steps and recommendations.")
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds the solver may spend on each question about a partial patient.")
@click.option("--rlimit", type=RLIMIT, default=None,
              help="Z3 resource limit per question (deterministic, machine-independent).")
def flowchart(guideline_path: Path | None, patient_path: Path | None, sets: tuple[str, ...], out: Path,
              overview: bool, phase: str | None, ids: bool, timeout: float, rlimit: int | None) -> int:
    """Draw the decision flowchart: the whole guideline (default), the --overview, or one
    --phase in detail; optionally with one patient's path highlighted. Exits 3 when the
    solver left parts of a partial patient's chart undecided."""
    from .diagrams.dot import overview_dot, phase_dot, to_dot
    from .diagrams.render import output_format, write_chart
    from .model.errors import Diagnostic, InputError
    from .model.files import check_output

    if overview and phase is not None:
        raise click.UsageError("--overview and --phase draw different charts: give one of them")
    output_format(out)  # refuse a bad extension or an unusable path before any work
    g = _guideline(guideline_path)
    if phase is not None and phase not in g.phases:
        known = ", ".join(g.phases) or "none: the guideline declares no phases"
        raise InputError([Diagnostic("unknown-phase", f"--phase: no phase {phase!r} in {g.file} (phases: {known})")])
    inputs = [Path(g.file)] + ([patient_path] if patient_path is not None else [])
    check_output(out, inputs, "--output")
    highlight = None
    if patient_path is not None or sets:
        highlight = _highlight(g, patient_path, sets, timeout, rlimit)
    if overview:
        dot = overview_dot(g, highlight, ids)
    elif phase is not None:
        dot = phase_dot(g, phase, highlight, ids)
    else:
        dot = to_dot(g, highlight, ids)
    fmt = write_chart(dot, out, inputs)
    click.echo(f"wrote {fmt.upper()} flowchart to {out}", err=True)
    return ExitCode.INCONCLUSIVE if highlight is not None and highlight.undecided else ExitCode.OK


def _highlight(g: Guideline, patient_path: Path | None, sets: tuple[str, ...], timeout: float = 10.0,
               rlimit: int | None = None) -> Highlight:
    """Certain / possible / excluded parts of the chart for a complete or partial patient."""
    from .diagrams.dot import Highlight
    from .model.evaluate import run
    from .model.patient import PatientInput, apply_sets, check_constraints, load_patient_file

    p = PatientInput()
    if patient_path is not None:
        load_patient_file(g, patient_path, p)
    apply_sets(g, list(sets), p).without_value(g)
    name = patient_path.name if patient_path is not None else "the patient given by --set"
    if sets:
        name += (" with " if patient_path is not None else ": ") + ", ".join(" ".join(x.split()) for x in sets)
    if p.missing(g):
        from .verify.partial import graph_states

        certain, possible, undecided = graph_states(g, p.values, timeout, rlimit)
        return Highlight(certain, possible, title=f"Possible paths of {name} ({len(p.missing(g))} facts unknown)",
                         undecided=undecided)
    check_constraints(g, p)
    trace = run(g, p.values)
    return Highlight.of_trace(trace, title=f"Path of {name}")


@cli.command(epilog=EPILOG)
@FORMAT_OPTION
def checks(fmt: str) -> int:
    """Every code guideproof reports: the proof obligations verify runs (code, name, a failing
    and a passing example), then the input-error codes (meaning and an example)."""
    from . import views

    _emit(views.checks_json() if fmt == "json" else views.checks_text())
    return ExitCode.OK


@cli.command(epilog=EPILOG)
@click.argument("name", type=click.Choice(["guideline", "overlay", "patient"]))
@GUIDELINE_OPTION
def schema(name: str, guideline_path: Path | None) -> int:
    """Print a JSON Schema (draft 2020-12): the guideline language, an overlay, or the patient
    file of a guideline (its variables and their types), for editors and validators."""
    import json

    from .schema import schema as get

    g = _guideline(guideline_path) if name == "patient" else None
    _emit(json.dumps(get(name, g), indent=2, ensure_ascii=False) + "\n")
    return ExitCode.OK


@cli.command(epilog=EPILOG)
@GUIDELINE_OPTION
@FORMAT_OPTION
def variables(guideline_path: Path | None, fmt: str) -> int:
    """The fields of a patient record: types, allowed values and questions."""
    from . import views

    g = _guideline(guideline_path)
    _emit(views.variables_json(g) if fmt == "json" else views.variables_text(g))
    return ExitCode.OK


def main() -> None:
    """Entry point of the console script: click's standalone mode is the only place that exits."""
    from .interrupts import install

    install()
    cli(prog_name="guideproof")
