"""The files the benchmarks read: real Python from this machine, and a fleet of copies of samples/.

Everything is copied into a work folder (default /tmp/lambda-rewriter-bench) so that the tool sees
plain folders: no .gitignore above them, no `site-packages` folder name that discovery would skip.
"""
from __future__ import annotations

import hashlib
import shutil
import site
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
DEFAULT_WORKDIR = Path("/tmp/lambda-rewriter-bench")

# Test folders of the standard library, left out as the brief says ("without tests").
_STDLIB_SKIP = {"test", "tests", "idle_test", "site-packages", "__pycache__"}


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    found = []
    for path in sorted(root.rglob("*.py")):
        parts = set(path.relative_to(root).parts[:-1])
        if parts & _STDLIB_SKIP or path.name.startswith("test_"):
            continue
        found.append(path)
    return found


def site_packages_files() -> list[Path]:
    root = Path(site.getsitepackages()[0])
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _copy_tree(sources: list[Path], base: Path, target: Path) -> None:
    for source in sources:
        dest = target / source.relative_to(base)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)


def real_corpus(workdir: Path) -> Path:
    """stdlib/ (without tests) and sitepkgs/ (the venv's site-packages), copied once and reused."""
    corpus = workdir / "corpus"
    stamp = corpus / ".complete"
    if stamp.exists():
        return corpus
    if corpus.exists():
        shutil.rmtree(corpus)
    _copy_tree(stdlib_files(), Path(sysconfig.get_paths()["stdlib"]), corpus / "stdlib")
    _copy_tree(site_packages_files(), Path(site.getsitepackages()[0]), corpus / "sitepkgs")
    stamp.touch()
    return corpus


# The Python apps of samples/ (the ones behaviour.json describes); the others are read by other parsers.
PYTHON_APPS = ("sam-orders", "serverless-notify")


def _apps_digest() -> str:
    digest = hashlib.sha256()
    for app in PYTHON_APPS:
        for path in sorted((SAMPLES / app).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(SAMPLES)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def fleet(workdir: Path, repositories: int, unique: bool = False) -> Path:
    """``repositories`` copies of the Python apps of samples/ (templates included), one folder each.

    ``unique``: no two Python files are the same bytes (each copy ends with its own comment), since
    the result cache is keyed by content and plain copies would hit it within the first run.
    """
    root = workdir / f"{'unique-' if unique else ''}fleet-{repositories}-{_apps_digest()}"
    stamp = root / ".complete"
    if stamp.exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    for index in range(repositories):
        for app in PYTHON_APPS:
            target = root / f"repo-{index:04d}" / app
            shutil.copytree(SAMPLES / app, target, ignore=shutil.ignore_patterns("__pycache__"))
            for path in target.rglob("*.py") if unique else ():
                path.write_bytes(path.read_bytes() + f"# copy {index}\n".encode())
    stamp.touch()
    return root


def fresh_samples(workdir: Path, name: str) -> Path:
    """A new copy of the Python apps of samples/ (for rewriting in place)."""
    target = workdir / name
    if target.exists():
        shutil.rmtree(target)
    for app in PYTHON_APPS:
        shutil.copytree(SAMPLES / app, target / app, ignore=shutil.ignore_patterns("__pycache__"))
    return target
