"""Figures written by commands: checked before anything runs, saved atomically."""

from __future__ import annotations

import argparse

from .._io import write_atomic
from .._validate import check_output_file

__all__ = ["check_plot", "save_figure"]


def check_plot(args: argparse.Namespace) -> None:
    """Refuse a bad ``--plot`` before anything runs."""
    if getattr(args, "plot", None):
        check_output_file(args.plot, "--plot", (".png",))


def save_figure(fig, path: str) -> None:
    """Write a matplotlib figure to ``path`` (PNG, 120 dpi) atomically: nothing half-written if saving fails."""
    target = check_output_file(path, "--plot", (".png",))
    write_atomic(target, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
