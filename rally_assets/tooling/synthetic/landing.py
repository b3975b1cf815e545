"""Deterministic synthetic landing folders that look like the real tenniscores scrapes.

`generate_landing(root, scale=...)` writes `root/<LEAGUE>/{players,match_history,schedules,
series_stats,player_history}.json` for 3 * scale leagues. Leagues take turns copying the three real
leagues' shapes (real-data.md §2): APTA_CHICAGO, CNSWPL and NSTF as in `rally_real/import_1`.

Design rules:
- One `random.Random` per league, seeded from (seed, league code): a league's files do not depend
  on `scale`, and the same arguments give byte-identical files.
- IDs come from hashlib, not from `random`, so they stay stable and unique per league.
- Every team name is consistent across files once whitespace is collapsed and a trailing
  " - Series X" is stripped, so a correct ETL resolves every team. Only the anomalies listed in
  `_add_*` / the comments below are injected, each in a small, fixed share.
- Plain lists and dicts (no pandas): 300 leagues must be cheap to write.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import pathlib
import random
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

# (club, venue). Venues are what CNSWPL schedules put in "location"; APTA and NSTF use the club.
CLUBS = [
    ("Birchwood", "The Birchwood Club"),
    ("Winnetka", "Winnetka Platform Tennis Club"),
    ("Wilmette", "Wilmette Platform Tennis Club"),
    ("Lake Forest", "Lake Forest Racquet Club"),
    ("Lake Bluff", "Lake Bluff Park District"),
    ("Glen View", "Glen View Club"),
    ("Glen Ellyn", "Glen Ellyn Park District"),
    ("Hinsdale PC", "Hinsdale Platform Club"),
    ("Hinsdale GC", "Hinsdale Golf Club"),
    ("Tennaqua", "Tennaqua Swim & Racquet Club"),
    ("Michigan Shores", "Michigan Shores Club"),
    ("Midtown", "Midtown Athletic Club"),
    ("Saddle & Cycle", "Saddle & Cycle Club"),
    ("Sunset Ridge", "Sunset Ridge Country Club"),
    ("Exmoor", "Exmoor Country Club"),
    ("Skokie", "Skokie Country Club"),
    ("Evanston", "Evanston Golf Club"),
    ("Park Ridge", "Park Ridge Country Club"),
    ("Prairie Club", "Prairie Club"),
    ("Westmoreland", "Westmoreland Country Club"),
    ("North Shore", "North Shore Country Club"),
    ("Indian Hill", "Indian Hill Club"),
    ("Valley Lo", "Valley Lo Club"),
    ("Winter Club", "Winter Club of Lake Forest"),
    ("Knollwood", "Knollwood Club"),
    ("Northmoor", "Northmoor Country Club"),
    ("Onwentsia", "Onwentsia Club"),
    ("Barrington Hills", "Barrington Hills Country Club"),
    ("Biltmore", "Biltmore Country Club"),
    ("LifeSport", "LifeSport Lincolnshire"),
    ("Butterfield", "Butterfield Country Club"),
    ("River Forest CC", "River Forest Country Club"),
    ("LaGrange CC", "LaGrange Country Club"),
    ("Chicago Highlands", "Chicago Highlands Club"),
    ("Hawthorn Woods", "Hawthorn Woods Country Club"),
    ("Lakeshore S&F", "Lakeshore Sport & Fitness"),
    ("Wilmette PD", "Wilmette Park District"),
    ("Glenbrook RC", "Glenbrook Racquet Club"),
    ("Ravinia Green", "Ravinia Green Country Club"),
    ("Old Willow", "Old Willow Club"),
    ("Briarwood", "Briarwood Country Club"),
    ("Old Elm", "Old Elm Club"),
    ("Shoreacres", "Shoreacres Club"),
    ("Medinah", "Medinah Country Club"),
    ("Ruth Lake", "Ruth Lake Country Club"),
    ("Salt Creek", "Salt Creek Club"),
    ("Edgewood Valley", "Edgewood Valley Country Club"),
    ("Oak Park CC", "Oak Park Country Club"),
]

# Formal names next to their common short forms, so later name matching has work to do.
MEN_FIRST = [
    "William",
    "Bill",
    "Will",
    "Robert",
    "Bob",
    "Rob",
    "Michael",
    "Mike",
    "James",
    "Jim",
    "Thomas",
    "Tom",
    "Richard",
    "Rick",
    "Christopher",
    "Chris",
    "Daniel",
    "Dan",
    "Joseph",
    "Joe",
    "Steven",
    "Steve",
    "Andrew",
    "Andy",
    "Edward",
    "Ted",
    "Jonathan",
    "Jon",
    "Matthew",
    "Matt",
    "David",
    "Dave",
    "Peter",
    "Pete",
    "Charles",
    "Chuck",
    "Timothy",
    "Tim",
    "Benjamin",
    "Ben",
    "Scott",
    "Mark",
    "Brian",
    "Kevin",
    "Greg",
    "Jeff",
    "Paul",
    "Eric",
    "Jason",
    "Ryan",
    "Graham",
    "Cameron",
    "Kyle",
    "Adam",
    "Bruce",
    "Karl",
    "T.J.",
    "JP",
]
WOMEN_FIRST = [
    "Katherine",
    "Kate",
    "Katie",
    "Elizabeth",
    "Liz",
    "Beth",
    "Jennifer",
    "Jen",
    "Margaret",
    "Maggie",
    "Patricia",
    "Patty",
    "Susan",
    "Sue",
    "Deborah",
    "Debbie",
    "Catherine",
    "Cathy",
    "Rebecca",
    "Becky",
    "Alexandra",
    "Alex",
    "Victoria",
    "Tori",
    "Christine",
    "Chris",
    "Kimberly",
    "Kim",
    "Jessica",
    "Jess",
    "Alison",
    "Sari",
    "Audra",
    "Emily",
    "Lauren",
    "Mary",
    "Laura",
    "Sarah",
    "Anne",
    "Julie",
    "Megan",
    "Amy",
    "Heather",
    "Molly",
    "Carrie",
    "Priya",
    "Tracy",
    "Hillary",
    "Karie",
    "Jackie",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Allen",
    "Young",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Parker",
    "Collins",
    "Edwards",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Peterson",
    "Cooper",
    "Reed",
    "Bailey",
    "Bell",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "Hughes",
    "Price",
    "Sanders",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Powell",
    "Sullivan",
    "Russell",
    "Hirsch",
    "Billmeyer",
    "Heinlein",
    "Cunnington",
    "McNerney",
    "Rosin",
    "Hannes",
    "Blume",
    "Seyb",
    "Marchetti",
    "Armour",
    "Trankina",
    "Franson",
    "Truong",
    "Owens",
    "Sundberg",
    "Hunt",
    "Pinsof",
    "Looby",
    "Lorenz",
    "Malik",
    "Frischer",
    "Gooze",
    "Biddle",
    "Wise",
    "Yastrow",
    "Woods",
    "McMahon",
    "Gordon",
    "Robare",
    "Turnbull",
    "Nicholson",
    "Flickinger",
    "Meyers",
    "Sutton",
    "Desio",
    "Lehr",
    "Adkisson",
    "Kowalski",
    "Nowak",
    "Schmidt",
    "Becker",
    "Fischer",
    "Weber",
    "Hoffman",
    "Keller",
]
APOSTROPHE_LAST = ["O\u2019Neill", "O\u2019Brien", "O\u2019Toole", "O\u2019Hara", "D\u2019Amico"]

HISTORY_EVENTS = {
    False: [
        "APTA Men's Nationals Main",
        "2024-25 Fall A Flight",
        "Flight A",
        "Chicago Charities Men's Open Main",
        "APTA Husband/Wife Nationals",
        "Detroit Invitational Men's 90+ Main",
    ],
    True: [
        "APTA Women's Nationals Main",
        "2024-25 Fall A Flight",
        "Flight B",
        "Chicago Charities Women's Open Main",
        "APTA Husband/Wife Nationals",
        "Detroit Invitational Women's 80+ Main",
    ],
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


# --- league structure --------------------------------------------------------------------------


def _series_labels(style: str):
    """Endless series labels in the league's own spelling: (players, series_stats, number/tag)."""
    n = 0
    while True:
        n += 1
        if style == APTA:
            yield f"Chicago {n}", f"Chicago {n}", str(n)
            if n >= 7 and n % 2 == 1:  # real SW series are odd numbers from 7 up
                # series_stats spells SW series "Series N SW" while players say "Chicago N SW" (§2.4)
                yield f"Chicago {n} SW", f"Series {n} SW", f"{n} SW"
        elif style == CNSWPL:
            yield f"Division {n}", f"Series {n}", str(n)
        else:  # NSTF: Series 1, 2A, 2B, 3, A; then 4, 5A, 5B, 6, B; ...
            base, letter = 3 * (n - 1), chr(ord("A") + n - 1)
            for tag in (f"{base + 1}", f"{base + 2}A", f"{base + 2}B", f"{base + 3}"):
                yield f"Series {tag}", f"Series {tag}", f"S{tag}"
            yield f"Series {letter}", f"Series {letter}", f"Sunday {letter}"


def _make_teams(style: str, rng: random.Random, labels: tuple[str, str, str], n_teams: int) -> list[Team]:
    players_label, stats_label, tag = labels
    picks = rng.sample(CLUBS, n_teams)
    # A club fielding two teams in one series: CNSWPL 'Hinsdale PC 1a/1b', NSTF 'Wilmette S1 T1/T2'.
    twin = n_teams >= 7 and rng.random() < 0.3 and not (style == NSTF and tag.startswith("Sunday"))
    if twin and style != APTA:
        picks[-1] = picks[-2]
    teams = []
    for i, (club, venue) in enumerate(picks):
        second = twin and style != APTA and i >= n_teams - 2
        suffix = "ab"[i - (n_teams - 2)] if second else ""
        if style == APTA:
            name, series = f"{club} - {tag}", players_label
            sched = name
        elif style == CNSWPL:
            name, series = f"{club} {tag}{suffix}", f"{players_label}{suffix}"
            sched = f"{name} - {stats_label}"
        else:
            name = f"{club} {tag}" + (f" T{'ab'.index(suffix) + 1}" if suffix else "")
            series = players_label
            sched = f"{name} - {stats_label}"
        teams.append(Team(name, club, venue, series, stats_label, sched, name, rng.random()))
    return teams


def _plan_series(style: str, rng: random.Random, target_rows: int) -> list[Series]:
    """Add series of 6-12 teams until the rosters hold about target_rows players."""
    spec = STYLE_SPECS[style]
    lo, hi = spec.team_size
    avg = (lo + hi) / 2
    labels = _series_labels(style)
    series: list[Series] = []
    total = 0
    while total < target_rows:
        remaining = target_rows - total
        if series and remaining < lo * 3:
            break
        # shrink the last series so the league lands near its target instead of overshooting
        n_teams = min(rng.randint(6, 12), max(6, round(remaining / avg)))
        if style == APTA and not series and n_teams % 2 == 0:
            n_teams += 1 if n_teams < 12 else -1  # an odd series, so every APTA league has BYE rows
        label = next(labels)
        teams = _make_teams(style, rng, label, n_teams)
        for team in teams:
            team.roster = [-1] * rng.randint(lo, hi)  # filled with person indices below
            total += len(team.roster)
        sched_label = None if style == APTA else label[1]
        series.append(Series(label[0], label[1], sched_label, rng.choice(spec.times), teams))
    return series


# --- players -----------------------------------------------------------------------------------


def _make_people(style: str, rng: random.Random, code: str, seed: int, n: int) -> list[dict]:
    spec = STYLE_SPECS[style]
    firsts = WOMEN_FIRST if spec.women else MEN_FIRST
    people, seen = [], set()
    for i in range(n):
        pid, salt = _tenniscores_id(seed, code, "player", i), 0
        while pid in seen:  # 56-bit ids: a clash is near impossible, but ids must be unique
            salt += 1
            pid = _tenniscores_id(seed, code, "player", i, salt)
        seen.add(pid)
        if spec.numeric_pti and rng.random() >= 0.04:  # about 4% "N/A" in the real APTA file
            pti = _fmt_pti(min(97.0, max(10.0, rng.gauss(48, 15))))
        else:
            pti = "N/A"
        people.append({"id": pid, "first": rng.choice(firsts), "last": rng.choice(LAST_NAMES), "pti": pti})
    # a few U+2019 apostrophes (O’Neill): 1-5 rows per real file
    for i in rng.sample(range(n), min(n, rng.randint(2, 4))):
        people[i]["last"] = rng.choice(APOSTROPHE_LAST)
    return people


def _fill_rosters(series: list[Series], rng: random.Random) -> int:
    """Give every roster slot its own person, then roster ~5% of them on a second series."""
    n = 0
    for s in series:
        for team in s.teams:
            team.roster = list(range(n, n + len(team.roster)))
            n += len(team.roster)
    if len(series) > 1:
        home = {p: si for si, s in enumerate(series) for t in s.teams for p in t.roster}
        all_teams = [(si, t) for si, s in enumerate(series) for t in s.teams]
        for person in sorted(rng.sample(range(n), round(n * DUPLICATE_SHARE))):
            si, team = rng.choice(all_teams)
            while si == home[person]:  # real duplicates are always in another series
                si, team = rng.choice(all_teams)
            team.roster.append(person)
    return n


def _player_rows(style: str, code: str, series: list[Series], people: list[dict], rng: random.Random) -> list[dict]:
    max_played = 8 if style == NSTF else 20
    rows = []
    for s in series:
        for team in s.teams:
            co_captain = rng.random() < 0.5
            for pos, person in enumerate(team.roster):
                p = people[person]
                played = rng.randint(0, max_played) if rng.random() > 0.08 else 0
                wins = rng.randint(0, played)
                club = team.name if style == CNSWPL else team.club  # CNSWPL's Club is the team
                rows.append(
                    {
                        "League": code,
                        "Series": team.series,
                        "Series Mapping ID": team.name,
                        "Club": club,
                        "Location ID": _location_id(club),
                        "Player ID": p["id"],
                        "First Name": p["first"],
                        "Last Name": p["last"],
                        "PTI": p["pti"],
                        "Wins": str(wins),
                        "Losses": str(played - wins),
                        "Win %": _pct(wins, played),
                        "Captain": "C" if pos == 0 else "CC" if pos == 1 and co_captain else "",
                    }
                )
    return rows


# --- schedules ---------------------------------------------------------------------------------


def _round_robin(entrants: list) -> list[list[tuple]]:
    """Circle method: len(entrants) - 1 rounds of pairs (entrants must be even in number)."""
    arr, m, rounds = list(entrants), len(entrants), []
    for r in range(m - 1):
        pairs = [(arr[i], arr[m - 1 - i]) for i in range(m // 2)]
        rounds.append([(b, a) if (r + i) % 2 else (a, b) for i, (a, b) in enumerate(pairs)])
        arr = [arr[0], arr[-1], *arr[1:-1]]
    return rounds


def _round_dates(style: str) -> list[dt.date]:
    """ROUNDS dates over SEASON_WEEKS weeks: 2-3 rounds a week on the league's match days."""
    spec = STYLE_SPECS[style]
    dates, per_week = [], {}
    for r in range(ROUNDS):
        week = r * SEASON_WEEKS // ROUNDS
        k = per_week[week] = per_week.get(week, -1) + 1
        dates.append(spec.season_start + dt.timedelta(weeks=week, days=spec.match_days[k % len(spec.match_days)]))
    return dates


def _schedule(style: str, code: str, series: list[Series], rng: random.Random):
    """Schedule rows plus the matches behind them, in date order.

    As in the real files, a schedule row lists the visitors as home_team and the hosts as
    away_team, and location is the hosts' club (the away_team's); match_history has it the right
    way round. About 1% of rows name the home_team's club instead.
    """
    dates = _round_dates(style)
    date_text = [_mdy(d) for d in dates]
    entries = []  # (date, series order, row, host, visitor)
    byes = 0
    for si, s in enumerate(series):
        entrants: list = list(s.teams)
        if len(entrants) % 2:
            # APTA writes some byes as matches against a 'BYE - N' team that series_stats lists too
            if style == APTA and (byes == 0 or rng.random() < 0.35):
                byes += 1
                tag = s.teams[0].name.rsplit(" - ", 1)[1]
                bye = Team(
                    f"BYE - {tag}",
                    "BYE",
                    "BYE",
                    s.players_label,
                    s.stats_label,
                    f"BYE - {tag}",
                    f"BYE - {tag}",
                    0.0,
                    is_bye=True,
                )
                s.teams.append(bye)
                entrants.append(bye)
            else:
                entrants.append(None)
        base = _round_robin(entrants)
        for r in range(ROUNDS):
            flip = (r // len(base)) % 2  # the next pass of the round robin swaps hosts
            for a, b in base[r % len(base)]:
                host, visitor = (b, a) if flip else (a, b)
                if host is None or visitor is None:
                    continue
                if host.is_bye:  # the real team hosts; BYE shows as the schedule's home_team
                    host, visitor = visitor, host
                location = host.club if style != CNSWPL else host.venue
                if not visitor.is_bye and rng.random() < 0.01:
                    location = visitor.club if style != CNSWPL else visitor.venue
                row = {
                    "date": date_text[r],
                    "time": s.time,
                    "home_team": visitor.sched_name,
                    "away_team": host.sched_name,
                    "location": location,
                }
                if s.sched_label is not None:
                    row["series"] = s.sched_label
                row["League"] = code
                entries.append((dates[r], si, row, host, visitor))
    entries.sort(key=lambda e: (e[0], e[1]))  # stable: keeps the pairing order within a series
    return entries


def _add_double_spaces(style: str, series: list[Series], rng: random.Random) -> None:
    """NSTF writes 'Lake Forest  S1' (two spaces) in schedules and series_stats for a team or two."""
    if style != NSTF:
        return
    teams = series[0].teams
    for team in rng.sample(teams, min(len(teams), rng.randint(1, 2))):
        spaced = team.name.replace(f"{team.club} ", f"{team.club}  ", 1)
        team.stats_name = spaced
        team.sched_name = f"{spaced} - {team.stats_series}"


# --- matches -----------------------------------------------------------------------------------


def _set_score(rng: random.Random, home_won: bool) -> str:
    r = rng.random()
    if r < 0.75:
        w, l, tb = 6, rng.randint(0, 4), None
    elif r < 0.87:
        w, l, tb = 7, 5, None
    else:
        lost_points = rng.randint(0, 8)
        w, l, tb = 7, 6, (max(7, lost_points + 2), lost_points)
    if home_won:
        return f"{w}-{l}" + (f" [{tb[0]}-{tb[1]}]" if tb else "")
    return f"{l}-{w}" + (f" [{tb[1]}-{tb[0]}]" if tb else "")


def _score(rng: random.Random, home_won: bool, tiebreak_share: float) -> str:
    """'6-3, 6-1' / '6-7 [5-7], 6-4, 10-8', always written from the home side."""
    if rng.random() < 0.65:
        return f"{_set_score(rng, home_won)}, {_set_score(rng, home_won)}"
    first_won = rng.random() < 0.5  # the winner drops the first or the second set
    sets = [_set_score(rng, home_won == first_won), _set_score(rng, home_won != first_won)]
    if rng.random() < tiebreak_share:
        lost_points = rng.randint(0, 11)
        w, l = max(10, lost_points + 2), lost_points
        sets.append(f"{w}-{l}" if home_won else f"{l}-{w}")
    else:
        sets.append(_set_score(rng, home_won))
    return ", ".join(sets)


def _line_home_win_p(host: Team, visitor: Team) -> float:
    return min(0.85, max(0.15, 0.52 + 0.4 * (host.strength - visitor.strength)))


def _match_rows(
    style: str, code: str, seed: int, entries, people: list[dict], target: int, rng: random.Random
) -> list[dict]:
    """Lines of the first scheduled matches until about `target` rows (an early-season scrape)."""
    spec = STYLE_SPECS[style]
    rows = []
    for m_index, (day, _si, _row, host, visitor) in enumerate(entries):
        if len(rows) >= target:
            break
        if host.is_bye or visitor.is_bye:
            continue
        lines = min(spec.lines, len(host.roster) // 2, len(visitor.roster) // 2)
        home_ps, away_ps = rng.sample(host.roster, 2 * lines), rng.sample(visitor.roster, 2 * lines)
        p = _line_home_win_p(host, visitor)
        match_id = _tenniscores_id(seed, code, "match", m_index)
        for line in range(lines):
            home_won = rng.random() < p
            h1, h2 = people[home_ps[2 * line]], people[home_ps[2 * line + 1]]
            a1, a2 = people[away_ps[2 * line]], people[away_ps[2 * line + 1]]
            names = [f"{x['first']} {x['last']}" for x in (h1, h2, a1, a2)]
            score = _score(rng, home_won, spec.third_set_tiebreak)
            winner = "home" if home_won else "away"
            if style == APTA:  # schema M2 (8763431c): match_id + Line, names before ids
                rows.append(
                    {
                        "league_id": code,
                        "match_id": f"{match_id}_Line{line + 1}",
                        "source_league": code,
                        "Line": f"Line {line + 1}",
                        "Date": _dmy(day),
                        "Home Team": host.name,
                        "Away Team": visitor.name,
                        "Home Player 1": names[0],
                        "Home Player 2": names[1],
                        "Home Player 1 ID": h1["id"],
                        "Home Player 2 ID": h2["id"],
                        "Away Player 1": names[2],
                        "Away Player 2": names[3],
                        "Away Player 1 ID": a1["id"],
                        "Away Player 2 ID": a2["id"],
                        "Scores": score,
                        "Winner": winner,
                    }
                )
            else:  # schema M1 (f88046f0): no match_id, no Line
                rows.append(
                    {
                        "league_id": code,
                        "Date": _dmy(day),
                        "Home Team": host.name,
                        "Away Team": visitor.name,
                        "Home Player 1": names[0],
                        "Home Player 1 ID": h1["id"],
                        "Home Player 2": names[1],
                        "Home Player 2 ID": h2["id"],
                        "Away Player 1": names[2],
                        "Away Player 1 ID": a1["id"],
                        "Away Player 2": names[3],
                        "Away Player 2 ID": a2["id"],
                        "Scores": score,
                        "Winner": winner,
                    }
                )
    _add_null_slots(style, rows, rng)
    return rows


def _add_null_slots(style: str, rows: list[dict], rng: random.Random) -> None:
    """A few null id slots, named as the real files do: 'Elissa BrebachBy Default', '' or unchanged."""
    if not rows:
        return
    slots = ("Home Player 1", "Home Player 2", "Away Player 1", "Away Player 2")
    for i in rng.sample(range(len(rows)), min(len(rows), max(2, len(rows) // 80))):
        slot = rng.choice(slots)
        rows[i][f"{slot} ID"] = None
        kind = rng.random()
        if style == NSTF and kind < 0.5:
            rows[i][slot] = ""
        elif kind < 0.75:
            rows[i][slot] += rng.choice(("By Default", "By Forfeit"))


# --- series_stats ------------------------------------------------------------------------------


def _stats_rows(style: str, code: str, series: list[Series], entries, rng: random.Random) -> list[dict]:
    """Season totals from a cheap line-by-line simulation of every scheduled match."""
    lines = STYLE_SPECS[style].lines
    acc = {id(t): [0] * 9 for s in series for t in s.teams}  # matches w/l/t, lines w/l, sets w/l, games w/l
    for _day, _si, _row, host, visitor in entries:
        if host.is_bye or visitor.is_bye:
            continue
        p = _line_home_win_p(host, visitor)
        h, a = acc[id(host)], acc[id(visitor)]
        home_lines = 0
        for _ in range(lines):
            home_won = rng.random() < p
            home_lines += home_won
            win, lose = (h, a) if home_won else (a, h)
            dropped_set = rng.random() < 0.3
            v = rng.random()
            win[3] += 1
            lose[4] += 1
            win[5] += 2
            lose[6] += 2
            if dropped_set:
                lose[5] += 1
                win[6] += 1
            win[7] += 12 + int(v * 4) + (4 if dropped_set else 0)
            lose[8] += 12 + int(v * 4) + (4 if dropped_set else 0)
            lose[7] += 3 + int(v * 6) + (6 if dropped_set else 0)
            win[8] += 3 + int(v * 6) + (6 if dropped_set else 0)
        away_lines = lines - home_lines
        if home_lines == away_lines and rng.random() < 0.1:  # even lines are mostly settled on sets
            h[2] += 1
            a[2] += 1
        else:
            home_won = home_lines > away_lines or (home_lines == away_lines and rng.random() < p)
            win, lose = (h, a) if home_won else (a, h)
            win[0] += 1
            lose[1] += 1
    rows = []
    for s in series:
        for team in s.teams:
            mw, ml, mt, lw, ll, sw, sl, gw, gl = acc[id(team)]
            rows.append(
                {
                    "series": s.stats_label,
                    "team": team.stats_name,
                    "league_id": code,
                    "points": lw * 3 + mw,
                    "matches": {"won": mw, "lost": ml, "tied": mt, "percentage": _pct(mw, mw + ml + mt)},
                    "lines": {"won": lw, "lost": ll, "for": 0, "ret": 0, "percentage": _pct(lw, lw + ll)},
                    "sets": {"won": sw, "lost": sl, "percentage": _pct(sw, sw + sl)},
                    "games": {"won": gw, "lost": gl, "percentage": _pct(gw, gw + gl)},
                }
            )
    return rows


# --- player_history ----------------------------------------------------------------------------


def _history_rows(style: str, code: str, players: list[dict], people: list[dict], rng: random.Random) -> list[dict]:
    spec = STYLE_SPECS[style]
    first_row = {}
    for row in players:
        first_row.setdefault(row["Player ID"], row)
    events = HISTORY_EVENTS[spec.women]
    season_end = spec.season_start + dt.timedelta(weeks=SEASON_WEEKS)
    rows = []
    for person in sorted(rng.sample(range(len(people)), max(1, round(len(people) * HISTORY_SHARE)))):
        p = people[person]
        row = first_row[p["id"]]
        rating = float(p["pti"]) if p["pti"] != "N/A" else rng.uniform(-15, 65)
        pti, day, matches = rating, season_end - dt.timedelta(days=rng.randint(0, 20)), []
        for _ in range(rng.randint(5, 30)):  # newest first, as in the real file
            matches.append(
                {
                    "date": _mdy(day),
                    "end_pti": _fmt_pti(pti),
                    "series": row["Series"] if rng.random() < 0.6 else rng.choice(events),
                }
            )
            pti += rng.uniform(-1.2, 1.2)
            day -= dt.timedelta(days=rng.choice((0, 0, 1, 3, 7, 14)))
        rows.append(
            {
                "league_id": code,
                "player_id": p["id"],
                "name": f"{p['first']} {p['last']}",
                "first_name": p["first"],
                "last_name": p["last"],
                "series": row["Series"],
                "club": row["Club"],
                "rating": _fmt_pti(rating),
                "wins": rng.randint(0, 300),
                "losses": rng.randint(0, 250),
                "matches": matches,
            }
        )
    return rows


# --- entry points ------------------------------------------------------------------------------


def build_league(code: str, style: str, *, seed: int = 0, players_per_league: int = 900) -> dict[str, list[dict]]:
    """All five record lists of one league, keyed by landing file name."""
    rng = random.Random(f"{seed}:{code}")  # per league, so a league does not depend on scale
    base_rows = max(1, round(players_per_league / (1 + DUPLICATE_SHARE)))
    series = _plan_series(style, rng, base_rows)
    n_people = _fill_rosters(series, rng)
    people = _make_people(style, rng, code, seed, n_people)
    players = _player_rows(style, code, series, people, rng)
    _add_double_spaces(style, series, rng)
    entries = _schedule(style, code, series, rng)  # may add BYE teams, so before the stats
    return {
        "players.json": players,
        "match_history.json": _match_rows(style, code, seed, entries, people, round(len(players) / 3), rng),
        "schedules.json": [e[2] for e in entries],
        "series_stats.json": _stats_rows(style, code, series, entries, rng),
        "player_history.json": _history_rows(style, code, players, people, rng),
    }


def generate_landing(root: pathlib.Path, *, scale: int = 1, seed: int = 0, players_per_league: int = 900) -> list[str]:
    """Write league folders under root; return the league codes written (sorted)."""
    if scale < 1:
        raise ValueError("scale must be >= 1")
    root = pathlib.Path(root)
    root.mkdir(parents=True, exist_ok=True)
    codes = []
    for i in range(3 * scale):
        code = league_code(i)
        folder = root / code
        folder.mkdir(exist_ok=True)
        for name, records in build_league(
            code, STYLES[i % 3], seed=seed, players_per_league=players_per_league
        ).items():
            # same bytes as json.dump(records, f, indent=2, ensure_ascii=True), in one write
            (folder / name).write_text(json.dumps(records, indent=2, ensure_ascii=True), encoding="ascii")
        codes.append(code)
    return sorted(codes)
