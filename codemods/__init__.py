"""The AWS Lambda knowledge: codemods are pure tree -> tree transforms, with no I/O and no git."""
from codemods._base import Change, Codemod, FileContext, Note, SkipFile
from codemods._registry import all_codemods, select

__all__ = ["Change", "Codemod", "FileContext", "Note", "SkipFile", "all_codemods", "select"]
