"""Errors the command line maps to exit codes."""

from __future__ import annotations

__all__ = ["UsageError", "CommandError"]


class UsageError(Exception):
    """Bad command-line input: one line naming the option, exit status 2, nothing written."""


class CommandError(Exception):
    """A command could not do its job (missing calibration, failed run): one line, exit status 1."""
