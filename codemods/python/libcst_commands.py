"""The Python codemods as LibCST codemod commands, for ``python -m libcst.tool codemod``.

    python -m libcst.tool codemod -x codemods.python.libcst_commands.HoistClientsCommand src/

Same transform as ``lambda-rewriter apply -c hoist-clients``, run LibCST's way: every file is
parsed (no text prefilter); no template and no ``[tool.lambda-rewriter]`` settings are read, so
handlers are recognised by their ``(event, context)`` shape; the tool's verification does not run.
Notes come out as LibCST warnings, ``line N: message``.
"""
from __future__ import annotations

from typing import ClassVar

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from codemods._base import Codemod, FileContext
from codemods._base import SkipFile as OurSkipFile
from codemods.python.hoist_clients import HoistClients
from codemods.python.lazy_imports import LazyImports
from codemods.python.reconnect_guards import ReconnectGuards
from codemods.python.targeted_imports import TargetedImports

__all__ = ["HoistClientsCommand", "LazyImportsCommand", "ReconnectGuardsCommand", "TargetedImportsCommand"]


class _Command(CodemodCommand):
    CODEMOD: ClassVar[type[Codemod]]

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        ctx = FileContext(self.context.filename or "<stdin>", codemod=self.CODEMOD.NAME)
        try:
            tree = self.CODEMOD().transform(tree, ctx)
        except OurSkipFile as skip:
            raise SkipFile(str(skip)) from None
        for note in ctx.notes:
            self.warn(f"line {note.line}: {note.message}")
        return tree


class HoistClientsCommand(_Command):
    DESCRIPTION = HoistClients.DESCRIPTION
    CODEMOD = HoistClients


class ReconnectGuardsCommand(_Command):
    DESCRIPTION = ReconnectGuards.DESCRIPTION
    CODEMOD = ReconnectGuards


class TargetedImportsCommand(_Command):
    DESCRIPTION = TargetedImports.DESCRIPTION
    CODEMOD = TargetedImports


class LazyImportsCommand(_Command):
    DESCRIPTION = LazyImports.DESCRIPTION
    CODEMOD = LazyImports
