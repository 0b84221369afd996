"""`lambda-rewriter` with the prototype prefilter of prefilter.py in front of the engine (Python files only).

    python benchmarks/proto_cli.py [--confirm-with-ast] check PATH... [-j N] [--format json]

Only for measuring the proposal side by side with the real command: the engine's ``process_file``
is wrapped (pool workers are forked, so they run the wrapper too). A file the prototype drops ends
as ``unchanged`` with no notes, which is what the engine reports today for a file without markers.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.prefilter import keeps  # noqa: E402
from codemods import select  # noqa: E402
from rewriter import cli, engine  # noqa: E402

_original = engine.process_file
_CONFIRM = False


def process_file(job: engine.FileJob, codemod_names: tuple[str, ...], cache=None) -> engine.FileResult:
    language = engine.language_for(job.path)
    if language is not None and language.name == "python" and not Path(job.path).is_symlink():
        markers = tuple(m for impl in select(codemod_names) if language.name in impl.LANGUAGES for m in impl.MARKERS)
        try:
            with open(job.path, "rb") as handle:
                data = handle.read(job.max_bytes + 1)
        except OSError:
            data = None  # let the engine report it
        if data is not None and not keeps(data, markers, job.entry_points, _CONFIRM):
            return engine.FileResult(job.display, language.name, engine.Status.UNCHANGED, abspath=job.path)
    return _original(job, codemod_names, cache)


def main(argv: list[str]) -> int:
    global _CONFIRM
    if argv and argv[0] == "--confirm-with-ast":
        _CONFIRM = True
        argv = argv[1:]
    engine.process_file = process_file
    try:
        return cli.main(argv)
    finally:
        engine.process_file = _original


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
