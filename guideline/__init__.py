"""The shipped guidelines (data, no code): this module only says where they are."""
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The default guideline of every command.
SHIPPED = HERE / "l1_l2_compression_fracture.yaml"
#: Example patients on distinct pathways, used by the README, the demo and the tests.
EXAMPLES = HERE / "examples"
#: Example courses of care (history files for ``query --history``).
HISTORIES = HERE / "histories"
