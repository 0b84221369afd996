"""What every codemod is: a name, a one-line description, text markers and a tree -> tree transform."""
from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from codemods._lambda_code import LambdaCode

if TYPE_CHECKING:
    from codemods.javascript._project import JsProject
    from codemods.python._test_patches import PyTests

TreeT = TypeVar("TreeT")  # what a language's parser gives (rewriter/languages.py): cst.Module, SourceTree, ...


@dataclasses.dataclass(frozen=True)
class Change:
    codemod: str
    line: int
    message: str


@dataclasses.dataclass(frozen=True)
class Note:
    codemod: str
    line: int
    message: str


class SkipFile(Exception):
    """Raised by a codemod that declines a whole file; the message is the reason."""


@dataclasses.dataclass(frozen=True)
class ClientSpec:
    """An in-house function that builds a client the way ``boto3.client`` does (setting ``clients``)."""

    qualname: str
    cache_keys: tuple[str, ...] = ()  # keyword arguments that may vary: the client goes behind a cache
    service_arg: tuple[int, str] | None = (0, "")  # the argument that names the module-level variable


@dataclasses.dataclass(frozen=True)
class ReconnectSpec:
    """An in-house function that opens a database connection like driver ``like`` (setting ``reconnect``)."""

    qualname: str
    like: str  # a driver of catalog.LIVENESS: its check, error and `with` behaviour unless given here
    error: str | None = None  # dotted name of the exception the check raises on a dead connection
    check: tuple[str, ...] = ()  # statements on ``{conn}``
    with_exit: str | None = None  # a catalog.WithExit value


@dataclasses.dataclass(frozen=True)
class Options:
    """What a repository's configuration adds to the catalogue; frozen and hashable, it travels to workers."""

    clients: tuple[ClientSpec, ...] = ()
    reconnect: tuple[ReconnectSpec, ...] = ()
    # Where hoisted clients are built (setting ``init``): "auto" picks per construction, "eager" builds
    # each at module scope, "lazy" behind a cached factory called on first use.
    init: str = "auto"
    # sdk-v3: the Node.js runtime templates move the functions whose code is on v3 to (setting ``runtime``,
    # `--runtime`); None leaves every Runtime as it is.
    runtime: str | None = None

    def mentioned_in(self, data: bytes) -> bool:
        """Whether ``data`` names a package of an added constructor: a cheap prefilter like MARKERS."""
        specs: tuple[ClientSpec | ReconnectSpec, ...] = (*self.clients, *self.reconnect)
        return any(spec.qualname.split(".")[0].encode() in data for spec in specs)


NO_OPTIONS = Options()


@dataclasses.dataclass(frozen=True)
class FunctionTraits:
    """How a template deploys the functions whose handler is in a file (any one of them, when there are several)."""

    snap_start: bool = False  # `SnapStart: ApplyOn: PublishedVersions`: init runs once, then restores from a snapshot
    managed_instances: bool = False  # `CapacityProviderConfig`: one environment serves requests concurrently


NO_TRAITS = FunctionTraits()


@dataclasses.dataclass
class FileContext:
    """What a codemod may know about the file it rewrites; it records its decisions here."""

    path: str
    # Handler function names that a template (SAM, Serverless) maps to this file, or None when no
    # template names the file and the codemod must recognise a handler itself.
    entry_points: frozenset[str] | None = None
    # Where the file is on disk: only for the codemods that must read its neighbours (a manifest's sources).
    location: str | None = None
    changes: list[Change] = dataclasses.field(default_factory=list)
    notes: list[Note] = dataclasses.field(default_factory=list)
    codemod: str = ""
    # The codemods that run on this file in this run: a note pointing at one of them is noise.
    running: frozenset[str] = frozenset()
    options: Options = NO_OPTIONS
    # A JavaScript/TypeScript file's tsconfig settings and test mocks (codemods/javascript/_project.py), a Python
    # file's tests' patches (codemods/python/_test_patches.py), or None.
    project: JsProject | PyTests | None = None
    traits: FunctionTraits = NO_TRAITS
    # The engine's decision that the file is Lambda code (codemods run on no other file); None when a
    # codemod runs on its own (fixtures, LibCST's runner) and finds handlers in the tree by itself.
    lambda_code: LambdaCode | None = None
    # False in verification's second pass: only the tree it gives back is compared, its findings are dropped,
    # so the lines they would carry need not be worked out (a print of the whole module).
    lines_read: bool = True

    def change(self, line: int, message: str) -> None:
        self.changes.append(Change(self.codemod, line, message))

    def note(self, line: int, message: str) -> None:
        self.notes.append(Note(self.codemod, line, message))


class Codemod(abc.ABC, Generic[TreeT]):
    """One codemod for the languages in ``LANGUAGES``, which all parse to a ``TreeT``."""

    NAME: ClassVar[str]
    DESCRIPTION: ClassVar[str]
    LANGUAGES: ClassVar[tuple[str, ...]]  # names of rewriter/languages.py's LANGUAGES
    # A file that contains none of these substrings is never parsed for this codemod.
    MARKERS: ClassVar[tuple[bytes, ...]]

    def wants(self, data: bytes) -> bool:
        return any(marker in data for marker in self.MARKERS)

    def declines(self, data: bytes, ctx: FileContext) -> str | None:
        """A reason to leave the file alone without parsing it (the engine records it as a note)."""
        return None

    @abc.abstractmethod
    def transform(self, tree: TreeT, ctx: FileContext) -> TreeT:
        """The tree rewritten; each change and each thing left alone, with why, recorded through ``ctx``."""
