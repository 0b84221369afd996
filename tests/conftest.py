"""Settings every test shares."""
from __future__ import annotations

import faulthandler
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from rewriter import engine

# Small projects with test suites of their own, run in a subprocess by tests/test_import_time.py: not ours to collect.
collect_ignore_glob = ["fixtures/import-time/*"]


@pytest.fixture(autouse=True)
def result_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A result cache of this test's own: no test writes to the real one, nor sees another test's entries."""
    folder = tmp_path_factory.mktemp("result-cache")
    monkeypatch.setenv("LAMBDA_REWRITER_CACHE_DIR", str(folder))
    return folder


_REAL_PROCESS_FILE = engine.process_file
_CRASH_ON: list[str] = []  # the name the planted crash waits for; module level, since the pool pickles by name


_SLOW_ON: list[str] = []


def _process_file_or_crash(job, *args, **kwargs):
    if _CRASH_ON and job.display.endswith(_CRASH_ON[0]):
        os.kill(os.getpid(), signal.SIGSEGV)
    if _SLOW_ON and job.display.endswith(_SLOW_ON[0]):
        time.sleep(3600)  # the file that would stall the run
    return _REAL_PROCESS_FILE(job, *args, **kwargs)


@pytest.fixture
def plant_crash(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``plant_crash("deep.py")``: a pool worker given a file whose name ends so dies by SIGSEGV, as LibCST's
    native parser killed workers on some inputs (Python's parser now refuses those first). The workers
    are forked, so they see the patch; pytest's fault handler, which would print each stack, is off."""

    def plant(name: str) -> None:
        monkeypatch.setattr(engine, "process_file", _process_file_or_crash)
        monkeypatch.setattr(sys.modules[__name__], "_CRASH_ON", [name])

    enabled = faulthandler.is_enabled()
    faulthandler.disable()
    yield plant
    if enabled:
        faulthandler.enable(file=sys.__stderr__)


@pytest.fixture
def plant_slow(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """``plant_slow("huge.py")``: the file whose name ends so takes an hour, in a worker or in this process,
    as a pathological input did (a 4.9 MB file: 5.5 minutes)."""

    def plant(name: str) -> None:
        monkeypatch.setattr(engine, "process_file", _process_file_or_crash)
        monkeypatch.setattr(sys.modules[__name__], "_SLOW_ON", [name])

    return plant


@pytest.fixture(autouse=True, scope="session")
def no_aws_sdk_js_codemod(tmp_path_factory: pytest.TempPathFactory):
    """sdk-v3 finds no aws-sdk-js-codemod (it leaves v2 code with a note), unless a test asks for it
    (tests/sdk_v3_support.py `with_tool`): the other tests do not depend on what is installed in the home folder.
    For the session, so that a test's own `monkeypatch.undo()` does not take it away."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAMBDA_REWRITER_NODE_MODULES", str(tmp_path_factory.mktemp("no-node-modules")))
        yield
