"""The `triage classify` contract the product owner's evaluation depends on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from classifier.corpus import load_written

FIELDS = {
    "id": str,
    "label": str,
    "confidence": float,
    "scores": dict,
    "needs_review": bool,
    "categories": list,
    "hazard": (str, type(None)),
    "vulnerability": bool,
    "third_party": bool,
    "exclusion_hint": (str, type(None)),
    "definition": (dict, type(None)),
}


def run(args: list[str], stdin: bytes, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "TRIAGE_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, timeout=120, env=env, check=False
    )


@pytest.fixture(scope="module")
def contract_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, object]], list[str], int]:
    examples = load_written()[:600]  # more than two internal batches, so order across batches is checked
    lines = [json.dumps({"id": e.id, "channel": e.channel, "subject": e.subject, "text": e.text}) for e in examples]
    lines.insert(5, "this is not json")
    lines.insert(300, json.dumps({"id": "no-text", "channel": "chat", "subject": None}))
    lines.insert(301, "")
    lines.insert(400, json.dumps(["not", "an", "object"]))
    lines.insert(450, json.dumps({"id": 77, "channel": "fax", "text": "hello"}))
    done = run(["classify"], ("\n".join(lines) + "\n").encode(), tmp_path_factory.mktemp("cli"))
    outputs = [json.loads(line) for line in done.stdout.decode().splitlines()]
    return outputs, [e.id for e in examples], done.returncode


def test_one_output_line_per_input_line_in_order(contract_run: tuple[list[dict[str, object]], list[str], int]) -> None:
    outputs, ids, code = contract_run
    assert code == 0
    assert len(outputs) == len(ids) + 4  # four bad lines answered; the blank line is not an input
    assert [o["id"] for o in outputs if "error" not in o] == ids


def test_bad_lines_get_an_error_and_the_run_continues(
    contract_run: tuple[list[dict[str, object]], list[str], int],
) -> None:
    errors = [o for o in contract_run[0] if "error" in o]
    assert [(e["id"], e["error"]) for e in errors] == [
        (None, "invalid JSON: Expecting value at column 1"),
        ("no-text", "missing text"),
        (None, "each line must be a JSON object"),
        ("77", "channel must be email or chat, not 'fax'"),
    ]


def test_field_types_and_values(contract_run: tuple[list[dict[str, object]], list[str], int]) -> None:
    labels = {"complaint", "service_request", "survey_feedback", "other"}
    hazards = {None, "damp_mould", "gas", "electrical", "fire", "water_leak", "no_heating", "structural", "security"}
    for output in (o for o in contract_run[0] if "error" not in o):
        assert set(output) == set(FIELDS)
        for name, kind in FIELDS.items():
            assert isinstance(output[name], kind), name  # type: ignore[arg-type]
        assert output["label"] in labels and output["hazard"] in hazards
        scores = output["scores"]
        assert isinstance(scores, dict) and set(scores) == labels and abs(sum(scores.values()) - 1) < 0.01
        assert output["confidence"] == scores[output["label"]]
        definition = output["definition"]
        if output["label"] == "complaint":
            assert isinstance(definition, dict)
            assert set(definition) == {"summary", "outcome", "needs_clarification"}
            assert definition["needs_clarification"] is (definition["outcome"] is None)
        else:
            assert definition is None


def test_text_option_prints_readably(tmp_path: Path) -> None:
    done = run(
        [
            "classify",
            "--channel",
            "chat",
            "--text",
            "smell of gas in the hallway and the engineer you sent last week never turned up, I want it sorted today",
        ],
        b"",
        tmp_path,
    )
    out = done.stdout.decode()
    assert done.returncode == 0
    assert out.startswith("complaint ") and "HAZARD: gas" in out and "Outcome sought: I want it sorted today" in out


def test_evaluate_prints_per_label_figures_and_the_confusion_matrix(tmp_path: Path) -> None:
    done = run(["evaluate"], b"", tmp_path)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "held-out test split" in out and "confusion matrix" in out and "complaint recall" in out
    assert out.count("service_request") >= 6  # per-label rows and matrix rows for overall, email and chat
