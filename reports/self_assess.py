"""The Code's self-assessment (8.1a) in its own order, 1.2 to 9.8, filled from live data where it can be.

Each provision gets a status and the evidence:
- "yes": the period's data shows the requirement met (the figure says what was checked);
- "no": the data shows cases where it was not; they are counted and listed by reference;
- "no data": nothing in the period to judge it by;
- "policy": software cannot judge it (policy, training, governance): evidence held outside this system.
The requirement column is a short summary for finding the row; the landlord's published form carries
the Code's own wording. A "yes" is evidence for the complaints officer, who signs the assessment off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from reports.build import Report
from reports.evidence import Evidence, Listed

YES, NO, NO_DATA, POLICY = "yes", "no", "no data", "policy"
POLICY_EVIDENCE = "policy — evidence held outside this system"


@dataclass(frozen=True)
class Assessment:
    provision: str
    section: str
    requirement: str
    status: str
    evidence: str
    references: list[str] = field(default_factory=list)


Judge = Callable[[Report, Evidence], tuple[str, str, list[str]]]

SECTIONS = {
    "1": "Definition of a complaint",
    "2": "Exclusions",
    "3": "Accessibility and awareness",
    "4": "Complaint handling staff",
    "5": "The complaint handling process",
    "6": "Complaint stages",
    "7": "Putting things right",
    "8": "Self-assessment, reporting and compliance",
    "9": "Scrutiny and oversight: continuous learning and improvement",
}


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _listed(problem: Listed, what: str) -> tuple[str, list[str]]:
    """ ", 3 without a definition, listed" and the references, or nothing when there are none."""
    if problem.count == 0:
        return "", []
    shown = "listed" if problem.count <= len(problem.references) else f"first {len(problem.references)} listed"
    return f"; {problem.count:,} {what}, {shown}", problem.references


def _status(total: int, problems: int) -> str:
    if total == 0:
        return NO_DATA
    return NO if problems else YES


def recognised(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    if facts.logged == 0:
        return NO_DATA, "no complaints logged in the period", []
    channels = ", ".join(f"{n:,} by {name}" for name, n in sorted(facts.channels.items()))
    return (
        YES,
        f"{_n(facts.logged, 'complaint')} logged at stage 1 ({channels}); {facts.without_the_word_complaint:,} of them "
        f"never used the word 'complaint'; {facts.third_party:,} made by a third party or representative",
        [],
    )


def service_request_register(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    sr = report.service_requests
    if sr.received == 0 and sr.open_at_period_end == 0:
        return NO_DATA, "no service requests recorded", []
    age = sr.age_at_period_end
    ages = f", median age {age.median:g} and oldest {age.max:g} working days" if age.median is not None else ""
    return (
        YES,
        f"register: {_n(sr.received, 'service request')} recorded in the period, {sr.open_at_period_end:,} open at "
        f"its end{ages}; {sr.closed_in_period:,} closed in the period",
        [],
    )


def linked_requests(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    sr = report.service_requests
    if sr.linked_to_complaint == 0:
        return NO_DATA, "no complaint about a service request recorded in the period", []
    return (
        YES,
        f"{_n(sr.linked_to_complaint, 'service request')} later linked to a complaint, "
        f"{sr.linked_still_open:,} still open and carrying on (the complaint never closes them)",
        [],
    )


def surveys(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    sf = report.survey_feedback
    if sf.received == 0:
        return NO_DATA, "no survey feedback in the period", []
    text, refs = _listed(facts.surveys_not_told, "not told (reply missing or failed)")
    return (
        _status(sf.received, facts.surveys_not_told.count),
        f"{_n(sf.received, 'survey reply', 'survey replies')}, {sf.dissatisfied:,} expressing dissatisfaction; "
        f"{_pct(sf.told_how_to_complain, sf.received)} told how to complain{text}",
        refs,
    )


def accepted(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    r = report.performance.refusals
    received = report.performance.received.stage1 + r.stage1
    if received == 0 and r.total == 0:
        return NO_DATA, "no complaints received in the period", []
    text, refs = _listed(facts.refusals_without_decider, "refused without a named person's decision")
    return (
        _status(received + r.total, facts.refusals_without_decider.count),
        f"{r.stage1:,} of {received:,} stage 1 complaints refused ({_pct(r.stage1, received)}) and "
        f"{_n(r.stage2, 'escalation')} refused, each decided by a named person with reasons{text}",
        refs,
    )


def refusal_reasons(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    r = report.performance.refusals
    if r.total == 0:
        return NO_DATA, "no complaints refused in the period", []
    reasons = "; ".join(f"stage {x.stage}: {x.reason} ({x.count})" for x in r.reasons[:5])
    return YES, f"reasons recorded for all {r.total:,} refusals: {reasons}", []


def refusal_letters(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    r = report.performance.refusals
    text, refs = _listed(facts.refusals_without_letter, "without a refusal letter")
    return (
        _status(r.total, facts.refusals_without_letter.count),
        f"{_n(r.total, 'refusal')} in the period, each letter giving the reasons and the right to go to the "
        f"Ombudsman{text}",
        refs,
    )


def two_stages(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    rec = report.performance.received
    return (
        YES if rec.total else NO_DATA,
        f"two stages only (the database refuses any other): {rec.stage1:,} stage 1 and {rec.stage2:,} stage 2",
        [],
    )


def definitions(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    problem = facts.without_definition
    text, refs = _listed(problem, "without a complaint definition")
    defined = facts.logged - problem.count
    return (
        _status(facts.logged, problem.count),
        f"{_pct(defined, facts.logged)} of {_n(facts.logged, 'complaint')} logged with a complaint definition{text}",
        refs,
    )


def adjustments(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    if facts.support_needs_active == 0:
        return NO_DATA, "no disclosed needs or reasonable adjustments on record", []
    overdue = facts.support_needs_review_overdue
    return (
        NO if overdue else YES,
        f"{_n(facts.support_needs_active, 'need or adjustment', 'needs and adjustments')} on record, "
        f"{overdue:,} past their review date",
        [],
    )


def full_record(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    problem = facts.without_original_message
    text, refs = _listed(problem, "without the original message on record")
    return (
        _status(facts.logged, problem.count),
        f"{_pct(facts.logged - problem.count, facts.logged)} of {_n(facts.logged, 'complaint')} hold the original "
        f"message, dates, correspondence and each stage's outcome{text}",
        refs,
    )


def remedies(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    rem = report.performance.outcomes.remedies
    responses = rem["stage1"]["responses"] + rem["stage2"]["responses"]
    offered = rem["stage1"]["with_remedy"] + rem["stage2"]["with_remedy"]
    if responses == 0:
        return NO_DATA, "no stage responses in the period", []
    return YES, f"a remedy offered in {offered:,} of {_n(responses, 'response')} ({_pct(offered, responses)})", []


def restrictions(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    if facts.restrictions_active == 0:
        return NO_DATA, "no contact restrictions in force", []
    overdue = facts.restrictions_review_overdue
    return (
        NO if overdue else YES,
        f"{_n(facts.restrictions_active, 'contact restriction')} in force, {overdue:,} past their review date",
        [],
    )


def acknowledged(stage: int, days: int) -> Judge:
    def judge(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
        a = report.performance.acknowledged[f"stage{stage}"]
        if a.due == 0:
            return NO_DATA, f"no stage {stage} acknowledgement fell due in the period", []
        listed, _ = _listed(Listed(a.late, a.late_references), "late")
        pending = f" ({a.pending:,} not yet due)" if a.pending else ""
        return (
            NO if a.late else YES,
            f"{_pct(a.on_time, a.due)} of {_n(a.due, 'complaint')} acknowledged within {days} working days"
            f"{pending}{listed}",
            a.late_references,
        )

    return judge


def responded(stage: int, days: int) -> Judge:
    def judge(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
        r = report.performance.responded[f"stage{stage}"]
        if r.responded == 0:
            return NO_DATA, f"no stage {stage} responses in the period", []
        listed, _ = _listed(Listed(r.late, r.late_references), "late")
        return (
            NO if r.late else YES,
            f"{_pct(r.on_time, r.responded)} of {_n(r.responded, 'response')} within {days} working days of the "
            f"acknowledgement or an extension the Code allows ({r.within_extension:,} after an extension){listed}",
            r.late_references,
        )

    return judge


def extension_limit(stage: int, limit: int) -> Judge:
    def judge(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
        ext = getattr(report.performance.extensions, f"stage{stage}")
        if ext["count"] == 0:
            return NO_DATA, f"no stage {stage} extensions in the period", []
        return (
            YES,
            f"{_n(ext['count'], 'extension')} ({ext['working_days']:,} working days in all), each within {limit} "
            f"working days or with a recorded good reason ({ext['with_good_reason']:,} with one)",
            [],
        )

    return judge


def extension_notices(stage: int) -> Judge:
    def judge(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
        ext = getattr(report.performance.extensions, f"stage{stage}")
        problem = facts.extensions_resident_not_told[f"stage{stage}"]
        text, refs = _listed(problem, "without a notice to the resident")
        return (
            _status(ext["count"], problem.count),
            f"{_n(ext['count'], 'extension')} at stage {stage}, each notice giving the Ombudsman's details{text}",
            refs,
        )

    return judge


def stage_responses(stage: int) -> Judge:
    def judge(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
        d = report.performance.outcomes.decisions[f"stage{stage}"]
        total = sum(d.values())
        if total == 0:
            return NO_DATA, f"no stage {stage} responses in the period", []
        return (
            YES,
            f"{_n(total, 'response')} at stage {stage}, each recording the decision and its reasons: "
            f"{d['upheld']:,} upheld, {d['partly_upheld']:,} partly upheld, {d['not_upheld']:,} not upheld",
            [],
        )

    return judge


def escalations(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    e = report.performance.escalation
    rec = report.performance.received
    if rec.stage2 == 0 and report.performance.refusals.stage2 == 0:
        return NO_DATA, "no escalation requests in the period", []
    return (
        YES,
        f"{rec.stage2:,} escalations logged at stage 2, no reason asked of the resident; "
        f"{e.escalated:,} of {e.stage1_responded:,} stage 1 complaints answered were escalated",
        [],
    )


def different_handler(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    problem = facts.stage2_same_handler
    text, refs = _listed(problem, "with the stage 1 handler at stage 2")
    return (
        _status(report.performance.received.stage2, problem.count),
        f"{_n(report.performance.received.stage2, 'stage 2 complaint')}, handled by someone other than the stage 1 "
        f"handler (the database refuses the same person){text}",
        refs,
    )


def annual_report(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    return (
        YES,
        "this system's report (`triage report`): volumes, CH01/CH02, timescales, outcomes, refusals by reason (8.1b)",
        [],
    )


def trends(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    top = report.themes.top
    if not top:
        return NO_DATA, "no complaints in the period", []
    listed = ", ".join(f"{t.category} {t.count:,} ({t.change:+,})" for t in top)
    return YES, f"themes against the previous period in `triage report`: {listed}", []


def governing_body(report: Report, facts: Evidence) -> tuple[str, str, list[str]]:
    return (
        YES,
        "`triage report` gives volumes, categories, outcomes, performance against timescales and trends for any "
        "period; the governing body's receipt of it is held outside this system",
        [],
    )


# The Code's provisions in its order. Summaries, with the judge where the data can speak.
PROVISIONS: tuple[tuple[str, str, Judge | None], ...] = (
    ("1.2", "Use the Code's definition of a complaint", None),
    ("1.3", "No need to say 'complaint'; offer the choice whenever dissatisfied; representatives", recognised),
    ("1.4", "Service requests recorded, monitored and reviewed", service_request_register),
    ("1.5", "Dissatisfaction with a service request response is a complaint; the request carries on", linked_requests),
    ("1.6", "Survey dissatisfaction is not a complaint, but say how to complain", surveys),
    ("2.1", "Accept a complaint unless there is a valid reason not to", accepted),
    ("2.2", "Circumstances in which a complaint is not accepted, fair and reasonable", refusal_reasons),
    ("2.3", "Accept within 12 months of the issue or of becoming aware; discretion beyond", None),
    ("2.4", "Explain a refusal and the right to take it to the Ombudsman", refusal_letters),
    ("2.5", "Each complaint on its merits; no blanket exclusions", None),
    ("3.1", "Complaints process easy to access and understand", None),
    ("3.2", "Accessible, in line with the Equality Act; reasonable adjustments", None),
    ("3.3", "More than one route to make a complaint", None),
    ("3.4", "High volumes of complaints are not seen negatively", None),
    ("3.5", "Complaints policy and self-assessment published", None),
    ("3.6", "Residents made aware of the process and the Code", None),
    ("3.7", "Residents told of their right to go to the Ombudsman", None),
    ("4.1", "A person or team responsible for complaint handling (the complaints officer)", None),
    ("4.2", "Handlers with the skills and no conflict of interest", None),
    ("4.3", "Handlers trained, with access to staff and authority to resolve", None),
    ("5.1", "A single policy with two stages", None),
    ("5.2", "Two stages only; no informal or stage 0 step", two_stages),
    ("5.3", "Complaints handled by third parties follow the Code", None),
    ("5.4", "Residents not told to approach a third party first", None),
    ("5.5", "Landlord responsible for third parties' complaint handling", None),
    ("5.6", "Set out the complaint definition and outcomes sought; clarify anything unclear", definitions),
    ("5.7", "Say which aspects the landlord is and is not responsible for", None),
    ("5.8", "Deal with complaints on their merits, impartially and fairly", None),
    ("5.9", "Agree how to keep the resident informed when a response is late", None),
    ("5.10", "Record and review disclosed needs and reasonable adjustments", adjustments),
    ("5.11", "Never refuse to escalate through both stages", None),
    ("5.12", "Keep a full record of the complaint and its outcome at each stage", full_record),
    ("5.13", "Remedies may be offered at any stage", remedies),
    ("5.14", "A policy for unacceptable behaviour", None),
    ("5.15", "Contact restrictions proportionate and reviewed", restrictions),
    ("6.1", "Resolve complaints as early as possible", None),
    ("6.2", "Stage 1: acknowledge, define and log within 5 working days", acknowledged(1, 5)),
    ("6.3", "Stage 1: respond within 10 working days of the acknowledgement", responded(1, 10)),
    ("6.4", "Stage 1 extensions at most 10 working days without good reason", extension_limit(1, 10)),
    ("6.5", "Give the Ombudsman's details with every stage 1 extension", extension_notices(1)),
    ("6.6", "Respond when the answer is known; track outstanding actions", None),
    ("6.7", "Address every point and give reasons", None),
    ("6.8", "New related issues join the stage 1 complaint", None),
    ("6.9", "Stage 1 response: decision, reasons, remedy, actions, how to escalate", stage_responses(1)),
    ("6.10", "Escalate whenever the resident is not satisfied", escalations),
    ("6.11", "Stage 2: acknowledge, define and log within 5 working days", acknowledged(2, 5)),
    ("6.12", "Never insist on reasons for escalating", None),
    ("6.13", "Stage 2 handled by someone not involved at stage 1", different_handler),
    ("6.14", "Stage 2: respond within 20 working days of the acknowledgement", responded(2, 20)),
    ("6.15", "Stage 2 extensions at most 20 working days without good reason", extension_limit(2, 20)),
    ("6.16", "Give the Ombudsman's details with every stage 2 extension", extension_notices(2)),
    ("6.17", "Stage 2: respond when the answer is known; track outstanding actions", None),
    ("6.18", "Stage 2: address every point and give reasons", None),
    ("6.19", "Stage 2 response: decision, reasons, remedy, actions, Ombudsman", stage_responses(2)),
    ("6.20", "Stage 2 is the landlord's final response", None),
    ("7.1", "Put things right where something has gone wrong", None),
    ("7.2", "Remedies clearly set out, followed through", None),
    ("7.3", "Take the Ombudsman's remedies guidance into account", None),
    ("8.1", "Annual complaints performance and service improvement report", annual_report),
    ("8.2", "Report and governing body response published and sent to the Ombudsman", None),
    ("8.3", "Self-assessment after a restructure, merger or significant change", None),
    ("8.4", "Tell the Ombudsman of exceptional circumstances preventing compliance", None),
    ("9.1", "Look beyond the individual complaint for service improvements", None),
    ("9.2", "Use complaints as intelligence to improve services", None),
    ("9.3", "Report learning and improvements to residents, staff and committees", None),
    ("9.4", "A senior lead assesses themes and trends", trends),
    ("9.5", "A Member Responsible for Complaints on the governing body", None),
    ("9.6", "The MRC supports a positive culture and receives regular information", None),
    (
        "9.7",
        "Governing body gets regular information on volumes, categories, outcomes, timescales, themes",
        governing_body,
    ),
    ("9.8", "Staff supported to have a collaborative, positive complaint culture", None),
)


def self_assess(report: Report, facts: Evidence) -> list[Assessment]:
    rows = []
    for number, requirement, judge in PROVISIONS:
        section = SECTIONS[number.split(".")[0]]
        if judge is None:
            rows.append(Assessment(number, section, requirement, POLICY, POLICY_EVIDENCE))
            continue
        status, text, refs = judge(report, facts)
        rows.append(Assessment(number, section, requirement, status, text, refs))
    return rows
