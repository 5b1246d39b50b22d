"""Training is reproducible, decisions feed the label head, and promotion never makes things worse."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlmodel import Session

from classifier.corpus import fingerprint, load_written, split
from classifier.learning import at_least_as_good, decision_examples, retrain
from classifier.model import TriageModel
from classifier.training import train
from models.classification import TriageDecision
from models.enums import Channel, Label, StaffRole
from models.messages import InboundMessageCreate
from models.people import StaffMemberCreate
from models.repository.messages import store_inbound
from models.repository.staff import add_staff

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.slow
def test_training_twice_gives_the_same_model() -> None:
    train_split, _ = split(load_written())
    first, second = train(train_split, now=NOW), train(list(reversed(train_split)), now=NOW)
    assert first.version == second.version and first.rule == second.rule
    assert first.metadata.training_data_hash == fingerprint(train_split)
    for name in ("label", "hazard", "vulnerability", "third_party"):
        assert np.array_equal(getattr(first.heads, name).coef_, getattr(second.heads, name).coef_), name
    assert first.heads.vectorizer.vocabulary_ == second.heads.vectorizer.vocabulary_


def test_the_data_fingerprint_changes_with_the_data() -> None:
    corpus = load_written()
    assert fingerprint(corpus) == fingerprint(list(reversed(corpus)))
    assert fingerprint(corpus) != fingerprint(corpus[1:])


def test_promotion_needs_both_figures_at_least_as_good() -> None:
    current = {"macro_f1": 0.95, "complaint_recall": 0.97}
    assert at_least_as_good({"macro_f1": 0.95, "complaint_recall": 0.97}, current)
    assert not at_least_as_good({"macro_f1": 0.99, "complaint_recall": 0.96}, current)
    assert not at_least_as_good({"macro_f1": 0.94, "complaint_recall": 1.0}, current)


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_retraining_with_staff_decisions(session: Session, tmp_path: Path) -> None:
    staff = add_staff(
        session, data=StaffMemberCreate(name="Tess", email="tess@example.org", roles=[StaffRole.TRIAGE]), now=NOW
    )
    texts = [
        (
            Channel.CHAT,
            None,
            "three weeks now and the bathroom light still isn't fixed, you keep fobbing me off",
            Label.COMPLAINT,
        ),
        (Channel.EMAIL, "Bins", "Which day is the recycling collected on Orchard Way?", Label.OTHER),
        (Channel.CHAT, None, "kitchen tap is dripping, can someone have a look", Label.SERVICE_REQUEST),
    ]
    for n, (channel, subject, text, label) in enumerate(texts):
        message, _ = store_inbound(
            session,
            data=InboundMessageCreate(
                channel=channel,
                source_key=f"test:{n}",
                content_hash=str(n),
                received_at=NOW,
                sender_address="r@example.net",
                subject=subject,
                body_text=text,
                new_text=text,
            ),
            now=NOW,
        )
        session.add(TriageDecision(message_id=message.id, staff_id=staff.id, decided_at=NOW, label=label))
    session.commit()

    decisions = decision_examples(session)
    assert [(d.label, d.annotated) for d in decisions] == [
        ("complaint", False),
        ("other", False),
        ("service_request", False),
    ]
    outcome = retrain(decisions=decisions, out_dir=tmp_path, current=None, now=NOW)
    assert outcome.promoted and outcome.reason == "no current model"
    saved = TriageModel.load(tmp_path)
    assert saved.metadata.decisions_included == 3
    assert saved.metadata.metrics["overall"]["macro_f1"] == outcome.candidate["macro_f1"]  # type: ignore[index]

    again = retrain(decisions=decisions, out_dir=tmp_path, current=saved, now=NOW)
    assert again.promoted and again.reason == "at least as good"
