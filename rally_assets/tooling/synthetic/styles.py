"""The three league styles the synthetic leagues copy (APTA_CHICAGO, CNSWPL, NSTF), the season's
shape, the teams and series a league is planned in, and the small helpers every file uses."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

APTA, CNSWPL, NSTF = "APTA", "CNSWPL", "NSTF"
STYLES = (APTA, CNSWPL, NSTF)  # league i (0-based) copies STYLES[i % 3]

SEASON_WEEKS = 10
SCHEDULE_ROWS_PER_TEAM_WEEK = 1.3  # a round robin round gives 0.5 rows per team
ROUNDS = round(2 * SCHEDULE_ROWS_PER_TEAM_WEEK * SEASON_WEEKS)  # 26 rounds in 10 weeks
DUPLICATE_SHARE = 0.05  # players also rostered on a team of another series
HISTORY_SHARE = 0.10  # players with a player_history record

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Style:
    lines: int  # lines (pairs) per team match
    team_size: tuple[int, int]
    season_start: dt.date  # a Monday
    match_days: tuple[int, ...]  # weekday offsets from Monday for the 2-3 rounds of a week
    times: tuple[str, ...]
    women: bool
    numeric_pti: bool  # the real CNSWPL and NSTF files are all "N/A"
    third_set_tiebreak: float  # share of deciding sets played as a 10-point match tiebreak


STYLE_SPECS = {
    APTA: Style(4, (8, 12), dt.date(2024, 9, 23), (1, 2, 3), ("06:30 pm",), False, True, 0.25),
    CNSWPL: Style(4, (8, 12), dt.date(2025, 1, 6), (0, 3, 6), ("09:00 am", "07:00 pm", "12:00 pm"), True, False, 0.25),
    NSTF: Style(5, (10, 12), dt.date(2025, 5, 26), (3, 1, 6), ("06:00 pm",), False, False, 0.6),
}


@dataclass
class Team:
    name: str  # as in players (Series Mapping ID), match_history and series_stats
    club: str
    venue: str
    series: str  # players "Series" ("Chicago 7", "Division 1a", "Series 2A")
    stats_series: str  # series_stats "series" ("Series 7 SW", "Series 1", "Series 2A")
    sched_name: str  # as written in schedules ("Club - 7", "Club 1 - Series 1", "Club  S1 - Series 1")
    stats_name: str  # as written in series_stats (NSTF keeps its double space there too)
    strength: float
    roster: list[int] = field(default_factory=list)  # person indices
    is_bye: bool = False


@dataclass
class Series:
    players_label: str
    stats_label: str
    sched_label: str | None  # schedules "series" value; APTA files have no such key
    time: str
    teams: list[Team]


# --- small helpers -----------------------------------------------------------------------------


def league_code(index: int) -> str:
    """0 -> SYN_A01 ... 98 -> SYN_A99, 99 -> SYN_B01: sorted order is generation order."""
    letter, number = divmod(index, 99)
    if letter >= 26:
        raise ValueError("at most 2574 synthetic leagues")
    return f"SYN_{chr(ord('A') + letter)}{number + 1:02d}"


def _tenniscores_id(*parts: object) -> str:
    """'nndz-WkNDOHlMNytoZz09'-like: base64 of a base64 text of 7 hash bytes, as the real ids are."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:7]
    return "nndz-" + base64.b64encode(base64.b64encode(digest)).decode()


def _location_id(name: str) -> str:
    """'Saddle & Cycle' -> 'SADDLE_AND_CYCLE', 'Lakeshore S&F' -> 'LAKESHORE_SANDF' (real rule)."""
    text = name.upper().replace(" & ", " AND ").replace("&", "AND")
    return re.sub(r"[^A-Z0-9]+", "_", text).strip("_")


def _pct(won: int, total: int) -> str:
    return f"{100.0 * won / total:.1f}%" if total else "0.0%"


def _fmt_pti(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _mdy(day: dt.date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def _dmy(day: dt.date) -> str:
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year % 100:02d}"
