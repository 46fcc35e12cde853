"""Model -> Graphviz flowchart (dot.py builds DOT text; render.py runs Graphviz)."""
