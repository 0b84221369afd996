"""The anchor: our own hoist-clients transform, run by LibCST's runner (`python -m libcst.tool codemod`).

Same transform, LibCST's way of running it: every file is parsed, no text prefilter, no templates
(handlers are recognised by their ``(event, context)`` shape, as the tool does without a template).
"""
from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodCommand, SkipFile

from codemods import FileContext
from codemods import SkipFile as OurSkipFile
from codemods.python.hoist_clients import HoistClients


class HoistClientsCommand(CodemodCommand):
    DESCRIPTION = HoistClients.DESCRIPTION

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        ctx = FileContext(self.context.filename or "<stdin>")
        try:
            return HoistClients().transform(tree, ctx)
        except OurSkipFile as skip:
            raise SkipFile(str(skip)) from None
