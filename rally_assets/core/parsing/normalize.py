"""Pure string rules that turn the scrapers' many spellings into one (real-data.md §6).

Each rule fixes a bug of the old parser (rally-domain.md §2.4-2.6) instead of copying it:
no "Series eries 1", no "Division 1" for APTA, no suffix heuristics that invent series.
"""

from __future__ import annotations

import functools
import math
import re

_SPACES = re.compile(r"\s+")
_SERIES_SUFFIX = re.compile(r"\s+-\s+Series\s+\S+$", re.IGNORECASE)
_KEY_SEPARATORS = re.compile(r"[\s-]+")


def collapse_spaces(value: str) -> str:
    # Same result as _SPACES.sub(" ", value).strip() (str.split and re's \s agree on what is
    # whitespace), about 3x faster: this runs on every string of every landing file.
    return " ".join(value.split())


@functools.lru_cache(maxsize=1 << 16)  # a league names a few hundred teams, thousands of times
def canonical_team_name(raw: str) -> str:
    """'Lake Forest  S1 - Series 1' -> 'Lake Forest S1' (schedules append the series to the team)."""
    return _SERIES_SUFFIX.sub("", collapse_spaces(raw))


@functools.lru_cache(maxsize=1 << 16)
def team_key(name: str) -> str:
    """Python twin of the SQL rally_etl.team_key(): 'Glen Ellyn - 1' and 'Glen Ellyn 1' are one team."""
    return _KEY_SEPARATORS.sub(" ", _SERIES_SUFFIX.sub("", name.strip(" "))).lower()


# --- series labels ---------------------------------------------------------------------------

_CHICAGO = re.compile(r"^Chicago (\d+)( SW)?$", re.IGNORECASE)
_DIVISION = re.compile(r"^Division (\d+)[a-z]?$", re.IGNORECASE)
_SERIES = re.compile(r"^Series ([0-9A-Za-z][0-9A-Za-z ]*)$", re.IGNORECASE)
GHOST_SERIES = {"Series 99"}  # APTA 'Chicago 99': 'Winnetka 99 A'..'F' placeholder teams
LEGENDS_SERIES = {"Series Legends"}


def normalize_series(label: object) -> str | None:
    """'Chicago 7 SW' -> 'Series 7 SW'; 'Division 14a' -> 'Series 14'; 'Series 2B' stays.

    Returns None for what is not a series label ('Chicago Chicago', 'Unknown', '').
    """
    if not isinstance(label, str):
        return None
    return _normalize_series_text(label)


@functools.lru_cache(maxsize=1 << 16)  # a league spells a few dozen series labels, thousands of times
def _normalize_series_text(label: str) -> str | None:
    text = collapse_spaces(label)
    if m := _CHICAGO.match(text):
        return f"Series {m.group(1)}{' SW' if m.group(2) else ''}"
    if m := _DIVISION.match(text):
        return f"Series {m.group(1)}"
    if m := _SERIES.match(text):
        rest = m.group(1)
        rest = re.sub(r" sw$", " SW", rest, flags=re.IGNORECASE)
        return f"Series {rest}"
    return None


# --- sub-teams and legacy series names ----------------------------------------------------------

# The app keeps one team per (club, series, league) (`unique_team_club_series_league`), so a club's
# sub-teams in one series ('Biltmore 14a' / '14b', 'Wilmette H(1)' / 'H(2)', NSTF 'Wilmette S1 T1' /
# 'T2') each sit in a sub-series of their own: the series plus the team's mark ('Series 14a',
# 'Series H(1)', 'Series 1 T1'), the form CNSWPL's own scrapes sometimes use ('Division 14a').
_SUB_TEAM_MARKS = [
    (re.compile(r" (\d+)([a-z])$"), lambda m: (m.group(1), m.group(2))),  # 'Biltmore 14a'
    (re.compile(r" ([A-Z]{1,2}) ?\((\d+)\)$"), lambda m: (m.group(1), f"({m.group(2)})")),  # 'Wilmette H (1)'
    (re.compile(r" S(\d+[A-Z]?) T(\d+)$"), lambda m: (m.group(1), f" T{m.group(2)}")),  # 'Wilmette S1 T1'
]


def sub_team_series(series: str | None, team_name: str | None) -> str | None:
    """The series a team sits in: `series`, or its sub-series when the name marks a sub-team of it."""
    if not series or not team_name:
        return series
    for pattern, parts in _SUB_TEAM_MARKS:
        if m := pattern.search(team_name):
            base, mark = parts(m)
            if series == f"Series {base}":
                return f"{series}{mark}"
    return series


_SUB_SERIES_MARK = re.compile(r"^(Series \d+)[a-z]$|^(Series [A-Z]{1,2})\(\d+\)$|^(Series \d+[A-Z]?) T\d+$")


def base_series(series: str) -> str:
    """The league's series a sub-series belongs to ('Series 14a' -> 'Series 14'); others as they are."""
    m = _SUB_SERIES_MARK.match(series)
    return next(g for g in m.groups() if g) if m else series


_LEGACY_DIVISION = re.compile(r"^Division ([0-9]+[a-z]?|[A-Z]{1,2})$", re.IGNORECASE)
_LEGACY_S = re.compile(r"^S([0-9]+[A-Z]?)$")  # the old importer's S-forms: S2B, S12 (not CNSWPL's SN)


def legacy_series_name(name: str) -> str | None:
    """The name this import gives a series row the old importer wrote: 'Chicago 22' -> 'Series 22',
    'Chicago 7 SW' -> 'Series 7 SW', 'Division A' -> 'Series A', 'Division 14a' -> 'Series 14a',
    'S2B' -> 'Series 2B'. None when the name is not one of those forms."""
    text = collapse_spaces(name)
    if m := _LEGACY_DIVISION.match(text) or _LEGACY_S.match(text):
        return f"Series {m.group(1)}"
    return normalize_series(text)


# The series a team name spells out, by the forms each league uses. Used only when no file states
# the team's series, and only if that series is named somewhere in the league's input.
_TEAM_SERIES_FORMS = [
    (re.compile(r" - (\d+)( SW)?$"), lambda m: f"Series {m.group(1)}{m.group(2) or ''}"),  # APTA 'Club - 7 SW'
    (re.compile(r" S(\d+[A-Z]?)( T\d+)?$"), lambda m: f"Series {m.group(1)}"),  # NSTF 'Club S2B', 'Club S1 T2'
    (re.compile(r" Sunday ([A-Z])$"), lambda m: f"Series {m.group(1)}"),  # NSTF 'Wilmette Sunday A'
    (re.compile(r" (\d+)[a-z]?$"), lambda m: f"Series {m.group(1)}"),  # CNSWPL 'Hinsdale PC 1a'
    (re.compile(r" ([A-Z]{1,2}) ?(\(\d+\))?$"), lambda m: f"Series {m.group(1)}"),  # CNSWPL 'Winnetka B(1)'
]


@functools.lru_cache(maxsize=1 << 16)
def series_from_team_name(team_name: str) -> str | None:
    for pattern, build in _TEAM_SERIES_FORMS:
        if m := pattern.search(team_name):
            return build(m)
    return None


# --- league labels -----------------------------------------------------------------------------

# Labels the scrapers wrote for a league, beside its code (real landings: NSTF schedules and
# standings of 2025-06-07 say 'nsft').
LEAGUE_ALIASES = {"NSTF": ("NSFT",)}
_LABEL_SEPARATORS = re.compile(r"[\s_-]+")


def _label_key(label: str) -> str:
    return _LABEL_SEPARATORS.sub("_", label.strip()).upper()


def _one_transposition(a: str, b: str) -> bool:
    """b is a with two adjacent letters swapped ('NSFT' for 'NSTF')."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@functools.lru_cache(maxsize=1 << 10)
def league_label_matches(label: str, league: str) -> bool:
    """A row's league label names the folder's league: its code in any case or separator
    ('apta-chicago'), a known alias (LEAGUE_ALIASES), or the code with two adjacent letters swapped
    (a misspelling, for codes of 4+ letters: two leagues are never that close)."""
    key = _label_key(label)
    return (
        key == league or key in LEAGUE_ALIASES.get(league, ()) or (len(league) >= 4 and _one_transposition(league, key))
    )


# --- clubs -------------------------------------------------------------------------------------

_CLUB_SUFFIXES = [
    re.compile(r"\s+-\s+[^-]+$"),  # APTA 'Midtown - Chicago - 19' -> 'Midtown - Chicago'
    re.compile(r"\s+S\d+[A-Z]?(\s+T\d+)?$"),  # NSTF 'Wilmette S1 T2'
    re.compile(r"\s+Sunday\s+[A-Z]$"),  # NSTF 'Wilmette Sunday A'
    re.compile(r"\s+\d+[a-z]?(\s*\(\d+\))?$"),  # CNSWPL 'Hinsdale PC 1a'
    re.compile(r"\s+[A-Z]{1,2}\s?(\(\d+\))?$"),  # CNSWPL 'Winnetka B(1)', 'Wilmette SN (2)'
]


@functools.lru_cache(maxsize=1 << 16)
def club_from_team_name(team_name: str) -> str:
    """The club part of a team name: strip one series/team suffix, never more."""
    name = collapse_spaces(team_name)
    for pattern in _CLUB_SUFFIXES:
        stripped = pattern.sub("", name)
        if stripped != name and stripped:
            return stripped
    return name


# --- values ------------------------------------------------------------------------------------


def parse_number(value: object) -> float | None:
    """'14.5' -> 14.5; 'N/A', '', None, junk -> None. Negative values are real (APTA PTI)."""
    if isinstance(value, str):
        return _parse_number_text(value)
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # a 400-digit JSON integer
            return None
        return None if math.isnan(number) or math.isinf(number) else number
    return None


@functools.lru_cache(maxsize=1 << 16)  # PTIs and percentages repeat a lot
def _parse_number_text(value: str) -> float | None:
    text = value.strip().rstrip("%").strip()
    try:
        number = float(text)
    except ValueError:
        return None
    return None if math.isnan(number) or math.isinf(number) else number


INT4_MAX = 2**31 - 1  # counts land in PostgreSQL integer columns


def parse_count(value: object) -> int | None:
    """Win/loss style counts: '5' or 5 -> 5. None when absent, not a whole number or beyond an integer column."""
    number = parse_number(value)
    if number is None or number != int(number) or abs(number) > INT4_MAX:
        return None
    return int(number)


def parse_bounded(value: object, limit: float) -> float | None:
    """A number that must fit a numeric column (PTI numeric(10,2), Win % numeric(5,2)); None beyond it."""
    number = parse_number(value)
    return number if number is not None and abs(number) < limit else None


_CAPTAIN = {"c": "C", "cc": "CC", "yes": "C", "captain": "C", "co-captain": "CC"}


def normalize_captain(value: object) -> str | None:
    """'' / 'C' / 'CC' (co-captain); the later 'Yes' means captain; 'Player' means not one."""
    if not isinstance(value, str):
        return None
    return _CAPTAIN.get(value.strip().lower())


# --- scores ------------------------------------------------------------------------------------

_SET = re.compile(r"^(\d+)-(\d+)$")
_BRACKET = re.compile(r"\s*\[(\d+)-(\d+)\]")
MAX_TIEBREAK_POINTS = 30  # anything larger is glued digits, not a score


def _is_set(h: int, a: int) -> bool:
    """A complete set (6-0..6-4, 7-5, 7-6) or a match tiebreak to 10+; 7-2 can only be tiebreak points."""
    high, low = max(h, a), min(h, a)
    return (
        (high == 6 and low <= 4) or (high == 7 and low >= 5) or (10 <= high <= MAX_TIEBREAK_POINTS and high - low >= 2)
    )


def _split_concatenated(h: str, a: str) -> tuple[int, int, tuple[int, int] | None] | None:
    """NSTF glues a tiebreak onto its set: '710-64' is 7-6 [10-4], '65-77' is 6-7 [5-7]."""
    if len(h) >= 2 and len(a) >= 2 and h[0] in "67" and a[0] in "67" and {h[0], a[0]} == {"6", "7"}:
        return int(h[0]), int(a[0]), (int(h[1:]), int(a[1:]))
    return None


def parse_sets(raw: object) -> list[tuple[int, int, tuple[int, int] | None]] | None:
    """Sets as (home, away, tiebreak) in the file's order; None when the text is not a score."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    parts: list[tuple[str, str, tuple[int, int] | None]] = []
    for part in raw.split(","):
        part = part.strip()
        tiebreak = None
        if m := _BRACKET.search(part):
            tiebreak = (int(m.group(1)), int(m.group(2)))
            part = _BRACKET.sub("", part).strip()
        m = _SET.match(part)
        if not m:
            return None
        parts.append((m.group(1), m.group(2), tiebreak))

    sets: list[tuple[int, int, tuple[int, int] | None]] = []
    i = 0
    while i < len(parts):
        h_txt, a_txt, tiebreak = parts[i]
        h, a = int(h_txt), int(a_txt)
        if tiebreak is None and not _is_set(h, a) and (glued := _split_concatenated(h_txt, a_txt)):
            sets.append(glued)
            i += 1
            continue
        previous_is_tiebreak_set = bool(sets) and sets[-1][2] is None and {sets[-1][0], sets[-1][1]} == {6, 7}
        if previous_is_tiebreak_set and tiebreak is None and not _is_set(h, a):
            # The scraper wrote the tiebreak as a "set" ('6-7, 6-8') or split its digits over two
            # ('6-7, 1-1, 1-3' is 6-7 [11-13]): fold it back into the set before it.
            nxt = parts[i + 1] if i + 1 < len(parts) else None
            single = len(h_txt) == 1 and len(a_txt) == 1
            if single and nxt and len(nxt[0]) == 1 and len(nxt[1]) == 1 and not _is_set(int(nxt[0]), int(nxt[1])):
                tiebreak, i = (int(h_txt + nxt[0]), int(a_txt + nxt[1])), i + 2
            else:
                tiebreak, i = (h, a), i + 1
            sets[-1] = (sets[-1][0], sets[-1][1], tiebreak)
            continue
        if max(h, a) > MAX_TIEBREAK_POINTS:
            return None  # digits we cannot take apart safely: keep the text, do not guess
        sets.append((h, a, tiebreak))
        i += 1
    # Best of three: more "sets" than that means a tiebreak written as a set that looks like one
    # ('6-7, 5-7, 6-3, 6-2'). The side that won the tiebreak set also won its tiebreak.
    while len(sets) > 3:
        for j in range(len(sets) - 1):
            (h1, a1, t1), (h2, a2, t2) = sets[j], sets[j + 1]
            if t1 is None and t2 is None and {h1, a1} == {6, 7} and (h1 > a1) == (h2 > a2) and h2 != a2:
                sets[j : j + 2] = [(h1, a1, (h2, a2))]
                break
        else:
            break
    return sets or None


def sets_winner(sets: list[tuple[int, int, tuple[int, int] | None]]) -> str | None:
    home = sum(1 for h, a, _ in sets if h > a)
    away = sum(1 for h, a, _ in sets if a > h)
    return "home" if home > away else "away" if away > home else None


def format_sets(sets: list[tuple[int, int, tuple[int, int] | None]]) -> str:
    return ", ".join(f"{h}-{a}" + (f" [{t[0]}-{t[1]}]" if t else "") for h, a, t in sets)


def normalize_score(raw: object, winner: str | None) -> tuple[str | None, bool]:
    """The score from the home side, trusting Winner over the order of the numbers.

    Returns (score, flipped). Later scrapes write scores away-first; when the given winner
    contradicts the sets, every set is read the other way round. Unparseable text is kept as is.
    """
    sets = parse_sets(raw)
    if sets is None:
        return (collapse_spaces(raw) if isinstance(raw, str) and raw.strip() else None), False
    flipped = False
    computed = sets_winner(sets)
    if winner in ("home", "away") and computed is not None and computed != winner:
        sets = [(a, h, (t[1], t[0]) if t else None) for h, a, t in sets]
        flipped = True
    return format_sets(sets), flipped
