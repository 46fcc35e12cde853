"""Run mypy --strict on the installed layout of the package.

The design card puts the layers in top-level folders (model/, verify/, diagrams/) that are
installed as ``guideproof.model`` and so on; mypy cannot map a folder to another package
name, so this script lays the package out as it is installed — a tree of symbolic links in
a temporary folder — and checks it there. Exit status is mypy's.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYOUT = {"": "guideproof", "model": "model", "verify": "verify", "diagrams": "diagrams",
          "guideline": "guideline"}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="guideproof-typecheck-") as tmp:
        pkg = Path(tmp) / "guideproof"
        pkg.mkdir()
        for f in (ROOT / "guideproof").iterdir():
            if f.suffix in (".py", ".typed"):
                (pkg / f.name).symlink_to(f)
        for sub in ("model", "verify", "diagrams", "guideline"):
            (pkg / sub).symlink_to(ROOT / sub, target_is_directory=True)
        cmd = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(ROOT / ".mypy_cache"), "-p", "guideproof"]
        out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        # Report paths as they are in the repository, not in the temporary tree.
        text = (out.stdout + out.stderr).replace(str(pkg) + os.sep, "").replace("guideproof/model/", "model/")
        for layer in ("verify", "diagrams", "guideline"):
            text = text.replace(f"guideproof/{layer}/", f"{layer}/")
        sys.stdout.write(text)
        return out.returncode


if __name__ == "__main__":
    sys.exit(main())
