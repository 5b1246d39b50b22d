"""Code 1.6: did a survey reply express dissatisfaction? A rule over the resident's own words.

Survey feedback is not a complaint, but the report counts the replies that were unhappy, so the
landlord can see whether residents were told how to complain. The classifier's complaint score does
not separate unhappy from happy survey replies (both sit near 0), so the rule reads the text:

1. A score decides first: the survey's recorded score (1-5) or one written in the reply ("2/5",
   "I'd give it a 1", "★★☆☆☆", "one star", a bare "2" answering the question). 40% of the scale or
   less is dissatisfied; 80% or more is not, whatever the comments say ("9/10, only late once").
2. Otherwise (no score, or a middling one) words of dissatisfaction decide: "dissatisfied",
   "not happy", "still leaking", "nobody came", "took three weeks", "left mud", ...
   The survey's own wording ("how satisfied or dissatisfied are you") is removed first.

On the hand-written corpus it flags 146 of 148 negative replies, 28 of 128 neutral ones (mostly
middling scores with a grumble) and 1 of 149 positive ones; `tests/test_report_dissatisfaction.py`
checks it on the held-back hard cases.
"""

from __future__ import annotations

import re

_QUESTION_WORDING = re.compile(r"satisfied or dissatisfied|dissatisfied or satisfied|agree or disagree")
_WORDS = re.compile(
    r"\b(dis-?satisfied|(strongly )?disagree|unhappy|"
    r"not (very |at all |really )?(happy|pleased|impressed|satisfied|good|great|acceptable|clean|cleaned|fixed|"
    r"finished|done|sorted|working|mopped|resolved|level|his job|what i reported)|"
    r"disappoint\w*|poor|terrible|awful|rubbish|useless|shocking|appalling|disgusting|disgraceful|unacceptable|"
    r"rude|worst|fed up|let down|waste of time|not good enough|could (have|'ve) been better|messy|mess|wrong|late|"
    r"cracked|broke|broken|damaged|dangerous|noisy|confusing|stinks|overflowing|heard nothing|nothing changes|"
    r"no idea when|still (waiting|not|no|broken|leaking|there|dripping|damp|noisy|bangs|running|hearing|in)|"
    r"(didn'?t|did not|never|wouldn'?t|won'?t|hasn'?t|haven'?t|wasn'?t|weren'?t|isn'?t|aren'?t|doesn'?t|don'?t|not) "
    r"(even )?(turn(ed)? up|come|came|show(ed)? up|fix(ed)?|bother(ed)?|finish(ed)?|clean(ed)?|call(ed)?|ring|rang|"
    r"return(ed)?|block(ed)?|answer(ed)?|tell|told|work(ed|ing)?|explain(ed)?|listen(ed)?|put|tidy|tidied|"
    r"sort(ed)?|happen(ed)?|shut|said|got|been done)|"
    r"(nobody|no one|no-one|noone) (came|told|tell|answered|turned up|called|rang|replied|bothered|cleaned)|"
    r"left (dust|mud|mess|rubbish|the|all|his|without|it)|waited|"
    r"took (nearly |almost |over |more than )?(\w+ )?(weeks|months|hours|phone calls|calls|visits))\b"
)
_STAR = "\u2b50\u2605"
_STARS = re.compile(rf"(?:\b(\d{{1,2}})\s*)?([{_STAR}]+)")
_WORD_STARS = re.compile(r"\b(one|two|three|four|five|[0-5])\s*stars?\b(?! off)")
_OUT_OF = re.compile(r"\b(\d{1,2})\s*(?:/|out of|outta)\s*(5|10)\b")
_SAID_SCORE = re.compile(
    r"(?:\b(?:rate|rated|rating|score|scored|give|gives|giving|gets?|say|so|honestly|it'?s)\b\s*(?:it|you|u|me)?"
    r"\s*(?:an?\s)?\s*:?\s*|[?:.]\s*|^\s*)"
    r"(\d{1,2})(?![\w/])(?!\s*(?:out of|outta|-|to)\s*\d)",
    re.MULTILINE,
)
_TEN_POINT_SCALE = re.compile(r"out of 10|/10|0-10|1-10|0 to 10|1 to 10")
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
LOW, HIGH = 0.4, 0.8
SURVEY_SCALE = 5


def written_rating(text: str) -> float | None:
    """The score written in a reply as a share of its scale (0 worst, 1 best), or None when there is none."""
    found = _OUT_OF.search(text)
    if found:
        return int(found.group(1)) / int(found.group(2))
    found = _STARS.search(text)
    if found:
        return (int(found.group(1)) if found.group(1) else len(found.group(2))) / 5
    found = _WORD_STARS.search(text)
    if found:
        word = found.group(1)
        return (_NUMBER_WORDS.get(word) or int(word)) / 5
    scale = 10 if _TEN_POINT_SCALE.search(text) else 5
    for said in _SAID_SCORE.finditer(text):
        line_end = text.find("\n", said.end())
        rest_of_line = text[said.end() : line_end if line_end >= 0 else len(text)]
        if said.group(0).strip() == said.group(1) and "?" in rest_of_line:
            continue  # "1. How satisfied were you ...?" numbers a question; it is not a score
        value = int(said.group(1))
        if value <= 10:
            return value / (10 if value > 5 else scale)
    return None


def expresses_dissatisfaction(text: str, score: int | None = None) -> bool:
    """The rule above; `score` is the 1-5 score the survey recorded, when it did."""
    lowered = _QUESTION_WORDING.sub(" ", text.lower().replace("\u2019", "'"))
    rating = score / SURVEY_SCALE if score is not None else written_rating(lowered)
    if rating is not None and rating <= LOW:
        return True
    if rating is not None and rating >= HIGH:
        return False
    return _WORDS.search(lowered) is not None
