"""Regenerate the figures in docs/ from ``logdomain compare`` on the shipped calibration.

Usage: ``python scripts/make_docs.py [--docs DIR] [--quick]`` (``make docs`` runs it). The report is
written into a temporary folder and its PNGs (:data:`logdomain.plots.FIGURES`) are copied into
``docs/``; ``--quick`` passes ``--quick`` to compare (a smoke test, not for publishing).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from logdomain.cli import main as cli
    from logdomain.plots import FIGURES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=Path, default=ROOT / "docs", help="folder the figures go to (default docs/)")
    parser.add_argument("--quick", action="store_true", help="few dies and small sweeps (smoke test)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        code = cli(["compare", "--out", str(report), *(["--quick"] if args.quick else [])])
        if code != 0:
            return code
        args.docs.mkdir(parents=True, exist_ok=True)
        for name in FIGURES:
            shutil.copyfile(report / name, args.docs / name)
            print(f"make_docs: wrote {args.docs / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
