"""bench/retrieval.py and bench/search_quality.py on a small corpus: they run to their tables on
the default (torch-free) install. The full runs are by hand: see each script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import REPO


def _bench(script: str, *args: str, cache: Path) -> str:
    done = subprocess.run([sys.executable, str(REPO / "bench" / script), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO,
                          env={**os.environ, "OWUI_BENCH_CACHE": str(cache)})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


@pytest.mark.timeout(360)
def test_retrieval_bench_prints_each_mode_per_store(tmp_path: Path) -> None:
    out = _bench("retrieval.py", "--docs", "0", "--upload-files", "0", "--corpus", "300",
                 "--queries", "3", "--stores", "lancedb", cache=tmp_path)
    assert "text (BM25)" in out and "hybrid" in out, out
    assert "LanceDB (embedded)              300" in out, out


@pytest.mark.timeout(360)
def test_search_quality_prints_mrr_and_recall_per_mode(tmp_path: Path) -> None:
    out = _bench("search_quality.py", "--stores", "lancedb", cache=tmp_path)
    assert "hybrid/vector" in out, out
    assert "vector MRR@10 / R@5" in out and "hybrid MRR@10 / R@5" in out, out
