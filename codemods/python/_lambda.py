"""Which functions of a module Lambda calls, one rule for every Python codemod."""
from __future__ import annotations

import libcst as cst

from codemods._base import Codemod, FileContext
from codemods.python._facts import NOT_LAMBDA, ModuleFacts, handler_like, may_be_lambda


class LambdaCodemod(Codemod):
    """A Python codemod that acts only on Lambda modules: a file that surely has none is not parsed."""

    def declines(self, data: bytes, ctx: FileContext) -> str | None:
        return None if may_be_lambda(data, ctx.entry_points) else NOT_LAMBDA


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
