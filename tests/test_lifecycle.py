"""The complaint lifecycle refuses what the Code forbids (pure rules, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import lifecycle as lc
from models.enums import CaseKind, CaseStatus
from models.lifecycle import ComplaintState, LifecycleError
from models.timescales import CODE_2024, StageTimescale, Timescales

S = CaseStatus


def at_stage1_response() -> ComplaintState:
    state = lc.assign_handler(lc.open_stage1(ComplaintState()), stage=1, staff_id=1)
    return lc.record_response(state, stage=1, responder_id=1)


def test_happy_path_through_both_stages_to_closed() -> None:
    state = at_stage1_response()
    state = lc.request_escalation(state)
    assert (state.status, state.stage) == (S.STAGE2_REQUESTED, 2)
    state = lc.assign_handler(state, stage=2, staff_id=2)
    state = lc.open_stage2(state)
    state = lc.record_response(state, stage=2, responder_id=2)
    assert lc.close(state).status is S.CLOSED


@pytest.mark.parametrize("stage", [0, 3, -1, 99])
def test_there_is_no_stage_other_than_one_and_two(stage: int) -> None:
    state = lc.open_stage1(ComplaintState())
    with pytest.raises(LifecycleError, match="two stages only"):
        lc.assign_handler(state, stage=stage, staff_id=1)
    with pytest.raises(LifecycleError, match="two stages only"):
        lc.extend(state, stage=stage, working_days=1, reason="r", good_reason=None, timescales=CODE_2024)
    with pytest.raises(LifecycleError, match="two stages only"):
        lc.record_response(state, stage=stage, responder_id=1)


def test_stage2_handler_must_differ_from_stage1_handler() -> None:
    state = lc.request_escalation(at_stage1_response())
    with pytest.raises(LifecycleError, match=r"different person .*6\.13"):
        lc.assign_handler(state, stage=2, staff_id=1)
    state = lc.open_stage2(lc.assign_handler(state, stage=2, staff_id=7))
    with pytest.raises(LifecycleError, match=r"6\.13"):
        lc.record_response(state, stage=2, responder_id=1)


def test_escalation_needs_no_reason_and_works_after_closure_at_stage1() -> None:
    assert lc.request_escalation(at_stage1_response(), reason=None).status is S.STAGE2_REQUESTED
    closed = lc.close(at_stage1_response())
    assert lc.request_escalation(closed).status is S.STAGE2_REQUESTED


def test_no_escalation_before_the_stage1_response_or_after_stage2() -> None:
    with pytest.raises(LifecycleError, match="Cannot request escalation"):
        lc.request_escalation(lc.open_stage1(ComplaintState()))
    state = lc.open_stage2(lc.assign_handler(lc.request_escalation(at_stage1_response()), stage=2, staff_id=2))
    closed = lc.close(lc.record_response(state, stage=2, responder_id=2))
    with pytest.raises(LifecycleError, match="Housing Ombudsman"):
        lc.request_escalation(closed)


@pytest.mark.parametrize(("stage", "limit"), [(1, 10), (2, 20)])
def test_extension_past_the_code_limit_needs_a_good_reason(stage: int, limit: int) -> None:
    state = lc.open_stage1(ComplaintState())
    if stage == 2:
        state = lc.open_stage2(lc.request_escalation(lc.record_response(state, stage=1, responder_id=1)))
    state = lc.extend(
        state,
        stage=stage,
        working_days=limit - 2,
        reason="surveyor report awaited",
        good_reason=None,
        timescales=CODE_2024,
    )
    state = lc.extend(
        state, stage=stage, working_days=2, reason="contractor on leave", good_reason=None, timescales=CODE_2024
    )
    assert state.extension_days(stage) == limit
    with pytest.raises(LifecycleError, match=f"limit of {limit}"):
        lc.extend(state, stage=stage, working_days=1, reason="more time", good_reason="  ", timescales=CODE_2024)
    longer = lc.extend(
        state,
        stage=stage,
        working_days=1,
        reason="more time",
        good_reason="awaiting the resident's own expert's report",
        timescales=CODE_2024,
    )
    assert longer.extension_days(stage) == limit + 1


def test_a_stricter_landlord_policy_lowers_the_limit() -> None:
    strict = Timescales(stage1=StageTimescale(5, 10, 5), stage2=StageTimescale(5, 20, 10))
    assert strict.check_within(CODE_2024) == []
    state = lc.open_stage1(ComplaintState())
    with pytest.raises(LifecycleError, match="limit of 5"):
        lc.extend(state, stage=1, working_days=6, reason="x", good_reason=None, timescales=strict)


def test_a_landlord_cannot_configure_longer_timescales_than_the_code() -> None:
    lax = Timescales(stage1=StageTimescale(7, 10, 10), stage2=StageTimescale(5, 25, 20))
    assert lax.check_within(CODE_2024) == [
        "stage 1 acknowledge must be 1 to 5 working days, not 7",
        "stage 2 respond must be 1 to 20 working days, not 25",
    ]


def test_every_extension_explains_its_reason_and_adds_days() -> None:
    state = lc.open_stage1(ComplaintState())
    with pytest.raises(LifecycleError, match="reason for the extension"):
        lc.extend(state, stage=1, working_days=3, reason=" ", good_reason=None, timescales=CODE_2024)
    with pytest.raises(LifecycleError, match="at least one"):
        lc.extend(state, stage=1, working_days=0, reason="r", good_reason=None, timescales=CODE_2024)


def test_exclusion_needs_a_reason_and_only_happens_before_the_stage1_response_or_on_escalation() -> None:
    with pytest.raises(LifecycleError, match=r"2\.4"):
        lc.exclude(ComplaintState(), reason="")
    excluded = lc.exclude(ComplaintState(), reason="legal proceedings issued on 3 March 2026")
    assert excluded.status is S.EXCLUDED and excluded.exclusion_reason
    # Logged with one tap, then found to be in court: it can still be refused before the stage 1 response.
    logged = lc.exclude(lc.open_stage1(ComplaintState()), reason="legal proceedings came to light")
    assert logged.status is S.EXCLUDED
    with pytest.raises(LifecycleError, match="Cannot exclude"):
        lc.exclude(at_stage1_response(), reason="too late: the resident has had our answer")
    refused = lc.exclude(lc.request_escalation(at_stage1_response()), reason="previously considered")
    assert refused.status is S.EXCLUDED


def test_a_complaint_cannot_be_closed_without_a_response() -> None:
    with pytest.raises(LifecycleError, match="Cannot close a complaint that is stage1_open"):
        lc.close(lc.open_stage1(ComplaintState()))


def test_service_requests_and_surveys_open_then_close() -> None:
    assert lc.initial_status(CaseKind.SERVICE_REQUEST) is S.OPEN
    assert lc.close_simple(CaseKind.SERVICE_REQUEST, S.OPEN) is S.CLOSED
    with pytest.raises(LifecycleError, match="already closed"):
        lc.close_simple(CaseKind.SURVEY_FEEDBACK, S.CLOSED)
    with pytest.raises(LifecycleError):
        lc.close_simple(CaseKind.COMPLAINT, S.STAGE1_OPEN)
    with pytest.raises(LifecycleError, match="only be linked to a service request"):
        lc.check_link(CaseKind.COMPLAINT, CaseKind.SURVEY_FEEDBACK)


# --- property test: random action sequences never break the Code's invariants -------------------

staff_ids = st.integers(min_value=1, max_value=4)
stages = st.integers(min_value=0, max_value=3)
actions = st.one_of(
    st.tuples(st.just("open_stage1")),
    st.tuples(st.just("assign"), stages, staff_ids),
    st.tuples(st.just("respond"), stages, staff_ids),
    st.tuples(st.just("escalate")),
    st.tuples(st.just("open_stage2")),
    st.tuples(
        st.just("extend"),
        stages,
        st.integers(-1, 15),
        st.sampled_from(["", "why"]),
        st.sampled_from([None, "", "good reason"]),
    ),
    st.tuples(st.just("exclude"), st.sampled_from(["", "  ", "over 12 months"])),
    st.tuples(st.just("close")),
)


def apply(state: ComplaintState, action: tuple[object, ...]) -> ComplaintState:
    name, *args = action
    if name == "open_stage1":
        return lc.open_stage1(state)
    if name == "assign":
        return lc.assign_handler(state, stage=int(args[0]), staff_id=int(args[1]))  # type: ignore[call-overload]
    if name == "respond":
        return lc.record_response(state, stage=int(args[0]), responder_id=int(args[1]))  # type: ignore[call-overload]
    if name == "escalate":
        return lc.request_escalation(state)
    if name == "open_stage2":
        return lc.open_stage2(state)
    if name == "extend":
        return lc.extend(
            state,
            stage=int(args[0]),
            working_days=int(args[1]),  # type: ignore[call-overload]
            reason=str(args[2]),
            good_reason=args[3],
            timescales=CODE_2024,
        )  # type: ignore[arg-type]
    if name == "exclude":
        return lc.exclude(state, reason=str(args[0]))
    return lc.close(state)


@settings(max_examples=400, deadline=None)
@given(st.lists(actions, max_size=30))
def test_random_action_sequences_keep_the_codes_invariants(steps: list[tuple[object, ...]]) -> None:
    state = ComplaintState()
    seen: list[CaseStatus] = [state.status]
    good_reason_given = {1: False, 2: False}
    for action in steps:
        try:
            new = apply(state, action)
        except LifecycleError as exc:
            assert exc.message  # refusals always say why
            continue
        if action[0] == "extend" and action[4]:
            good_reason_given[int(action[1])] = True  # type: ignore[call-overload]
        state = new
        seen.append(state.status)
        # Only two stages, and a status always agrees with its stage.
        assert state.stage in (None, 1, 2)
        if state.status.value.startswith("stage1"):
            assert state.stage == 1
        if state.status.value.startswith("stage2"):
            assert state.stage == 2
        # Code 6.13
        assert state.stage1_handler is None or state.stage1_handler != state.stage2_handler
        # Code 2.4: an exclusion always has its reason.
        if state.status is S.EXCLUDED:
            assert state.exclusion_reason and state.exclusion_reason.strip()
        # Code 6.4 / 6.15: past the limit only with a good reason.
        for stage, limit in ((1, 10), (2, 20)):
            if state.extension_days(stage) > limit:
                assert good_reason_given[stage]
        # Stage 2 is only reached through a stage 1 response and an escalation request.
        if state.status in (S.STAGE2_REQUESTED, S.STAGE2_OPEN, S.STAGE2_RESPONDED):
            assert S.STAGE1_RESPONDED in seen
        # A closed complaint was responded to or excluded first.
        if state.status is S.CLOSED:
            assert {S.STAGE1_RESPONDED, S.STAGE2_RESPONDED, S.EXCLUDED} & set(seen)


def test_whoever_gives_an_unassigned_stage1_response_is_kept_off_stage2() -> None:
    """A one-tap log has no handler; the person who answers it handled stage 1 (Code 6.13)."""
    responded = lc.record_response(lc.open_stage1(ComplaintState()), stage=1, responder_id=7)
    assert responded.stage1_handler == 7
    escalated = lc.request_escalation(responded)
    with pytest.raises(LifecycleError, match=r"6\.13"):
        lc.assign_handler(escalated, stage=2, staff_id=7)
    assert lc.assign_handler(escalated, stage=2, staff_id=8).stage2_handler == 8


def test_an_assigned_stage1_handler_stays_the_handler_when_a_colleague_sends_the_response() -> None:
    assigned = lc.assign_handler(lc.open_stage1(ComplaintState()), stage=1, staff_id=3)
    assert lc.record_response(assigned, stage=1, responder_id=9).stage1_handler == 3
