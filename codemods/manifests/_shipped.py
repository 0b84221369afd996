"""What ships with a Python function, for slimming its requirements.txt: read from disk, read-only, bounded.

A requirement may leave only when nothing that ships with the function imports it. So this reads:
- whose manifest it is: the folder a template's function names as its CodeUri, or the folder that holds a
  handler; never the repository root, nor a test, CI, docs or scripts folder (their requirements serve tools);
- the modules that ship: the folder's own, and the local modules they import, followed out of the folder into
  sibling packages, `lib/` folders and layers (the template's, and `*/python/` layer folders);
- what it cannot see: a build script that copies files into the package, a module that does not parse, an import
  whose name is computed, an import of a module found neither here nor among the requirements. Each is a doubt,
  and a doubt keeps every requirement.
Nothing found here is executed or imported; templates are read as data.
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import glob
import os
import re
import sys
from typing import TypeGuard
from pathlib import Path

import yaml

from codemods.manifests._scan import MAX_BYTES, MAX_FILES, TEST_DIRS, source_files
from rewriter.discovery import SERVERLESS_NAMES, SKIPPED_DIRS, TEMPLATE_NAMES, load_template, as_mapping, module_of

# Folders whose requirements serve tests, CI or docs, never a deployed function.
NOT_FUNCTION_DIRS = TEST_DIRS | {
    "e2e", "integration_tests", "integration-tests", "load_tests", "load-tests", "loadtest", "locust",
    "ci", ".ci", ".github", ".gitlab", ".circleci", ".buildkite", "docs", "doc",
}
# Folders that usually hold scripts, unless a template names them as a function's code (Bedrock agent `tools/`).
SCRIPT_DIRS = frozenset({"scripts", "bin", "notebooks", "benchmark", "benchmarks", "perf"})
# Files that build a package, and the signs that they copy files into it.
_BUILD_FILE = re.compile(r"^(?:[Mm]akefile|GNUmakefile|.*\.mk|.*\.sh|.*\.bash|Dockerfile.*|.*\.[Dd]ockerfile|"
                         r"buildspec.*\.ya?ml|Jenkinsfile|azure-pipelines.*\.ya?ml|\.gitlab-ci\.ya?ml|build\.py)$")
_SHELL_COPY = re.compile(r"(?<![\w.-])(?:cp|rsync|ditto)\s+|shutil\.copy|copytree|copy_tree|CopyFiles")
_S3_COPY = re.compile(r"\bs3\s+(?:cp|sync)\b")
_DOCKER_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(.*)$", re.I)
_FIRST_PARAMS = frozenset({"e", "evt", "_e", "_event"})


@dataclasses.dataclass(frozen=True)
class Shipped:
    owner: str | None  # whose manifest this is ("`Orders` in template.yaml"); None: no function's
    refusal: str | None  # why it is no function's manifest, when it is not
    files: int  # modules read (the function's own and those followed out of its folder)
    imports: frozenset[str]  # top-level modules imported by what ships, local ones left out
    dotted: frozenset[str]  # every dotted name imported (`a.b`, `a.b.name`), for what a feature needs at run time
    words: frozenset[str]  # identifiers in string constants: `postgresql+psycopg2://`, `import_module("x")`
    unresolved: dict[str, str]  # top-level module -> where it is imported, found neither here nor in the stdlib
    doubts: tuple[str, ...]  # what this reading cannot see, each a reason to keep every requirement
    followed: tuple[str, ...] = ()  # local modules outside the function's folder that it imports


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def handler_like(node: ast.AST) -> TypeGuard[ast.FunctionDef | ast.AsyncFunctionDef]:
    """``def handler(event, context)`` and its variants (``evt, ctx``, ``event, _``, extra parameters with
    defaults, as in ``handler(event, context=None, debug=False)``): how Lambda calls a handler, two arguments."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    params = [*node.args.posonlyargs, *node.args.args]
    if len(params) < 2 or len(params) - len(node.args.defaults) > 2:
        return False
    first, second = params[0].arg.lower(), params[1].arg.lower()
    return ("event" in first or first in _FIRST_PARAMS) and ("context" in second or "ctx" in second
                                                              or second.startswith("_"))


@dataclasses.dataclass(frozen=True)
class _Function:
    name: str
    template: Path
    folder: Path
    handler: Path | None
    layers: tuple[Path, ...]
    runtime: str
    docker_context: Path | None = None  # an image function's: what its Dockerfile's COPY sources are relative to


def _template_functions(template: Path) -> tuple[_Function, ...]:
    try:
        stat = template.stat()
    except OSError:
        return ()
    return _declared(template, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=256)
def _declared(template: Path, size: int, mtime_ns: int) -> tuple[_Function, ...]:
    """The functions a template declares; one reading per version of it (every manifest below it asks)."""
    try:
        data = load_template(template)
    except (OSError, ValueError, yaml.YAMLError):  # a template that does not read names nothing here
        return ()
    return tuple(_functions(template, data))


def _functions(template: Path, data: dict) -> list[_Function]:
    base = template.parent
    found: list[_Function] = []
    if template.name in SERVERLESS_NAMES:
        runtime = str(as_mapping(data.get("provider")).get("runtime", "python"))
        layers = tuple(base / str(as_mapping(layer).get("path")) for layer in as_mapping(data.get("layers")).values()
                       if isinstance(as_mapping(layer).get("path"), str))
        for name, function in as_mapping(data.get("functions")).items():
            function = as_mapping(function)
            handler = function.get("handler")
            if isinstance(handler, str):
                module = next(iter(module_of(base, handler, str(function.get("runtime", runtime)))), None)
                found.append(_Function(str(name), template, base, module[0] if module else None, layers,
                                       str(function.get("runtime", runtime))))
        return found
    resources = as_mapping(data.get("Resources"))
    layer_folders = {}
    for name, resource in resources.items():
        resource = as_mapping(resource)
        properties = as_mapping(resource.get("Properties"))
        content = {"AWS::Serverless::LayerVersion": properties.get("ContentUri"),
                   "AWS::Lambda::LayerVersion": properties.get("Content")}.get(str(resource.get("Type")))
        if isinstance(content, str) and "://" not in content:
            layer_folders[str(name)] = Path(os.path.normpath(base / content))
    globals_ = as_mapping(as_mapping(data.get("Globals")).get("Function"))
    for name, resource in resources.items():
        resource = as_mapping(resource)
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        properties = {**globals_, **as_mapping(resource.get("Properties"))}
        handler, runtime = properties.get("Handler"), str(properties.get("Runtime", "python"))
        if properties.get("PackageType") == "Image":
            # an image is built from its Dockerfile, whose folder holds the requirements.txt it installs
            metadata = as_mapping(resource.get("Metadata"))
            context, dockerfile = metadata.get("DockerContext", "."), metadata.get("Dockerfile", "Dockerfile")
            if isinstance(context, str) and isinstance(dockerfile, str):
                folder = Path(os.path.normpath(base / context / dockerfile)).parent
                found.append(_Function(str(name), template, folder, None, (), runtime,
                                       Path(os.path.normpath(base / context))))
            continue
        code = properties.get("CodeUri", properties.get("Code", "."))
        if not isinstance(code, str) or "://" in code:
            continue
        folder = Path(os.path.normpath(base / code))
        module = next(iter(module_of(folder, handler, runtime)), None) if isinstance(handler, str) else None
        listed = properties.get("Layers")
        refs = listed if isinstance(listed, list) else []
        # `!Ref Name` reads as "Name"; `!GetAtt Name.Arn` as "Name.Arn"
        layers = tuple(layer_folders[str(ref).split(".")[0]] for ref in refs if str(ref).split(".")[0] in layer_folders)
        found.append(_Function(str(name), template, folder, module[0] if module else None, layers, runtime))
    return found


def _owner(folder: Path, root: Path) -> tuple[_Function | None, list[str]]:
    """The template function whose code this folder is (its CodeUri, or the folder of its handler module), its
    layers, and the templates above that declare Python functions (when none is this folder's, it is no function's)."""
    declaring: list[str] = []
    for above in [folder, *folder.parents]:
        if not _within(above, root):
            break
        for name in TEMPLATE_NAMES + SERVERLESS_NAMES:
            template = above / name
            if not template.is_file() or template.is_symlink():
                continue
            functions = [f for f in _template_functions(template) if f.runtime.startswith("python")]
            if functions:
                declaring.append(template.relative_to(root).as_posix())
            for function in functions:
                if function.folder == folder or (function.handler is not None and function.handler.parent == folder):
                    return function, declaring
    return None, declaring


def _refusal(folder: Path, root: Path, owned: bool) -> str | None:
    if folder == root:
        return ("it is at the repository root, where requirements also serve scripts, CI and dev tools; only a "
                "function's own folder (a template's CodeUri, or the folder of a handler) is slimmed")
    for part in folder.relative_to(root).parts:
        if part.lower() in NOT_FUNCTION_DIRS or (part.lower() in SCRIPT_DIRS and not owned):
            return f"it is under {part}/, whose requirements serve tests, CI, docs or scripts, not a deployed function"
    return None


def build_copies(folder: Path, root: Path, docker_context: Path | None = None) -> list[str]:
    """Where a build script of this folder or one above it copies files in (`cp`, `rsync`, a Dockerfile COPY of
    something outside the function's folder): the package may then hold modules this reading never sees."""
    found: list[str] = []
    places = [f for f in [folder, *folder.parents] if _within(f, root)]
    for place in places:
        try:
            names = sorted(os.listdir(place))
        except OSError:
            continue
        candidates = [place / n for n in names if _BUILD_FILE.match(n)]
        if place == root and (place / ".github" / "workflows").is_dir():
            candidates += sorted((place / ".github" / "workflows").glob("*.y*ml"))
        for path in candidates:
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_BYTES:
                    continue
                text = path.read_text("utf-8", "replace")
            except OSError:
                found.append(f"{path.relative_to(root).as_posix()} (unreadable)")
                continue
            docker = "dockerfile" in path.name.lower()
            for number, line in enumerate(text.splitlines(), 1):
                if docker:
                    context = docker_context if docker_context is not None and place == folder else path.parent
                    copied = _docker_copies_in(line, context, folder)
                else:
                    copied = bool(_SHELL_COPY.search(line)) and not _S3_COPY.search(line)
                if copied:
                    found.append(f"{path.relative_to(root).as_posix()} line {number}")
                    break
    return found


def _docker_copies_in(line: str, context: Path, folder: Path) -> bool:
    match = _DOCKER_COPY.match(line)
    if match is None:
        return False
    words = [w for w in match.group(1).split() if not w.startswith("--")]
    if "--from" in match.group(1) or len(words) < 2:
        return False  # a multi-stage copy moves what an earlier stage built, not the repository's files
    for source in words[:-1]:
        source = source.strip("[]\",")
        if source.endswith((".txt", ".toml", ".cfg", ".json", ".lock", ".md")):
            continue
        copied = Path(os.path.normpath(context / source))
        if not _within(copied, folder):
            return True
        if not glob.glob(glob.escape(str(copied.parent)) + "/" + copied.name) and copied != folder:
            return True  # not there: the build context is elsewhere, so what it copies is not known
    return False


def read(manifest: Path, root: Path) -> Shipped:
    folder = manifest.parent
    function, declaring = _owner(folder, root) if folder != root else (None, [])
    owner = f"`{function.name}` in {function.template.relative_to(root).as_posix()}" if function else None
    layers = function.layers if function else ()
    refusal = _refusal(folder, root, owner is not None)
    if refusal is None and owner is None and declaring:
        refusal = f"{', '.join(declaring)} names no function whose code is in this folder"
    if refusal:
        return Shipped(None, refusal, 0, frozenset(), frozenset(), frozenset(), {}, ())
    reader = _Reader(folder, root, layers)
    reader.read_function()
    if owner is None and reader.handler:
        owner = f"`{reader.handler}`"
    if owner is None:
        return Shipped(None, "no template names this folder and no module here defines an (event, context) handler, "
                             "so these are not a Lambda function's requirements", reader.count, frozenset(),
                       frozenset(), frozenset(), {}, ())
    copies = build_copies(folder, root, function.docker_context if function else None)
    doubts = [f"{place} copies files into the package, which may import it" for place in copies]
    found = reader.local | reader.elsewhere
    return Shipped(owner, None, reader.count, frozenset(reader.imports - reader.local), frozenset(reader.dotted),
                   frozenset(reader.words), {k: v for k, v in reader.unresolved.items() if k not in found},
                   tuple(doubts + reader.doubts), tuple(sorted(reader.followed)))


def _in_package(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a module of ``folder`` itself or of a package below it (what a handler path can name)."""
    between = path.parent
    while between != folder:
        if not (between / "__init__.py").is_file():
            return False
        between = between.parent
    return True


class _Reader:
    """The function's modules, then the local modules they import, each read once."""

    def __init__(self, folder: Path, root: Path, layers: tuple[Path, ...]) -> None:
        self.folder, self.root, self.layers = folder, root, layers
        self.count = 0
        self.seen: set[Path] = set()
        self.imports: set[str] = set()
        self.dotted: set[str] = set()
        self.words: set[str] = set()
        self.unresolved: dict[str, str] = {}
        self.doubts: list[str] = []
        self.followed: set[str] = set()
        self.local: set[str] = set()  # modules of the function's own folder
        self.elsewhere: set[str] = set()  # local modules found outside it
        self.handler: str | None = None
        self.queue: list[Path] = []
        self.found: dict[tuple[str, Path | None], Path | None] = {}

    def read_function(self) -> None:
        files = source_files(self.folder, (".py",))
        self.local = {p.stem for p in files} | {p.parent.name for p in files if p.name == "__init__.py"}
        self.local |= {p.relative_to(self.folder).parts[0] for p in files if len(p.relative_to(self.folder).parts) > 1}
        self.queue = list(files)
        while self.queue and self.count < MAX_FILES:
            path = self.queue.pop(0)
            if path not in self.seen:
                self.seen.add(path)
                self._read(path)

    def _where(self, path: Path, node: ast.AST) -> str:
        return f"{path.relative_to(self.root).as_posix()} line {getattr(node, 'lineno', 1)}"

    def _read(self, path: Path) -> None:
        self.count += 1
        try:
            tree = ast.parse(path.read_bytes(), str(path))
        except (SyntaxError, ValueError, OSError):
            self.doubts.append(f"{path.relative_to(self.root).as_posix()} does not parse, so what it imports is "
                               "not known")
            return
        if self.handler is None and _within(path, self.folder) and _in_package(path, self.folder):
            handler = next((node for node in tree.body if handler_like(node)), None)
            if handler is not None:
                self.handler = f"{handler.name}` in `{path.relative_to(self.folder).as_posix()}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.dotted.add(alias.name)
                    self._absolute(alias.name.split(".")[0], path, node)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    self._relative(node, path)
                elif node.module:
                    self.dotted.add(node.module)
                    self.dotted.update(f"{node.module}.{alias.name}" for alias in node.names)
                    self._absolute(node.module.split(".")[0], path, node)
            elif isinstance(node, ast.Call) and _call_name(node) in ("import_module", "__import__"):
                argument = node.args[0] if node.args else None
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    self.dotted.add(argument.value)
                    if not argument.value.startswith("."):
                        self._absolute(argument.value.split(".")[0], path, node)
                else:
                    self.doubts.append(f"{self._where(path, node)} imports a module whose name is computed")
            elif isinstance(node, ast.Call) and _call_name(node) in ("append", "insert", "extend") and \
                    isinstance(node.func, ast.Attribute) and _dotted(node.func.value) == "sys.path":
                self.doubts.append(f"{self._where(path, node)} adds to sys.path, so modules may come from elsewhere")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                self.words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value))

    def _absolute(self, name: str, path: Path, node: ast.AST) -> None:
        self.imports.add(name)
        if name in self.local or name in self.elsewhere or name == "__future__" or name in sys.stdlib_module_names:
            return
        if _within(path, self.folder) and ((self.folder / f"{name}.py").is_file() or (self.folder / name).is_dir()):
            self.local.add(name)
            return
        found = self._find(name, path)
        if found is None:
            self.unresolved.setdefault(name, self._where(path, node))
            return
        # found outside the folder: it may not ship under that name, so a requirement of that name stays
        self.elsewhere.add(name)
        self._follow(found)

    def _relative(self, node: ast.ImportFrom, path: Path) -> None:
        base = path.parent
        for _ in range(node.level - 1):
            base = base.parent
        if not _within(base, self.root):
            self.doubts.append(f"{self._where(path, node)} imports from above the repository")
            return
        targets = [base.joinpath(*node.module.split("."))] if node.module else \
            [base / alias.name for alias in node.names]
        if node.module is None:
            targets = [t for t in targets if t.with_suffix(".py").is_file() or t.is_dir()] or [base]
        for target in targets:
            module = target.with_suffix(".py") if target.with_suffix(".py").is_file() else target
            if _within(module, self.folder):
                continue  # the function's own modules are read anyway
            if not module.exists():
                self.doubts.append(f"{self._where(path, node)} imports a module outside the function's folder that "
                                   "is not there (made by the build?)")
                continue
            self._follow(module)

    def _find(self, name: str, importer: Path) -> Path | None:
        """A local module or package ``name``: beside the importer (when followed), in a layer, or in a folder
        above the function's (a sibling package, a `lib/` folder, a `*/python/` layer folder)."""
        beside = None if _within(importer, self.folder) else importer.parent
        if (name, beside) not in self.found:
            try:
                self.found[name, beside] = self._search(name, beside)
            except OSError:  # a folder that cannot be listed: what it holds is not known
                self.doubts.append(f"looking for `{name}` met a folder that cannot be read")
                self.found[name, beside] = None
        return self.found[name, beside]

    def _search(self, name: str, beside: Path | None) -> Path | None:
        roots: list[Path] = [beside] if beside is not None else []
        for layer in self.layers:
            roots += [layer, layer / "python"]
        for above in self.folder.parents:
            if not _within(above, self.root):
                break
            roots += [above, above / "lib", above / "src"]
            roots += sorted(above / d / "python" for d in os.listdir(above)
                            if d not in SKIPPED_DIRS and (above / d / "python").is_dir())
        for base in roots:
            if base.name in SKIPPED_DIRS:
                continue
            if (base / f"{name}.py").is_file():
                return base / f"{name}.py"
            package = base / name
            if package.is_dir() and not package.is_symlink() and package != self.folder and \
                    package.name not in SKIPPED_DIRS and any(package.glob("*.py")):
                return package
        return None

    def _follow(self, module: Path) -> None:
        if module.is_symlink() or not _within(module, self.root):
            return
        files = [module] if module.is_file() else source_files(module, (".py",))
        self.followed.add(module.relative_to(self.root).as_posix())
        self.queue += [f for f in files if f not in self.seen]


def _call_name(node: ast.Call) -> str:
    return getattr(node.func, "attr", getattr(node.func, "id", ""))


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""
