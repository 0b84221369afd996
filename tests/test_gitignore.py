"""The gitignore matcher against git itself, and patterns that made a regex engine backtrack for minutes."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import HANDLER, git_init, run, write

from rewriter.discovery import discover
from rewriter.gitignore import GitIgnore

# Files and folders every case is matched against; a name ending in "/" is a folder (made with a file in it).
TREE = [
    "a.py", "b", "ab", "cb", "1x", "aXb", "]", "#hash", "!bang", "trail ", "keep.py", "root.py", "x.pyc",
    "d/", "d/root.py", "d/e/", "d/e/f", "d/e/g.py", "d/e/keep.py", "a/", "a/b", "a/x/", "a/x/y/", "a/x/y/b",
    "x/", "x/a/", "x/a/b", "foo/", "foo/bar/", "foo/bar/baz.py", "bar/", "bar/foo", "b.c/", "b.c/d",
    "a" * 40, "a" * 40 + "b.py", "[x]", "s p", "A.PY", "d.e.f", "-", "é.py",
]

CASES = [
    "a.py", "*.py", "/root.py", "root.py", "d/", "d/e/", "d/e", "e/", "e", "**/f", "**/e/", "a/**/b", "a/**",
    "**", "*", "/*", "*/", "?b", "??", "[abc]b", "[!a]b", "[^a]b", "[a-c]b", "[]]", "[[:alpha:]]b", "[[:digit:]]x",
    "[[:upper:]]*", "[[:punct:]]*", "\\#hash", "#hash", "\\!bang", "!bang", "trail\\ ", "trail ", "a**b", "**a",
    "x/**/", "foo/**/baz.py", "foo/*/baz.py", "foo/*", "/foo/bar", "bar/foo", "b.c", "*.c/", "*.pyc",
    "*a*a*a", "a*a*b.py", "[x]", "\\[x\\]", "s?p", "s p", "A.PY", "*.PY", "d.*.f", "-", "[a-]*",
    "[z-a]b", "[", "a\\", "[[:nope:]]", "\\*", "/", "**/", "/**", "a/**/**/b", "**/**/keep.py", "é.py", "?.py",
    # several lines: the last match decides, a folder's exclusion cannot be undone inside it
    "*.py\n!keep.py", "d/\n!d/e/f", "d/\n!d/e/", "*\n!*/\n!*.py", "*\n!d/\n!d/e/", "d/e/*\n!d/e/keep.py",
    "!keep.py\n*.py", "a/\n!a/x/y/b", "/*\n!/d", "*/\n!a/", "**/e\n!d/e",
]


def _materialise(root: Path) -> None:
    for name in TREE:
        target = root / name
        if name.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("")


def _paths() -> list[tuple[str, bool]]:
    return [(name.rstrip("/"), name.endswith("/")) for name in TREE]


def _git_ignored(root: Path, cases: list[str]) -> list[set[str]]:
    """Per case (each in a folder of its own with that .gitignore): the paths git check-ignore reports."""
    git_init(root)
    queries = []
    for index, case in enumerate(cases):
        folder = root / f"case{index}"
        _materialise(folder)
        (folder / ".gitignore").write_text(case + "\n")
        queries += [f"case{index}/{path}" for path, _ in _paths()]
    out = run(["git", "check-ignore", "--no-index", "-z", "--stdin"], root, "\0".join(queries).encode() + b"\0",
              check=False)
    assert out.returncode in (0, 1), out.stderr
    found: list[set[str]] = [set() for _ in cases]
    for line in out.stdout.decode().split("\0"):
        if line:
            case, _, path = line.partition("/")
            found[int(case.removeprefix("case"))].add(path)
    return found


def _ours(case: str) -> set[str]:
    spec = GitIgnore(case.split("\n"))
    return {path for path, is_dir in _paths() if spec.match_file(path, is_dir)}


def test_every_case_matches_what_git_check_ignore_says(tmp_path: Path) -> None:
    expected = _git_ignored(tmp_path, CASES)
    differ = {case: (sorted(_ours(case) - git), sorted(git - _ours(case))) for case, git in zip(CASES, expected)
              if _ours(case) != git}
    assert not differ, "case: (only we ignore, only git ignores)"


def test_random_patterns_match_what_git_check_ignore_says(tmp_path: Path) -> None:
    pieces = ["a", "b", "x", "d", "e", "f", ".py", "*", "**", "?", "/", "[ab]", "[!a]", "\\*", ".", "y"]
    rng = random.Random(16)
    cases = []
    for _ in range(300):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        cases.append(("!" if rng.random() < 0.1 else "") + pattern if rng.random() < 0.8 else f"{pattern}\n!{pattern}/")
    expected = _git_ignored(tmp_path, cases)
    differ = {case: (sorted(_ours(case) - git), sorted(git - _ours(case))) for case, git in zip(cases, expected)
              if _ours(case) != git}
    assert not differ, "case: (only we ignore, only git ignores)"


def test_the_walk_reads_the_files_git_status_shows_untracked(tmp_path: Path) -> None:
    root = git_init(tmp_path)
    files = {f"{d}{name}": HANDLER for d in ("", "src/", "src/gen/", "src/gen/keep/", "lib/a/", "lib/b/", "tmp/")
             for name in ("app.py", "app_test.py", "keep_test.py", "scratch.py")}
    write(root, {
        **files,
        ".gitignore": "*_test.py\n!keep_test.py\n/tmp\ngen/*\n!gen/keep/\nlib/**/scratch.py\n",
        "src/.gitignore": "!app_test.py\nscratch.py\n",
        "src/gen/keep/.gitignore": "!scratch.py\n",  # under gen/*, which src/.gitignore cannot undo for gen/
        ".git/info/exclude": "lib/b/\n",
    })
    out = run(["git", "ls-files", "--others", "--exclude-standard", "-z"], root)
    expected = sorted(p for p in out.stdout.decode().split("\0") if p.endswith(".py"))
    assert sorted(p.relative_to(root).as_posix() for p in discover([root]).files) == expected


_SLOW_FOR_A_REGEX = ["*a" * 40 + "d", "a*" * 40 + "b", "**/" * 30 + "x", "[ab]*" * 30 + "d", "*?" * 50 + "d", "a/**/" * 20 + "b"]


def test_patterns_with_many_stars_against_long_names_end_at_once(tmp_path: Path) -> None:
    """A regex engine backtracks exponentially here (hours at these lengths); run apart, so a hang fails the test."""
    write(git_init(tmp_path), {".gitignore": "*a*a*a*a*a*a*a*a*a*a*a*a\n", "a" * 200 + "b.py": HANDLER,
                               "src/" + "a" * 200 + "/app.py": HANDLER})
    script = (
        "import sys; from pathlib import Path; from rewriter.discovery import discover; "
        "from rewriter.gitignore import GitIgnore\n"
        f"for pattern in {_SLOW_FOR_A_REGEX!r}:\n"
        "    for name in ('a' * 3000 + 'c', '/'.join(['a' * 50] * 40)):\n"
        "        assert not GitIgnore([pattern]).match_file(name)\n"
        "print(len(discover([Path(sys.argv[1])]).files))"
    )
    try:
        out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        pytest.fail("the matching did not end")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"  # the folder's name ends in "a": ignored; the file's does not
