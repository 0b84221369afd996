"""Fuzzing the whole pipeline: generated Lambda modules go through ``engine.process_file``.

Properties: no internal error; every changed output re-parses, compiles and is stable under a second
run; module-level code the tool adds reads only names bound above it; a handler never reads a name
that the rewrite left undefined; the result keeps the file's conventions; a file that is not changed
is neither rewritten nor given an ``after``; a module without a handler is never changed.

The normal suite runs a small derandomized set. ``FUZZ_EXAMPLES=1000`` (``make fuzz``) runs a
random set of that size.
"""
from __future__ import annotations

import ast
import builtins
import os
import tempfile
from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from rewriter.engine import FileJob, FileResult, Status, process_file
from rewriter.verify import line_endings
from strategies import lambda_modules

_FUZZ = int(os.environ.get("FUZZ_EXAMPLES", "0"))
settings.register_profile(
    "suite",
    max_examples=50,
    derandomize=True,
    deadline=None,
    database=None,
    # Shrinking a failure can take minutes; the suite reports the example as drawn (`make fuzz` shrinks).
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=max(_FUZZ, 1),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_PROFILE = settings.get_profile("fuzz" if _FUZZ else "suite")

_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__builtins__"}
_OLD_MTIME = 1_000_000_000


def _run(data: bytes, entry_points: frozenset[str] | None = None, name: str = "app.py") -> FileResult:
    """process_file on a real file; it must leave the file exactly as it was."""
    with tempfile.TemporaryDirectory() as root:
        path = Path(root, name)
        path.write_bytes(data)
        os.utime(path, ns=(_OLD_MTIME, _OLD_MTIME))
        result = process_file(FileJob(str(path), name, root, entry_points), ())
        assert path.read_bytes() == data
        assert path.stat().st_mtime_ns == _OLD_MTIME
    return result


def _top_level_bound(stmt: ast.stmt) -> set[str]:
    """Names a module-level statement binds when it runs (not those of the function bodies it defines)."""
    bound: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            if node is not stmt:
                continue
            stack.extend(node.decorator_list)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return bound


def _read_now(stmt: ast.stmt) -> set[str]:
    """Names a module-level statement reads while it runs (not what its function bodies read later)."""
    read: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack.extend([*node.decorator_list, *node.args.defaults, *filter(None, node.args.kw_defaults)])
            stack.extend(a for a in [node.returns] if a is not None)
            continue
        if isinstance(node, ast.Lambda):
            stack.extend([*node.args.defaults, *filter(None, node.args.kw_defaults)])
            continue
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            # Only the first iterable is evaluated in the enclosing scope.
            stack.append(node.generators[0].iter)
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            read.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return read


def _read_before_bound(source: bytes) -> list[tuple[ast.stmt, set[str]]]:
    """Each module-level statement with the names it reads that no statement above it binds."""
    found = []
    bound: set[str] = set()
    for stmt in ast.parse(source).body:
        found.append((stmt, _read_now(stmt) - bound - _BUILTINS))
        bound |= _top_level_bound(stmt)
    return found


def assert_added_code_reads_bound_names(before: bytes, after: bytes) -> None:
    """Code the rewrite adds at module level runs at import: what it reads must be bound by then."""
    already_missing = set().union(*(missing for _, missing in _read_before_bound(before)))
    for stmt, missing in _read_before_bound(after):
        added = missing - already_missing
        assert not added, f"module-level `{ast.unparse(stmt)[:200]}` reads {sorted(added)} before they are bound"


def _unresolved(source: bytes) -> dict[str, set[str]]:
    """Per top-level function: names it reads that nothing binds (roughly: a superset of NameErrors)."""
    tree = ast.parse(source)
    module_names: set[str] = set()
    for stmt in tree.body:
        module_names |= _top_level_bound(stmt)
        for node in ast.walk(stmt):  # `global x` in a function binds x at module level
            if isinstance(node, ast.Global):
                module_names |= set(node.names)
    found: dict[str, set[str]] = {}
    for stmt in tree.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        loads, stores = set(), set()
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name):
                (loads if isinstance(node.ctx, ast.Load) else stores).add(node.id)
            elif isinstance(node, ast.arg):
                stores.add(node.arg)
            elif isinstance(node, ast.alias):
                stores.add((node.asname or node.name).split(".")[0])
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                stores.add(node.name)
            elif isinstance(node, ast.ExceptHandler) and node.name:
                stores.add(node.name)
        found.setdefault(stmt.name, set()).update(loads - stores - module_names - _BUILTINS)
    return found


def assert_no_new_undefined_names(before: bytes, after: bytes) -> None:
    old, new = _unresolved(before), _unresolved(after)
    for name, missing in new.items():
        added = missing - old.get(name, set())
        assert not added, f"after the rewrite `{name}` reads {sorted(added)}, which nothing binds"


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)


def _own_nodes(fn: ast.AST):
    """The nodes of a function's own scope: not those of the functions, classes and comprehensions in it."""
    stack = [*ast.iter_child_nodes(fn)]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _scope(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[set[str], set[str], set[str]]:
    """(names bound by a real binding, names only deleted or augmented, names declared global)."""
    real = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
    weak, declared = set(), set()
    augmented = set()
    for node in _own_nodes(fn):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            augmented.add(id(node.target))
            weak.add(node.target.id)
        elif isinstance(node, ast.AnnAssign) and node.value is None and isinstance(node.target, ast.Name):
            augmented.add(id(node.target))
            weak.add(node.target.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared |= set(node.names)
        elif isinstance(node, ast.alias):
            real.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            real.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            real.add(node.name)
    for node in _own_nodes(fn):
        if isinstance(node, ast.Name) and id(node) not in augmented:
            if isinstance(node.ctx, ast.Store):
                real.add(node.id)
            elif isinstance(node.ctx, ast.Del):
                weak.add(node.id)
    return real, weak - real - declared, declared


def _functions(source: bytes) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        stmt.name: stmt
        for stmt in ast.parse(source).body
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


_MUTATORS = {"close", "register", "register_first", "register_last", "mount", "update", "__exit__"}


def assert_scopes_sound(before: bytes, after: bytes) -> None:
    """A name the rewrite moved out of a function must not stay local there, nor be closed or changed there.

    A leftover ``del x`` or ``x += 1`` keeps ``x`` local (UnboundLocalError); a leftover ``x.close()``,
    ``with x``, hook registration or attribute write runs on the shared object on every invocation.
    """
    old_functions = _functions(before)
    for name, fn in _functions(after).items():
        if name not in old_functions:
            continue
        old_real, old_weak, _ = _scope(old_functions[name])
        real, weak, declared = _scope(fn)
        assert weak <= old_weak, f"`{name}` now only deletes or augments {sorted(weak - old_weak)} (UnboundLocalError)"
        moved = old_real - real - declared
        for node in _own_nodes(fn):
            target = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
                target = node.func.value
            elif isinstance(node, ast.withitem):
                target = node.context_expr
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                target = next((t for t in targets if isinstance(t, (ast.Attribute, ast.Subscript))), None)
                target = target.value if target is not None else None
            while isinstance(target, (ast.Attribute, ast.Subscript)):
                target = target.value
            if isinstance(target, ast.Name) and target.id in moved:
                raise AssertionError(
                    f"`{name}` moved `{target.id}` to module scope but still closes or changes it: "
                    f"`{ast.unparse(node)[:120]}`"
                )


def assert_conventions_kept(before: bytes, after: bytes) -> None:
    assert before.startswith(b"\xef\xbb\xbf") == after.startswith(b"\xef\xbb\xbf")
    if len(line_endings(before)) == 1:
        assert line_endings(after) == line_endings(before)
    assert before.endswith((b"\n", b"\r")) == after.endswith((b"\n", b"\r"))


def _bare_cr_and_lf(data: bytes) -> bool:
    return {b"\r", b"\n"} <= line_endings(data)


def check_properties(data: bytes, entry_points: frozenset[str] | None = None) -> FileResult:
    result = _run(data, entry_points)
    assert "internal error" not in result.reason, result.reason
    if _bare_cr_and_lf(data) and "verification failed" in result.reason:
        return result  # known, and caught by verification: see test_files_mixing_lf_and_bare_cr
    assert result.status is not Status.ERROR, result.reason
    if result.status is not Status.CHANGED:
        assert result.after is None, "a file that is not changed must have no new content"
        return result
    after = result.after
    assert after is not None and after != data
    assert result.changes, "a changed file must say what changed"
    cst.parse_module(after)
    compile(after, "app.py", "exec", dont_inherit=True)
    assert cst.parse_module(data).bytes == data, "a file the parser cannot round-trip must not be changed"
    assert_conventions_kept(data, after)
    assert_added_code_reads_bound_names(data, after)
    assert_no_new_undefined_names(data, after)
    assert_scopes_sound(data, after)
    again = _run(after, entry_points)
    assert again.status is Status.UNCHANGED, f"second run: {again.status.value} {again.reason}"
    assert again.after is None
    return result


# Handlers found by the heuristic, or named by a template (maybe naming a function the file lacks).
entry_points = st.sampled_from([None, None, frozenset({"lambda_handler"}), frozenset({"main", "missing"})])


@_PROFILE
@given(lambda_modules(), entry_points)
def test_lambda_modules(data: bytes, entry_points: frozenset[str] | None) -> None:
    check_properties(data, entry_points)


@settings(_PROFILE, max_examples=max(_PROFILE.max_examples // 2, 1))
@given(lambda_modules(handler=False))
def test_modules_without_handler_stay_unchanged(data: bytes) -> None:
    result = _run(data)
    assert "internal error" not in result.reason, result.reason
    assert result.status is not Status.CHANGED, result.after
    assert result.after is None


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"import boto3\r\rdef lambda_handler(event, context):\r    s3 = boto3.client('s3')\r", id="cr-only"),
        pytest.param(
            b"import boto3\n\ndef lambda_handler(event, context):\n    try:\n        pass\n    except ValueError :\n"
            b"        pass\n    s3 = boto3.client('s3')\n",
            id="space-before-colon",
        ),
    ],
)
def test_a_file_the_parser_cannot_round_trip_is_skipped_with_a_reason(data: bytes) -> None:
    assert cst.parse_module(data).bytes != data
    result = _run(data, frozenset({"lambda_handler"}))  # named, so that no prefilter declines the file
    assert (result.status, result.after) == (Status.SKIPPED, None)
    assert "byte for byte" in result.reason


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b'#\nimport boto3\r\rdef lambda_handler(event, context):\r    s3 = boto3.client("s3")', id="crlf"),
        pytest.param(
            b"import requests\rimport boto3\r\rdef handler(event, context):\r    session = requests.session()\r"
            b"    session.headers.update({'X-Id': 'a'})\r\r\rdef other(event, context):\r"
            b"    table = boto3.resource('dynamodb').Table('t')\n",
            id="not-idempotent",
        ),
    ],
)
def test_files_mixing_lf_and_bare_cr(data: bytes) -> None:
    # The output would mix endings the file never had: left alone up front, with the reason.
    result = _run(data, frozenset({"lambda_handler", "handler", "other"}))
    assert (result.status, result.after) == (Status.SKIPPED, None)
    assert "bare CR" in result.reason


def test_lru_cache_factory_placed_above_a_late_functools_import() -> None:
    data = (
        b"import boto3\n\n\ndef helper():\n    pass\n\n\nimport functools\n\n\n"
        b"def lambda_handler(event, context):\n"
        b"    s3 = boto3.client('s3', region_name=event['region'])\n"
        b"    return s3.list_buckets()\n"
    )
    check_properties(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            b"import boto3\n\ndef lambda_handler(  # called by Lambda\n    event, context):\n"
            b"    s3 = boto3.client('s3')\n",
            id="comment-after-parenthesis",
        ),
        pytest.param(
            b"\xef\xbb\xbfdef lambda_handler(event, context):\n    import boto3\n    s3 = boto3.client('s3')\n",
            id="bom-then-def",
        ),
    ],
)
def test_handlers_the_prefilter_misses(data: bytes) -> None:
    assert _run(data).status is Status.CHANGED


def test_a_name_rebound_from_its_own_method_call() -> None:
    data = (
        b"import boto3\n\n\ndef lambda_handler(event, context):\n"
        b"    event = event.get('detail')\n"
        b"    s3 = boto3.client('s3')\n"
        b"    return s3.list_buckets()\n"
    )
    assert check_properties(data).status is Status.CHANGED
