"""The anchor: our own hoist-clients transform, run by LibCST's runner (`python -m libcst.tool codemod`).

Same transform, LibCST's way of running it: every file is parsed, no text prefilter, no templates
(handlers are recognised by their ``(event, context)`` shape, as the tool does without a template).
The command is the public one in codemods/python/libcst_commands.py.
"""
from __future__ import annotations

from codemods.python.libcst_commands import HoistClientsCommand

__all__ = ["HoistClientsCommand"]
