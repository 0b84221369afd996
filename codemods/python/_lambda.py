"""Which functions of a module Lambda calls: the rule hoist-clients applies, for the codemods after it."""
from __future__ import annotations

import libcst as cst

from codemods._base import FileContext
from codemods.python._facts import NOT_LAMBDA, ModuleFacts, handler_like


def entry_points(facts: ModuleFacts, ctx: FileContext) -> list[cst.FunctionDef]:
    """The template's handlers when it names any here, else the ``(event, context)`` functions."""
    functions = facts.functions
    if ctx.entry_points is not None:
        found = [fn for fn in functions if fn.name.value in ctx.entry_points]
        if found:
            return found
    return [fn for fn in functions if handler_like(fn)]


def note_not_lambda(ctx: FileContext) -> None:
    """Say once per file, whichever codemod says it first, that the file is not Lambda code."""
    if not any(note.message == NOT_LAMBDA for note in ctx.notes):
        ctx.note(1, NOT_LAMBDA)
