"""The saved model: skops round trip, refusal of unexpected types, and the fast path equal to sklearn's."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from classifier.corpus import load_written
from classifier.fastvec import FastWordTfidf
from classifier.model import BUNDLED_DIR, MODEL_FILE, TriageModel, score
from classifier.textprep import model_text


@pytest.fixture(scope="module")
def model() -> TriageModel:
    return TriageModel.load(BUNDLED_DIR)


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [model_text(e.channel, e.subject, e.text) for e in load_written()]


def test_fast_vectoriser_equals_sklearn(model: TriageModel, texts: list[str]) -> None:
    fast = FastWordTfidf(model.heads.vectorizer).transform(texts)
    reference = model.heads.vectorizer.transform(texts)
    assert fast.shape == reference.shape
    assert abs(fast - reference).max() < 1e-6
    assert FastWordTfidf(model.heads.vectorizer).transform(["zzzz qqqq"]).nnz == 0


def test_compiled_heads_equal_predict_proba(model: TriageModel, texts: list[str]) -> None:
    fast, reference = model.score(texts), score(model.heads, texts)
    for name in ("label", "hazard", "vulnerability", "third_party", "categories"):
        assert np.allclose(getattr(fast, name), getattr(reference, name), atol=1e-5), name
    assert fast.hazard_classes == reference.hazard_classes


def test_save_and_load_round_trip(model: TriageModel, texts: list[str], tmp_path: Path) -> None:
    model.save(tmp_path)
    again = TriageModel.load(tmp_path)
    assert again.version == model.version and again.rule == model.rule
    assert np.array_equal(again.score(texts[:50]).label, model.score(texts[:50]).label)


def test_a_model_file_with_unexpected_types_is_refused(tmp_path: Path) -> None:
    shutil.copy(BUNDLED_DIR / "model.json", tmp_path / "model.json")
    sio.dump({"vectorizer": Path("/etc/passwd")}, tmp_path / MODEL_FILE)
    with pytest.raises(ValueError, match="unexpected types"):
        TriageModel.load(tmp_path)


def test_a_missing_model_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run `triage train`"):
        TriageModel.load(tmp_path)
