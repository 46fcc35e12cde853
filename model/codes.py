"""Every diagnostic code an input error can carry, in one registry: what it means and an
example of input that gets it. ``guideproof checks`` lists them after the proof obligations;
a test scans the source so a code used anywhere and missing here fails.

Codes are stable: scripts and editors match on them. Every input error is reported as
``file:line:col: error[code]: message`` with the author's line and a caret, exit 2.
"""
from __future__ import annotations

from .record import Record


class Code(Record):
    code: str
    meaning: str
    example: str


_CODES = (
    # files and YAML
    Code("file-not-found", "A guideline, patient or included file does not exist.", "guideproof verify missing.yaml"),
    Code("file-unreadable", "A file exists but cannot be read (a folder, no permission).", "guideproof verify /root/"),
    Code("file-too-large", "A file is larger than the input cap (64 MiB unless --max-input-mb says otherwise).",
         "a 70 MB guideline"),
    Code("not-text", "A file is not UTF-8 text (binary, NUL bytes).", "guideproof verify picture.png"),
    Code("control-character", "A control character in YAML text, written or as an escape.", 'title: "A\\u0007B"'),
    Code("yaml-syntax", "The YAML does not parse.", "title: Check: x"),
    # DMN decision models (guideproof verify model.dmn)
    Code("xml-syntax", "A DMN file is not well-formed XML (the position is where the parser stopped).",
         "<rule><inputEntry></rule>"),
    Code("xml-doctype", "A DMN file declares a DOCTYPE: entity declarations, entity expansion and external entities are refused.",
         '<!DOCTYPE d [<!ENTITY a "aaaa">]>'),
    Code("dmn-structure", "A DMN file lacks what a decision model needs: a <definitions> root in a DMN 1.1-1.5 namespace, "
         "an input expression, an output, as many entries in a rule as the table has columns, a known hit policy.",
         "a rule with two input entries in a table of three inputs"),
    Code("dmn-type", "A DMN table cell tests a value of another type than its input column has.",
         'a cell "High" under a number input'),
    Code("dmn-value", "A DMN table cell tests a string that is not among the input's allowed values, or a rule "
         "gives an output not among the output values.",
         'a cell "Sommer" under an input with allowed values "Summer", "Winter"'),
    Code("duplicate-key", "A key appears twice in one mapping, or an overlay amends a field the base already has.",
         "age: {...} given twice under variables"),
    Code("merge-key", "YAML merge keys (<<) are not allowed: every field is written where it applies.", "sick: {<<: *base}"),
    Code("recursive-alias", "An alias refers to a node that contains it.", "extra: &x [*x]"),
    Code("bad-key", "A mapping key that is not a name or a whole number (a decimal, null, a list).", "1.5: x"),
    Code("bad-option", "An option given to the reader is out of range (for example --max-input-mb).",
         "guideproof --max-input-mb 0 verify"),
    Code("config", "The configuration ([tool.guideproof] in pyproject.toml, or guideproof.toml) is not valid TOML, "
                   "has an unknown key, or a value of the wrong type.", "[tool.guideproof] timout = 3"),
    Code("number-too-large", "A number has more than 100 digits.", "age >= 1000...0 (101 digits)"),
    # the shape of a guideline
    Code("unknown-key", "A key the language does not have (with a did-you-mean), or an unknown overlay section.",
         "variables: {age: {type: int, colour: red}}"),
    Code("missing-key", "A required key is missing.", "a variable without question"),
    Code("wrong-type", "A value of the wrong kind: text where a list is expected, an unknown choice, a malformed value.",
         "choice: several"),
    Code("unsupported-version", "The file declares a language version this guideproof does not read.", "guideproof: 2"),
    Code("bad-name", "An id or name is not ASCII letters, digits and '_' starting with a letter, or is a keyword.",
         "Treat-It: {...} under recommendations"),
    Code("bad-domain", "An empty or inverted domain: min above max, an enum without values, a timing that ends before it starts.",
         "age: {type: int, min: 200, max: 110, ...}"),
    Code("duplicate-value", "A value listed twice in an enum or set.", "values: [early, early]"),
    Code("duplicate-id", "An id used twice in a section, or an overlay adding an id the base already has.",
         "two constraints with id: scope"),
    Code("duplicate-name", "A name is both a variable and a definition.", "age declared under variables and definitions"),
    Code("ambiguous-name", "An enum value is also the name of a variable or definition.", "values: [early, sick] beside a variable sick"),
    Code("missing-citation", "A recommendation, safety rule or safety addition cites no source.", "sources: []"),
    Code("unknown-reference", "A reference to an undeclared step, recommendation, source, category, strength or phase.",
         "goto: do_treet"),
    Code("cycle", "Definitions use each other in a circle, or the decision graph loops or returns to its start.",
         "old: young and ...; young: not old"),
    Code("unreferenced-step", "A step no path from the start reaches.", "a step nothing goes to"),
    Code("unreferenced-recommendation", "A recommendation no step recommends.", "a recommendation never listed under recommend"),
    Code("bad-over-time", "A variable's over_time rule that its type cannot follow (a clock that is not a duration in "
                          "days or weeks, an optional fact that grows), advances_while without a clock, or a "
                          "recommendation that records a fixed fact.", "age: {type: int, over_time: clock, ...}"),
    Code("include-unreadable", "An included overlay cannot be read.", "include: [nowhere.yaml]"),
    # conditions
    Code("expr-syntax", "A condition does not parse.", "when: sick and )"),
    Code("too-deep", "A condition nests deeper than 64 levels; split it into definitions.", "a sum of 70 terms"),
    Code("unknown-name", "A name in a condition is not a variable or definition (with a did-you-mean).", "agee >= 65"),
    Code("unknown-value", "An enum or set value that the variable does not have.", "stage == middle"),
    Code("type-error", "Operands of the wrong type: a number where a condition is expected, recommends() outside an invariant, ...",
         "when: sick and age"),
    Code("value-out-of-domain", "A variable compared with a literal outside its declared range.", "age >= 300"),
    Code("zero-divisor", "A divisor that is zero for some valid patient (with that patient), or a literal zero.",
         "age / (age - 65) > 1"),
    Code("unguarded-optional", "An optional value read where no known(...) test guards it.", "ttr < 65 with ttr optional"),
    Code("unit-mismatch", "A duration mixed with a bare number, or a patient duration that is not a whole number of its unit.",
         "weeks_since_fracture >= 6 (write 6 weeks)"),
    Code("unit-undeclared", "Months used without the guideline's durations rule.", "weeks_since_fracture > 3 months"),
    # patients and options
    Code("unknown-variable", "A patient file or --set names a variable the guideline does not have.", "--set agee=72"),
    Code("out-of-range", "A patient value outside the variable's declared range.", "age: 172"),
    Code("bad-assignment", "A --set that is not NAME=VALUE.", "--set age"),
    Code("missing-variable", "--require-complete and the patient leaves required variables unknown.", "query --require-complete"),
    Code("constraint-violated", "The patient's facts break a domain constraint of the guideline.",
         "weeks_conservative_care: 9 with weeks_since_fracture: 2"),
    Code("unknown-phase", "flowchart --phase names a phase the guideline does not declare.", "flowchart --phase imagng -o c.svg"),
    Code("bad-traceability", "report --traceability names a file with no Markdown table in it.",
         "report --traceability notes.txt -o review.html"),
    # histories (query --history)
    Code("history-order", "The visits of a history file are not in increasing order of week.",
         "visits: [{week: 4, ...}, {week: 2, ...}]"),
    Code("history-change", "A visit states a fact that breaks how the guideline says it changes between visits: a fixed "
                           "fact changed, a growing one decreased, a clock that did not advance with the weeks.",
         "age: 72 at week 0, age: 60 at week 4"),
    Code("history-unknown", "A history names a recommendation the guideline does not have (declined: [...]), or a "
                            "declined recommendation the previous visit did not give.", "declined: [mri_scan]"),
    # comparing versions (diff)
    Code("git-unreadable", "A git:REV:path that git cannot read: git missing, no repository, an unknown revision, "
                           "a path the revision lacks, or a folder.", "guideproof diff git:HEAD~1:missing.yaml g.yaml"),
    Code("bad-rename", "A --rename that is not OLD=NEW, names an id neither version has, or makes two ids one.",
         "guideproof diff old.yaml new.yaml --rename agee=age_years"),
    Code("unknown-recommendation", "--only names a recommendation neither version has.",
         "guideproof diff old.yaml new.yaml --only no_such_rec"),
    Code("incompatible-versions", "A variable both versions declare changed its kind or unit, so no patient is in "
                                  "both versions' terms.", "urgent: {type: bool} in OLD, {type: enum, ...} in NEW"),
    # health records (query --fhir)
    Code("fhir-invalid", "A --fhir file that is not a valid FHIR R4 Bundle in JSON; the message names the JSON path.",
         "Bundle.entry[0].resource.status (Observation/x): not valid FHIR R4: Field required"),
    Code("fhir-unit", "An observation in a unit that neither the binding's unit nor its declared conversion covers.",
         "creatinine in mmol/L for a binding in mg/dL with convert: creatinine"),
    Code("fhir-conflict", "Two resources give one fact different values (two latest observations on one date, "
                          "a condition both active and resolved), or a bundle has two Patients.",
         "creatinine 1.0 and 2.0 mg/dL both on 2026-05-20"),
    Code("fhir-value", "A value read from the record that the variable cannot take, or a date after the visit date.",
         "a systolic pressure of 130.5 for an int variable; a fracture onset after --at"),
    # outputs
    Code("bad-output", "An output path that cannot be written (an unwritable folder, a path under a file, an unknown format).",
         "flowchart -o /proc/x.svg"),
    Code("output-is-input", "An output path that is one of the inputs: it would overwrite what the user wrote.",
         "flowchart -g g.dot -o g.dot"),
    Code("graphviz-missing", "Rendering needs Graphviz's dot, which is not installed.", "flowchart -o chart.svg without dot"),
)

#: code -> its entry, in the order above (files, shape, conditions, patients, outputs)
CODES: dict[str, Code] = {c.code: c for c in _CODES}
