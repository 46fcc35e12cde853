"""The guideline language: YAML with positions -> typed model -> Z3 terms / plain evaluation.

Data flow, one module a step::

    source.py    bytes on disk -> position-keeping YAML nodes (limits, duplicate keys, aliases)
    expr.py      condition strings -> typed expression trees (tokenizer, parser, checker)
    fields.py    declarative field tables -> checked plain values (unknown/missing keys, types)
    loader.py    YAML nodes -> Guideline records, section by section, through fields.py
    wellformed.py the whole guideline, whatever its format: ids, names, references, the graph
    graph.py     the decision graph: edges both back ends share; reachability, cycles, order
    evaluate.py  Guideline + concrete patient -> reached steps, fired branches, recommendations
    encode.py    Guideline -> Z3 terms for the same things (used by verify and partial queries)
    patient.py   patient files and --set overrides -> validated patient records
    report.py    evaluation -> the clinician's answer (grouped, explained), as plain values
"""
