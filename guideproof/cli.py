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
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .config import MAX_FINDINGS, MAX_JOBS, MAX_RLIMIT, MAX_TIMEOUT_S
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
    "query: some recommendation undecided; diff: no change found, none proved absent), or parts of a DMN "
    "model are NOT ANALYSED; 4 internal error; "
    "130 interrupted (Ctrl-C)."
)



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

def _remember_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Input errors are reported in the output format asked for: stdout gets them as JSON
    (or SARIF) too, so a tool reading stdout never finds it empty."""
    ctx.meta["guideproof.format"] = value
    return value


GUIDELINE_OPTION = click.option(
    "--guideline", "-g", "guideline_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="Guideline YAML file, or a DMN decision model (.dmn) (default: the shipped L1-L2 compression fracture "
         "guideline).")
FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True, callback=_remember_format, is_eager=True,
                             help="Output format; JSON is versioned.")


#: True in the console script (:func:`main`), where one run is one process
_ONE_PROCESS_PER_RUN = False


def _guideline(path: Path | None, note_not_analysed: bool = True) -> Guideline:
    from .guideline import SHIPPED
    from .model.cache import load_guideline
    from .model.source import paused_gc

    if path is None:
        # Name the shipped file relative to the working directory when it is below it, so
        # messages and reports do not carry this machine's paths.
        try:
            path = SHIPPED.relative_to(Path.cwd())
        except ValueError:
            path = SHIPPED
    with paused_gc():
        g = load_guideline(path)
        if _ONE_PROCESS_PER_RUN:
            # The console script keeps the one guideline it reads to the end: moved out of
            # the cycle collector's sight before the collector is back (gc.freeze), it is not
            # walked again by the collections during the checks. A longer-lived process
            # (tests through click's runner) freezes nothing.
            import gc

            gc.freeze()
    for part in g.not_analysed if note_not_analysed else ():  # parts of a DMN model beyond the checks
        click.echo(f"{part.span}: NOT ANALYSED: {part.what}: {part.reason}", err=True)
    return g


def _emit(text: str) -> None:
    click.echo(text, nl=not text.endswith("\n"))


class _Group(click.Group):
    """Turns the library's errors into exit codes for every subcommand, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            rv = super().invoke(ctx)
        except InputError as e:
            click.echo(str(e), err=True)
            fmt = ctx.meta.get("guideproof.format")
            if fmt == "json":
                from . import views

                _emit(views.json_text(views.diagnostics_doc(e.diagnostics)))
            elif fmt == "sarif":
                from . import sarif

                _emit(sarif.log([sarif.diagnostics_run(e.diagnostics, ExitCode.BAD_INPUT)]))
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
@click.option("--no-cache", is_flag=True,
              help="Read and check the guideline afresh instead of reusing the checked model stored "
                   "the last time exactly the same files were read (also: GUIDEPROOF_CACHE=off).")
def cli(max_input_mb: float | None, no_cache: bool) -> None:
    """guideproof: a clinical guideline as data, proved sound by Z3."""
    from .model.source import set_input_limit

    set_input_limit(max_input_mb)
    if no_cache:
        from .model import cache

        cache.disable()


@cli.command(epilog=EPILOG)
@GUIDELINE_OPTION
@click.option("--patient", "-p", "patient_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Patient file (YAML or JSON mapping of variable names to values).")
@click.option("--set", "-s", "sets", multiple=True, metavar="NAME=VALUE",
              help="Set one variable (repeatable; overrides the file). Sets take a comma-separated list.")
@click.option("--fhir", "fhir_path", type=click.Path(dir_okay=False, path_type=Path),
              help="An HL7 FHIR R4 Bundle (JSON): facts of the variables the guideline binds to the record. "
                   "The patient file overrides it, and --set overrides both.")
@click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path),
              help="A history file: the patient's visits (week, the facts stated, recommendations declined); "
                   "the answer at every visit, with what starts, continues and stops.")
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
          history_path: Path | None, visit: Any, fmt: str, interactive: bool, require_complete: bool, explain: bool, timeout: float,
          rlimit: int | None) -> int:
    """The recommendations that apply to one patient, and why.

    Unset variables are unknown, never defaulted: each recommendation then applies, does not
    apply, or depends on what is not known, with the facts worth asking next.
    """
    from .model.patient import PatientInput, apply_sets, load_patient_file, require_complete as complete

    if visit is not None and fhir_path is None:
        raise click.UsageError("--at gives the visit date of a --fhir bundle: give --fhir too")
    if history_path is not None:
        if patient_path or sets or fhir_path or interactive or require_complete:
            raise click.UsageError("--history gives every visit's facts: it takes no --patient, --set, --fhir, "
                                   "--interactive or --require-complete")
        return _course(_guideline(guideline_path), history_path, fmt)
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
    return ExitCode.INCONCLUSIVE if code == ExitCode.OK and g.not_analysed else code


def _course(g: Guideline, history_path: Path, fmt: str) -> int:
    """``query --history``: the answer at every visit of a course (exit 1 when the guideline
    fails the patient at some visit, as for one visit)."""
    from . import views
    from .model.course import load_history, replay

    course = replay(g, load_history(g, history_path))
    _emit(views.course_json(g, course) if fmt == "json" else views.course_text(g, course))
    for v in course:
        for x in v.answer.trace.problems:
            click.echo(f"guideproof: guideline problem at week {v.week}: {views.problem_text(g, x)}", err=True)
        for c in v.clashes:
            click.echo(f"guideproof: guideline problem at week {v.week}: {c}", err=True)
    return ExitCode.REFUTED if any(v.answer.trace.problems or v.clashes for v in course) else ExitCode.OK


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
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              callback=_remember_format, is_eager=True,
              help="Output format: text for people, versioned JSON, or SARIF 2.1.0 for code-scanning views.")
@click.option("--timeout", type=SECONDS, default=None,
              help="Seconds the solver may spend on each obligation; beyond it the verdict is unknown "
                   "(default: the configuration's, else 10).")
@click.option("--rlimit", type=RLIMIT, default=None,
              help="Z3 resource limit per obligation (deterministic, machine-independent).")
@click.option("--witness-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each witness patient as a file that 'query --patient' accepts (the folder "
                   "is created if missing, its parent must exist; files guideproof did not write "
                   "are never overwritten).")
@click.option("--brief", is_flag=True, help="Text output: leave out the list of proved obligations.")
@click.option("--max-findings", type=click.IntRange(min=0, max=MAX_FINDINGS), default=None, metavar="N",
              help="Problem regions listed per refuted coverage, exclusivity or consistency obligation (and "
                   "per misleading overlap); a longer listing is cut and says so. 0: one witness only "
                   "(default: the configuration's, else 20).")
@click.option("--select", "select", multiple=True, metavar="CODES",
              help="Run only these checks (codes or names, comma-separated or repeated; GP007's "
                   "'some valid patient exists' always runs).")
@click.option("--ignore", "ignore", multiple=True, metavar="CODES", help="Run every check but these.")
@click.option("--timings", is_flag=True, help="JSON and SARIF: add each obligation's solver time "
                                              "(left out by default, so the same input gives the same output).")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS), default=None, metavar="N",
              help="Processes at once for a large guideline's checks (two lanes; the output is the same "
                   "whatever N is). Default: the configuration's, else the cores available.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Configuration file (default: guideproof.toml, or pyproject.toml with [tool.guideproof], "
                   "in this folder or the nearest one above).")
def verify(paths: tuple[Path, ...], fmt: str, timeout: float | None, rlimit: int | None, witness_dir: Path | None,
           brief: bool, max_findings: int | None, select: tuple[str, ...], ignore: tuple[str, ...], timings: bool,
           jobs: int | None, config_path: Path | None) -> int:
    """Prove each guideline sound: consistency, coverage, exclusivity, reachability,
    redundancy, invariants, vacuity, contraindications and safety review, with a witness
    patient for every failure. PATHS are guideline files and folders (each guideline file in
    a folder: a YAML file with a top-level 'guideline' key); with none, the configuration's
    'guidelines', else the shipped guideline. The exit code is the worst over all files: bad
    input 2, then refuted 1, then unknown 3."""
    from . import config as cfg
    from .verify import render
    from .verify.checks import verify as run_checks
    from .verify.findings import Verdict
    from .verify.witness import check_witness_dir, write_witnesses

    conf = cfg.load(config_path)
    only = _selected(select or conf.select, ignore or conf.ignore)
    if witness_dir is not None:
        check_witness_dir(witness_dir)  # before the work, not after it
    targets = cfg.expand(list(paths) or list(conf.guidelines)) if (paths or conf.guidelines) else [None]
    outputs: list[str] = []
    runs: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    codes: list[int] = []
    for target in targets:
        try:
            g = _guideline(target, note_not_analysed=False)  # reported as GP011 obligations instead
        except InputError as e:
            if len(targets) == 1:
                raise
            click.echo(str(e), err=True)
            codes.append(ExitCode.BAD_INPUT)
            _record_input_error(e, fmt, runs, docs, str(target))
            continue
        findings = run_checks(g, timeout=timeout if timeout is not None else conf.timeout or 10.0,
                              rlimit=rlimit if rlimit is not None else conf.rlimit, only=only,
                              max_regions=max_findings if max_findings is not None else
                              (conf.max_findings if conf.max_findings is not None else 20),
                              jobs=jobs if jobs is not None else conf.jobs)  # InternalError: exit 4
        if witness_dir is not None:
            for path in write_witnesses(g, findings, witness_dir):
                click.echo(f"wrote witness {path}", err=True)
        verdicts = {f.verdict for f in findings}
        code = (ExitCode.REFUTED if Verdict.REFUTED in verdicts else
                ExitCode.INCONCLUSIVE if Verdict.UNKNOWN in verdicts else ExitCode.OK)
        codes.append(code)
        if fmt == "sarif":
            from . import sarif

            runs.append(sarif.verify_run(g, findings, int(code), timings))
        elif fmt == "json":
            docs.append(render.as_doc(g, findings, timings))
        else:
            outputs.append(render.text(g, findings, verbose=not brief))
    if fmt == "sarif":
        from . import sarif

        _emit(sarif.log(runs))
    elif fmt == "json":
        _emit(_json_docs(docs))
    else:
        _emit("\n".join(outputs))
    return _worst(codes)


def _selected(select: tuple[str, ...], ignore: tuple[str, ...]) -> set[str] | None:
    """The check codes to run, from --select/--ignore (codes or names, comma-separated)."""
    from .model.errors import Diagnostic
    from .verify.checks import CHECKS

    by_key = {c.code: c.code for c in CHECKS} | {c.name: c.code for c in CHECKS}

    def codes(values: tuple[str, ...], option: str) -> set[str]:
        out = set()
        for part in (p.strip() for v in values for p in v.split(",")):
            if part not in by_key:
                known = ", ".join(f"{c.code} ({c.name})" for c in sorted(CHECKS, key=lambda c: c.code))
                raise InputError([Diagnostic("bad-option", f"{option}: no check {part!r} (checks: {known})")])
            out.add(by_key[part])
        return out

    chosen = codes(select, "--select") if select else {c.code for c in CHECKS}
    chosen -= codes(ignore, "--ignore")
    return None if chosen == {c.code for c in CHECKS} else chosen


def _worst(codes: list[int]) -> int:
    """One exit code for several files: bad input, then refuted, then unknown, then success."""
    for code in (ExitCode.BAD_INPUT, ExitCode.REFUTED, ExitCode.INCONCLUSIVE):
        if code in codes:
            return code
    return ExitCode.OK


def _json_docs(docs: list[dict[str, Any]]) -> str:
    """verify's JSON: one guideline's document, or for several files every document under
    ``guidelines`` (each with its own summary)."""
    import json

    from .verify.render import VERIFY_JSON_VERSION

    doc = docs[0] if len(docs) == 1 else {"version": VERIFY_JSON_VERSION, "guidelines": docs}
    return json.dumps(doc, indent=2, ensure_ascii=False)


def _record_input_error(e: InputError, fmt: str, runs: list[dict[str, Any]], docs: list[dict[str, Any]],
                        target: str) -> None:
    if fmt == "sarif":
        from . import sarif

        runs.append(sarif.diagnostics_run(e.diagnostics, ExitCode.BAD_INPUT))
    elif fmt == "json":
        from . import views

        docs.append({"file": target, **views.diagnostics_doc(e.diagnostics)})


@cli.command(epilog=EPILOG)
@click.argument("old")
@click.argument("new")
@click.option("--only", metavar="REC", default=None, help="Compare this recommendation only.")
@click.option("--rename", "renames", multiple=True, metavar="OLD=NEW",
              help="A recommendation or variable id of OLD and its id in NEW (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              callback=_remember_format, is_eager=True,
              help="Output format: text, versioned JSON, or SARIF 2.1.0 (each region a result at the "
                   "recommendation it changes).")
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
    code = {"changed": ExitCode.REFUTED, "unknown": ExitCode.INCONCLUSIVE}.get(d.verdict, ExitCode.OK)
    if fmt == "sarif":
        from . import sarif

        _emit(sarif.log([sarif.diff_run(d, int(code))]))
    else:
        _emit(D.as_json(d) if fmt == "json" else D.text(d))
    return code


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
@click.option("--history", "history_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw a course of care instead: one box per visit of this history file, with the path it "
                   "took and what started, stopped and continued.")
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True,
              help="Seconds the solver may spend on each question about a partial patient.")
@click.option("--rlimit", type=RLIMIT, default=None,
              help="Z3 resource limit per question (deterministic, machine-independent).")
def flowchart(guideline_path: Path | None, patient_path: Path | None, sets: tuple[str, ...], out: Path,
              overview: bool, phase: str | None, ids: bool, history_path: Path | None, timeout: float,
              rlimit: int | None) -> int:
    """Draw the decision flowchart: the whole guideline (default), the --overview, or one
    --phase in detail; optionally with one patient's path highlighted. Exits 3 when the
    solver left parts of a partial patient's chart undecided."""
    from .diagrams.dot import overview_dot, phase_dot, to_dot
    from .diagrams.render import output_format, write_chart
    from .model.errors import Diagnostic, InputError
    from .model.files import check_output

    if overview and phase is not None:
        raise click.UsageError("--overview and --phase draw different charts: give one of them")
    if history_path is not None and (overview or phase is not None or patient_path or sets or ids):
        raise click.UsageError("--history draws the chart of a course: it takes no --overview, --phase, --patient, "
                               "--set or --ids")
    output_format(out)  # refuse a bad extension or an unusable path before any work
    g = _guideline(guideline_path)
    if history_path is not None:
        from .diagrams.course import course_dot
        from .model.course import load_history, replay

        check_output(out, [Path(g.file), history_path], "--output")
        course = replay(g, load_history(g, history_path))
        fmt = write_chart(course_dot(g, course, f"The course of {history_path.name}"), out,
                          [Path(g.file), history_path])
        click.echo(f"wrote {fmt.upper()} chart of a course of {len(course)} visits to {out}", err=True)
        return ExitCode.OK
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
    undecided = highlight is not None and highlight.undecided
    return ExitCode.INCONCLUSIVE if undecided or g.not_analysed else ExitCode.OK


def _patient(g: Guideline, patient_path: Path | None, sets: tuple[str, ...]) -> PatientInput:
    from .model.patient import PatientInput, apply_sets, load_patient_file

    p = PatientInput()
    if patient_path is not None:
        load_patient_file(g, patient_path, p)
    apply_sets(g, list(sets), p).without_value(g)
    return p


def _highlight(g: Guideline, patient_path: Path | None, sets: tuple[str, ...], timeout: float = 10.0,
               rlimit: int | None = None) -> Highlight:
    """Certain / possible / excluded parts of the chart for a complete or partial patient."""
    from .diagrams.dot import Highlight
    from .model.evaluate import run
    from .model.patient import check_constraints

    p = _patient(g, patient_path, sets)
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
@GUIDELINE_OPTION
@click.option("--patient", "-p", "patient_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Show this patient's path in the charts, and the answer.")
@click.option("--set", "-s", "sets", multiple=True, metavar="NAME=VALUE", help="Set one patient variable (repeatable).")
@click.option("--traceability", "trace_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The traceability document (Markdown tables naming ids in backticks; decisions D1, D2, ...), "
                   "e.g. docs/traceability.md: each box shows the rows that name it.")
@click.option("--output", "-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The HTML file to write. Its folder must exist; an input file is never overwritten.")
@click.option("--timeout", type=SECONDS, default=10.0, show_default=True, help="Seconds per solver question.")
@click.option("--rlimit", type=RLIMIT, default=None, help="Z3 resource limit per solver question.")
def report(guideline_path: Path | None, patient_path: Path | None, sets: tuple[str, ...], trace_path: Path | None,
           out: Path, timeout: float, rlimit: int | None) -> int:
    """Write a review report: one self-contained HTML file with the verification, every finding,
    the charts (pan, zoom, search; a box opens its text, sources, traceability, decisions and
    obligations) and the guideline as text. Exits like verify (1 refuted, 3 unknown)."""
    from .report import build_report, read_traceability
    from .model.files import check_output, write_atomic
    from .verify.checks import verify as run_checks
    from .verify.findings import Verdict

    g = _guideline(guideline_path)
    inputs = [Path(g.file)] + [x for x in (patient_path, trace_path) if x is not None]
    check_output(out, inputs, "--output")
    trace = read_traceability(trace_path) if trace_path is not None else None
    highlight, answer, code = None, "", int(ExitCode.OK)
    if patient_path is not None or sets:
        highlight = _highlight(g, patient_path, sets, timeout, rlimit)
        answer, code = _answer_text(g, _patient(g, patient_path, sets), "text", timeout, rlimit)
    findings = run_checks(g, timeout=timeout, rlimit=rlimit)
    write_atomic(out, build_report(g, findings, highlight, answer, trace).encode("utf-8"), inputs, "--output")
    click.echo(f"wrote HTML review report to {out}", err=True)
    verdicts = {f.verdict for f in findings}
    if Verdict.REFUTED in verdicts or code == ExitCode.REFUTED:
        return ExitCode.REFUTED
    return ExitCode.INCONCLUSIVE if Verdict.UNKNOWN in verdicts or code == ExitCode.INCONCLUSIVE else ExitCode.OK


@cli.command(epilog=EPILOG)
@FORMAT_OPTION
def checks(fmt: str) -> int:
    """Every code guideproof reports: the proof obligations verify runs (code, name, a failing
    and a passing example), then the input-error codes (meaning and an example)."""
    from . import views

    _emit(views.checks_json() if fmt == "json" else views.checks_text())
    return ExitCode.OK


@cli.command(epilog=EPILOG)
@click.argument("name", type=click.Choice(["guideline", "overlay", "patient", "history", "answer", "verify", "diagnostics",
                                           "variables", "checks", "course"]))
@GUIDELINE_OPTION
def schema(name: str, guideline_path: Path | None) -> int:
    """Print a JSON Schema (draft 2020-12): the guideline language, an overlay, the patient
    file or the history file of a guideline (its variables and their types), or a JSON
    output: query's answer (complete and partial alike), the answer to a history (course),
    verify's report, input errors, variables, checks."""
    import json

    from .schema import schema as get

    g = _guideline(guideline_path) if name in ("patient", "history") else None
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

    global _ONE_PROCESS_PER_RUN
    _ONE_PROCESS_PER_RUN = True
    install()
    try:
        cli(prog_name="guideproof")
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            _exit_now(e.code or 0)
        raise


def _exit_now(code: int) -> NoReturn:
    """End the console script's process with ``code`` once its output is flushed, without
    the interpreter's teardown: a large guideline, its encoding and the solvers are about
    a million objects, freed one by one at exit for nothing (0.4 s after a 5,000-branch
    verify). Every file the run wrote is closed by then (they are written inside ``with``
    blocks). A reader that has left (``| head``) is not an error, as in the commands."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader left, or the stream is closed
            pass
    os._exit(code)
