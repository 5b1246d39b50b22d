"""Flags for every message: hazard (Awaab's Law), vulnerability, third party, exclusion hints.

Each flag is a small table of named rules (regular expressions over the lower-cased new text), read
in order; the first hazard rule that matches names the hazard. Rules stay readable so staff can see
why a message was flagged, and a missed hazard is the worst error, so they lean towards flagging.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date

from classifier.prefilter import LiteralIndex, required_literals


@dataclass(frozen=True)
class Clause:
    """One alternative of a rule, with the literals any match must contain (None: always search)."""

    id: int
    pattern: re.Pattern[str]
    needles: frozenset[str] | None


@dataclass(frozen=True)
class Rule:
    """A named list of regular expressions; the rule matches when any of them does."""

    name: str
    clauses: tuple[Clause, ...]

    def check(self, text: str, candidates: set[int] | None = None) -> bool:
        """Whether the rule matches; `candidates` (from the literal index) skips clauses that cannot."""
        if candidates is None:
            candidates = INDEX.candidates(text)
        return any(c.pattern.search(text) is not None for c in self.clauses if c.id in candidates)


INDEX = LiteralIndex()
_clause_ids = itertools.count()


def _rule(name: str, *alternatives: str) -> Rule:
    clauses = []
    for alternative in alternatives:
        clause = Clause(next(_clause_ids), re.compile(alternative), required_literals(alternative))
        INDEX.add(clause.id, clause.needles)
        clauses.append(clause)
    return Rule(name, tuple(clauses))


# Order matters: the first rule that matches names the hazard, most urgent first.
NOT = r"(won'?t|wont|doesn'?t|does not|can'?t|cannot|will not|not|no longer|never)"
HEATING_KIT = (
    r"(heating|boiler|radiators?|rads?|hot water|storage heaters?|heaters?|thermostat|"
    r"heat interface unit|hiu|district heating|immersion|cylinder|combi)"
)
HAZARD_RULES: tuple[Rule, ...] = (
    _rule(
        "gas",
        r"\bsmell(s|ing|ed)? (of )?gas\b",
        r"\bgas (smell|leak|escape|meter)",
        r"\bcarbon monoxide\b",
        r"\bco (alarm|detector|monitor)\b",
        r"\bgas (is )?leaking\b",
        r"\bcadent\b",
        r"\bnational gas\b",
        r"\b(orange|yellow|lazy) flame",
        r"\bsoot\b",
        r"\b(gas )?(hob|cooker|fire)\b.{0,60}\b(funny|strange|weird|odd) smell",
        r"\bsmells? (like|of) (rotten )?eggs\b",
    ),
    _rule(
        "fire",
        r"\bfire ?doors?\b",
        r"\bsmoke (alarm|detector)s?\b",
        r"\bfire (alarm|risk|escape|exit|hazard|safety|service)s?\b",
        r"\bcladding\b",
        r"\bcaught fire\b",
        r"\b(on|set|setting|sets) (fire|alight)\b",
        r"\balight\b",
        r"\barson\b",
        r"\bsprinklers?\b",
        r"\bfire brigade\b",
        r"\bblocked (escape|stair|exit)",
        r"\bsmoke (pouring|coming|everywhere|billowing)",
        r"\boxygen\b.{0,60}\bsmok",
        r"\bsmok(e|ing)\b.{0,60}\boxygen\b",
    ),
    _rule(
        "water_leak",
        r"\bwater\b.{0,60}\b(light fitting|lights?|socket|electrics|ceiling rose)",
        r"\bleak(s|ing|ed|y)?\b",
        r"\bflood(s|ing|ed)?\b",
        r"\bburst\b",
        r"\b(water|rain)\b.{0,15}\b(is |still |keeps )?(coming|pouring|dripping|running|gushing|pissing|everywhere|"
        r"through|getting in|comes in|pours|drips)",
        r"\bdrip(s|ping)?\b",
        r"\bceilings?('s| is| are)?\b.{0,40}\b(drip|wet|soak|water|stain|bulg|bubbl)",
        r"\bsewage\b",
        r"\boverflow(ing)?\b",
        r"\bstop ?c(o|oc)ck\b",
        r"\bwater damage\b",
        r"\bsoak(ed|ing)\b",
        r"\bweep(s|ing)\b",
        r"\bbuckets?\b",
        r"\b(gutter|guttering|downpipe|roof)s?\b.{0,60}\b(blocked|broken|overflow|hole|missing|slipped|leak|wet|water)",
        r"\b(slipped|missing|broken) (roof )?(tiles|slates)\b",
    ),
    _rule(
        "electrical",
        r"\bspark(s|ing|ed|y)?\b",
        r"\b(exposed|bare|live|loose|hanging|dangling) (wire|wiring|cable)s?\b",
        r"\bwires? (hanging|exposed|sticking|out)\b",
        r"\belectric(al)? shock\b",
        r"\b(shocked|shock off|electrocut)",
        r"\b(fuse ?box|consumer unit|trip ?switch|rcd)\b",
        r"\btrip(s|ped|ping)? (the |out )?(electric|power|fuse)",
        r"\b(electrics?|power|fuse)\b.{0,20}\btrip",
        r"\bburning (plastic )?smell\b",
        r"\bsmell of burning\b",
        r"\bscorch(ed|ing|es)?\b",
        r"\b(socket|switch|plug|light fitting)s?\b.{0,50}\b(melt|burn|smok|hot|buzz|crackl|hanging|loose|broken|"
        r"dead|not working|black)",
        r"\b(sockets?|lights?|electrics?)\b.{0,20}\b(are |is |all )?(dead|gone off|went off|keep going off)",
        r"\belectrics\b.{0,40}\b(dangerous|unsafe|wet|off|faulty|old)",
        r"\bno (power|electric(ity)?|lights?)\b",
        r"\bpower (cut|keeps going|off|outage)\b",
        r"\b(electric|meter) cupboard\b",
        r"\belectrician\b",
        r"\bbuzzing\b",
        r"\bcannabis\b",
    ),
    _rule(
        "structural",
        r"\bceiling\b.{0,40}\b(collaps|fall|fell|cave|sag|bow|come down|coming down|crack)",
        r"\b(collaps|caved|caving)",
        r"\bcrack(s|ed|ing)?\b.{0,40}\b(wall|ceiling|brick|render|floor|chimney|lintel|glass|window|concrete)",
        r"\b(wall|ceiling|brick|render|chimney|lintel|glass|concrete)s?\b.{0,40}\bcrack",
        r"\bsubsiden",
        r"\b(balcony|balconies|railings?|rail|banister|handrail|stairs?|walkway|steps)\b.{0,60}\b(loose|wobbl|rott|"
        r"unsafe|broken|collaps|give way|gave way|moves|rust|crumbl|falling)",
        r"\b(loose|falling|fell|fallen|falls) (off )?(tiles?|slates?|masonry|bricks?|render|plaster|concrete|coping)",
        r"\b(concrete|masonry|render|bricks?|coping)\b.{0,40}\b(fall|fell|falling|crumbl|coming off|came off|loose)",
        r"\b(floor ?boards?|floor|joists?)\b.{0,40}\b(rott|gave way|give way|giving way|collaps|hole|split|sag|bounc)",
        r"\brotten (floor|joist|boards)",
        r"\bplaster\b.{0,30}\b(fall|fell|coming off|came down|come down|crumbl)",
        r"\b(bowing|bulging) (wall|glass|window|ceiling)|\b(glass|wall)\b.{0,20}\bbowing",
        r"\bstructural\b",
    ),
    _rule(
        "damp_mould",
        r"\bmou?ld(y|s)?\b",
        r"\bdamp\b",
        r"\bcondensation\b",
        r"\bmildew\b",
        r"\bblack (spots|patches|stuff|marks)\b",
        r"\b(fungus|fungi|mushrooms?)\b",
        r"\bwet walls?\b",
        r"\bwalls? (are |is )?(wet|soaking|sweating|running|feels? wet)\b",
        r"\bfeels? wet\b",
        r"\bmusty\b",
        r"\bextractor fan\b",
        r"\bpiv\b|\bpositive input\b",
    ),
    _rule(
        "no_heating",
        r"\bno (heating|heat|hot water|warm water)\b",
        rf"\b{HEATING_KIT}\b.{{0,80}}\b({NOT}|broken|broke|bust|dead|died|packed|gone|off|stopped|failed|cold|"
        r"conk|kaput|playing up|blink|pressure|lukewarm|tepid|fault|error|leak|in bits|on order|only one|reset|"
        r"isn'?t|aren'?t|keeps|again|still|wait)",
        rf"\b(broken|dead|faulty|no|cold|new|replace|fix) {HEATING_KIT}",
        r"\bno (hot )?water\b",
        r"\bwithout (hot water|heating|heat)\b",
        r"\bfreezing\b|\bbaltic\b|\bperishing\b",
        r"\bcold (house|flat|home|bungalow|rooms?)\b",
        r"\b(keep|get|keeping) (the )?(flat|house|place|home|us|kids|children|baby|rooms?) warm\b",
        r"\b(coats|blankets|hats) (on )?indoors\b|\bsat in (our|my) coats\b",
        r"\b(oil|electric|plug[- ]in|fan) heaters?\b",
        r"\bkettle (baths?|to wash)",
        r"\bcold water only\b",
        r"\bstone cold\b",
        r"\bno gas\b",
    ),
    _rule(
        "security",
        rf"\b{NOT} (lock|shut|close|secure)\b",
        r"\b(lock|locks|latch|catch)\b.{0,30}\b(broken|bust|snapped|jammed|smashed|not working|doesn'?t work|missing)",
        r"\bno (lock|locks)\b",
        r"\bbroken (lock|latch|window|door)",
        r"\b(smashed|boarded( up)?|kicked in|forced|hanging off)\b",
        r"\bbreak[- ]?in\b|\bbroken into\b|\bburgl",
        r"\b(door entry|entry system|intercom|fob reader)\b.{0,40}\b(broken|not working|bust|propped|open|dead)",
        r"\bpropped open\b",
        r"\banyone can (walk|get|come) in\b",
        r"\b(left|leaves) (the |my |his |her )?(front |back )?door (unlocked|open|on the latch)",
        r"\bunlocked\b|\bon the latch\b",
        r"\bkeys? (lost|stolen|copied)|\b(ex|ex-partner|ex partner)\b.{0,40}\bkeys?\b",
    ),
)

VULNERABILITY_RULE = _rule(
    "vulnerability",
    r"\bdisab(led|ility|ilities)\b",
    r"\bwheel ?chair\b",
    r"\bpregnan(t|cy)\b",
    r"\b(weeks|months) pregnant\b",
    r"\bnew ?born\b",
    r"\bbaby\b|\bbabies\b|\binfant\b|\btoddler\b",
    r"\b\d{1,2}[ -](week|month)[ -]old\b",
    r"\b(asthma|copd|emphysema|bronchitis|cancer|chemo|dialysis|diabet|epilep|dementia|alzheimer|parkinson|"
    r"stroke|heart (condition|failure|attack)|sickle cell|multiple sclerosis|arthritis|cystic fibrosis)",
    r"\b(mental health|depress(ed|ion)|anxiety|ptsd|bipolar|schizophren|suicid|self[- ]harm|crisis team)\b",
    r"\b(elderly|pensioner|frail|aged (8|9)\d|in (my|his|her) (80s|90s|eighties|nineties)|i am (8|9)\d|i'?m (8|9)\d)\b",
    r"\b(i am|i'm|im|she is|he is|mum is|dad is) (7|8|9)\d\b",
    r"\b(blind|deaf|partially sighted|hard of hearing|learning (disabilit|difficult)|autis|adhd)\b",
    r"\b(walking frame|zimmer|crutches|mobility|housebound|bed ?bound|carer|care package|oxygen)\b",
    r"\b(occupational therapist|\bot\b assessment|blue badge|pip\b|dla\b)",
    r"\b(domestic abuse|domestic violence|fleeing|refuge)\b",
    r"\b(terminal|terminally|palliative|hospice|immun(e|o)[- ]?(suppress|compromis))",
    r"\b(recovering from|just had|after my) (an? )?(operation|surgery|hip|knee)",
    r"\bsurgery\b",
    r"\bhospital\b",
    r"\b(vulnerable)\b",
)

THIRD_PARTY_RULE = _rule(
    "third_party",
    r"\bon (behalf|behal) of\b",
    r"\bwriting (for|about) my (mum|mother|dad|father|nan|gran|grandad|grandfather|grandmother|son|daughter|sister|"
    r"brother|aunt|uncle|client|constituent|tenant|neighbour)\b",
    r"\bmy (client|constituent)s?\b",
    r"\b(caseworker|case worker|support worker|advocate|social worker|key worker|councillor|cllr|solicitors?|"
    r"mp'?s office|member of parliament|citizens advice|interpreter)\b",
    r"\b(my|our) (mum|mother|dad|father|nan|gran|grandad|grandfather|grandmother|elderly (mum|dad|mother|father)|"
    r"aunt|uncle)('s)? (is|has|lives|flat|house|home|tenancy|bungalow|boiler|heating|property)\b",
    r"\b(who|she|he) (is|has been) (your|a) tenant\b",
    r"\bi (am|'m) (her|his|their) (daughter|son|carer|next of kin|niece|nephew)\b",
    r"\bresidents'? association\b",
    r"\bi have (her|his|their) (permission|consent)\b",
    r"\bwith (her|his|their) (permission|consent)\b",
)

LEGAL_RULE = _rule(
    "legal_proceedings",
    r"\b(claim|proceedings) (has|have) (now )?been (filed|issued|lodged|started)\b",
    r"\b(issued|filed|lodged|started) (court )?(proceedings|a claim|the claim|a disrepair claim)\b",
    r"\bclaim (number|no\.?)\b",
    r"\bcounty court\b",
    r"\bcourt (claim|case|date|hearing|proceedings)\b",
    r"\bmoney claim online\b",
    r"\b(hearing|trial) (date|is listed|has been listed)\b",
    r"\bpossession (claim|proceedings|hearing)\b",
    r"\bsealed claim\b",
)

PREVIOUS_RULE = _rule(
    "previously_considered",
    r"\b(already|previously) (been )?(through|complained|considered|raised|made a complaint|dealt with)\b.{0,80}"
    r"\b(complaint|stage|process)",
    r"\b(final response|stage 2 response|stage two response)\b.{0,80}\b(last year|20\d\d|already|previous|before)",
    r"\b(previous|earlier|last|original|old) complaint\b",
    r"\b(went|gone|been) (all the way )?through (your|the) (whole )?complaints? (process|procedure)",
    r"\b(the )?ombudsman (already|has already|decided|determined|looked at|made a decision|investigated)",
    r"\bre-?open (my|the|this) (old |previous )?complaint\b",
    r"\bsame complaint (again|as before)\b",
    r"\bcomplained about this (before|last year|in 20\d\d)\b",
)

INDEX.build()

_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_MONTH_NUMBER = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_YEAR = re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? (?:of )?)?({_MONTHS})\.? (?:of )?((?:19|20)\d\d)\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.]((?:19|20)?\d\d)\b")
_BARE_YEAR = re.compile(
    r"\b(?:in|since|back in|from|during|around|of|summer|winter|spring|autumn|early|late) "
    r"((?:19|20)\d\d)\b"
)
_YEARS_AGO = re.compile(
    r"\b(two|three|four|five|six|2|3|4|5|6|several|many) years ago\b|\bover a year ago\b|"
    r"\bmore than (a|one|1|two|2) years? ago\b|\blast year\b"
)
_RECENT = re.compile(
    r"\b(this (week|month|morning)|yesterday|today|last (week|night|month)|again|still|ongoing|"
    r"since then|recently|now|currently|keeps|every day)\b"
)


def mentioned_months(text: str) -> list[date]:
    """Calendar months mentioned in the text ("March 2024", "3/4/24", "in 2023"), as first days."""
    found: list[date] = []
    for m in _MONTH_YEAR.finditer(text):
        found.append(date(int(m.group(2)), _MONTH_NUMBER[m.group(1)], 1))
    for m in _NUMERIC_DATE.finditer(text):
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        year = year + 2000 if year < 100 else year
        if 1 <= month <= 12 and 1 <= day <= 31 and 1990 <= year <= 2100:
            found.append(date(year, month, 1))
    for m in _BARE_YEAR.finditer(text):
        found.append(date(int(m.group(1)), 12, 1))  # a bare year counts at its latest month
    return found


def months_between(earlier: date, later: date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def over_twelve_months(text: str, received: date) -> bool:
    """Code 2.2/2.3 hint: every date mentioned is over 12 months before receipt and nothing is recent.

    Only a hint for a person to weigh (2.5): discretion beyond 12 months stays theirs.
    """
    months = [d for d in mentioned_months(text) if d <= received]
    if months:
        return all(months_between(d, received) > 12 for d in months) and not _RECENT.search(text)
    return bool(_YEARS_AGO.search(text)) and not _RECENT.search(text)


@dataclass(frozen=True)
class Flags:
    hazard: str | None
    vulnerability: bool
    third_party: bool
    exclusion_hint: str | None


def hazard_of(text: str, candidates: set[int] | None = None) -> str | None:
    if candidates is None:
        candidates = INDEX.candidates(text)
    for rule in HAZARD_RULES:
        if rule.check(text, candidates):
            return rule.name
    return None


def exclusion_hint_of(text: str, received: date) -> str | None:
    candidates = INDEX.candidates(text)
    if LEGAL_RULE.check(text, candidates):
        return "legal_proceedings"
    if PREVIOUS_RULE.check(text, candidates):
        return "previously_considered"
    if over_twelve_months(text, received):
        return "over_12_months"
    return None


def _lower(text: str) -> str:
    return text.lower().replace("\u2019", "'")


def exclusion_hint_for(text: str, received: date) -> str | None:
    return exclusion_hint_of(_lower(text), received)


def flags_for(text: str, received: date, *, with_exclusion: bool = True) -> Flags:
    """All flags for a message's new text (any case; lower-cased here). Exclusion hints only matter for
    complaints, so callers that know a message is not one can skip them."""
    lowered = _lower(text)
    candidates = INDEX.candidates(lowered)
    return Flags(
        hazard=hazard_of(lowered, candidates),
        vulnerability=VULNERABILITY_RULE.check(lowered, candidates),
        third_party=THIRD_PARTY_RULE.check(lowered, candidates),
        exclusion_hint=exclusion_hint_of(lowered, received) if with_exclusion else None,
    )
