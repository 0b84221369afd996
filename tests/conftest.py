"""Settings every test shares."""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def result_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A result cache of this test's own: no test writes to the real one, nor sees another test's entries."""
    folder = tmp_path_factory.mktemp("result-cache")
    monkeypatch.setenv("LAMBDA_REWRITER_CACHE_DIR", str(folder))
    return folder
