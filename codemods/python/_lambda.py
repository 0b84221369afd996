"""Which functions of a module Lambda calls, one rule for every Python codemod.

Whether the file is Lambda code at all is decided before any codemod runs (``codemods._lambda_code``);
here, within a Lambda file, the handlers are found in the tree by the same rule.
"""
from __future__ import annotations

import libcst as cst

from codemods._base import Codemod, FileContext
from codemods._lambda_code import NOT_LAMBDA_PYTHON as NOT_LAMBDA
from codemods.python._facts import ModuleFacts, handler_like


class LambdaCodemod(Codemod[cst.Module]):
    """A Python codemod that acts only on Lambda modules (the engine runs it on nothing else)."""


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
