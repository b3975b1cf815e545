"""players.json: the league's roster, one row per player and team."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from rally_assets.core.errors import InputError
from rally_assets.core.parsing.normalize import (
    canonical_team_name,
    club_from_team_name,
    normalize_captain,
    normalize_series,
    parse_count,
    parse_number,
    series_from_team_name,
    sub_team_series,
    team_key,
)
from rally_assets.core.parsing.reading import PTI_LIMIT, WIN_PCT_LIMIT
from rally_assets.core.parsing.rows import REJECTION_COLUMNS, FileReport, FileRows, league_mismatch, on_text

# A roster row without any of these is rejected; a file in which no record has one is not a roster.
REQUIRED_FIELDS = ("Player ID", "Last Name", "Club")


def require_roster_fields(rows: FileRows) -> None:
    """Refuse a wrong-shaped players.json (`[{"foo": 1}]`): name the file and the fields no record has.
    An empty file has no shape to be wrong: the scrape_integrity check refuses it, with its diagnosis."""
    if rows.df.empty:
        return
    missing = [f for f in REQUIRED_FIELDS if f not in rows.df.columns]
    if not missing:
        return
    found = [str(c) for c in rows.df.columns]
    seen = ", ".join(repr(c) for c in found[:10]) + (", ..." if len(found) > 10 else "") if found else "none"
    raise InputError(
        rows.file,
        f"is not a roster: no record has the field(s) {', '.join(repr(f) for f in missing)} "
        f"(a players.json record needs {', '.join(repr(f) for f in REQUIRED_FIELDS)}; fields found: {seen})",
    )


# Notes of the players report that the scrape_integrity check reads.
SERIES_MAPPING_CHECKED = "series_mapping_id_checked"
SERIES_MAPPING_DISAGREES = "series_mapping_id_disagrees"


def parse_players(rows: FileRows, league: str, known_player_ids: set[str]) -> pd.DataFrame:
    """One row per roster record. known_player_ids is not used: this file is where they come from."""
    require_roster_fields(rows)
    pid, club_raw, wins, losses = _reject_bad_records(rows, league)
    # The player's team: the scraper's own team column when it has one, else the mapping id.
    team_raw = rows.text("scrape_team").fillna(rows.text("Team")).fillna(rows.text("Series Mapping ID"))
    team_name = on_text(team_raw, canonical_team_name)
    club = _club(club_raw, team_name)
    series_label = rows.text("Series")
    _measure_series_against_mapping(rows, series_label)
    pti, win_pct = _ratings(rows)
    first = rows.text("First Name")
    last = rows.text("Last Name").fillna("")
    return pd.DataFrame(
        {
            "row_number": rows.df.index,
            "tenniscores_player_id": pid,
            "first_name": first,
            "last_name": last,
            "club": club,
            "series_label": series_label,
            "series": series_label.map(normalize_series),
            "team_name": team_name,
            "pti": pti,
            "wins": wins.fillna(0).astype("Int64") if len(wins) else wins,
            "losses": losses.fillna(0).astype("Int64") if len(losses) else losses,
            "win_percentage": win_pct,
            "captain_status": rows.col("Captain").map(normalize_captain),
        },
        index=rows.df.index,
    )


def _reject_bad_records(rows: FileRows, league: str) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """The record-level checks, in order; returns the player id, club, wins and losses columns."""
    rows.reject_wrong_types(
        {"Player ID": (str,), "First Name": (str,), "Last Name": (str,), "Club": (str,), "Series": (str,)}
    )
    rows.reject_long_text()
    rows.reject_nul_characters()
    pid = rows.text("Player ID")
    rows.reject(pid.isna() | (pid == ""), "missing_player_id", "Player ID")
    rows.reject(pid.str.startswith("FALLBACK_", na=False), "fallback_id", "Player ID", pid)
    rows.reject(pid.str.startswith("unknown_", na=False), "placeholder_id", "Player ID", pid)
    rows.reject(rows.col("Last Name").isna(), "missing_last_name", "Last Name")
    league_mismatch(rows, "League", league)
    club_raw = rows.text("Club")
    rows.reject(club_raw.isna() | (club_raw == ""), "missing_club", "Club")
    wins, losses = rows.col("Wins").map(parse_count), rows.col("Losses").map(parse_count)
    for key, parsed in (("Wins", wins), ("Losses", losses)):
        given = pd.Series(
            [v not in (None, "") and not (isinstance(v, float) and v != v) for v in rows.col(key).tolist()],
            index=rows.df.index,
            dtype=bool,
        )
        rows.reject(given & parsed.isna(), "invalid_number", key, rows.col(key))
        rows.reject(parsed < 0, "negative_count", key, rows.col(key))
    rows.fold_exact_repeats()
    return pid, club_raw, wins, losses


def _measure_series_against_mapping(rows: FileRows, series_label: pd.Series) -> None:
    """The file's own cross-check of its Series field: the series its `Series Mapping ID` spells
    ('Westmoreland 3' -> Series 3). Counted over the kept rows where both say something; the
    scrape_integrity check judges the share that disagrees (CNSWPL 2025-08-10 put everyone in Series 1)."""
    mapping = on_text(rows.text("Series Mapping ID"), lambda m: series_from_team_name(canonical_team_name(m)))
    series = series_label.map(normalize_series)
    both = rows.kept() & mapping.notna() & series.notna()
    rows.note(SERIES_MAPPING_CHECKED, int(both.sum()))
    rows.note(SERIES_MAPPING_DISAGREES, int((both & (mapping != series)).sum()))


def _club(club_raw: pd.Series, team_name: pd.Series) -> pd.Series:
    # CNSWPL's early scrapes put the team in Club ('Birchwood 1'): the club is its prefix.
    return pd.Series(
        [
            club_from_team_name(c) if (c and t and team_key(c) == team_key(t)) else c
            for c, t in zip(club_raw.tolist(), team_name.tolist())
        ],
        index=club_raw.index,
        dtype="object",
    )


def _ratings(rows: FileRows) -> tuple[pd.Series, pd.Series]:
    """PTI and win percentage; a value too big for its column rejects the row."""
    pti_raw = rows.col("PTI")
    pti = pti_raw.map(parse_number)
    win_pct = rows.col("Win %").map(parse_number)
    for key, values, limit in (("PTI", pti, PTI_LIMIT), ("Win %", win_pct, WIN_PCT_LIMIT)):
        too_big = pd.Series(
            [v is not None and v == v and abs(v) >= limit for v in values.tolist()], index=values.index, dtype=bool
        )
        rows.reject(too_big, "out_of_range", key, rows.col(key))
    rows.note("pti_not_available", int((pti.isna() & pti_raw.notna()).sum()))
    return pti, win_pct


# --- after the teams are known ----------------------------------------------------------------


def take_series_from_teams(players: pd.DataFrame, teams: pd.DataFrame, report: FileReport) -> None:
    """A roster row whose own series label is junk ('Chicago Chicago') takes its team's series (in place)."""
    series_of_team = dict(zip(teams["team_key"], teams["series"]))
    fill = players["series"].isna()
    players.loc[fill, "series"] = on_text(players.loc[fill, "team_name"], lambda t: series_of_team.get(team_key(t)))
    report.notes["series_taken_from_team"] = int(fill.sum() - players["series"].isna().sum())
    # A sub-team's players sit in its sub-series ('Biltmore 14a' in 'Series 14' -> 'Series 14a').
    team_series = on_text(players["team_name"], lambda t: series_of_team.get(team_key(t)))
    sub = (
        team_series.notna()
        & (team_series != players["series"])
        & (
            pd.Series(
                [sub_team_series(s, t) for s, t in zip(players["series"], players["team_name"])], index=players.index
            )
            == team_series
        )
    )
    players.loc[sub, "series"] = team_series[sub]
    report.notes["players_in_sub_series"] = int(sub.sum())


def reject_unkeyed_players(players: pd.DataFrame, report: FileReport) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop the rows the natural key cannot hold (a second row of a club and series, or no series).

    Returns the kept players and the rejections (counted in the report, which already closed).
    """
    dup_key = players.duplicated(["tenniscores_player_id", "club", "series"], keep="first") & players["series"].notna()
    no_series = players["series"].isna()
    players_rejected = players[dup_key | no_series]
    if not len(players_rejected):
        return players, pd.DataFrame(columns=REJECTION_COLUMNS)
    rejections = pd.DataFrame(
        {
            "file": report.file,
            "row_number": players_rejected["row_number"],
            "field": "Series",
            "reason": ["duplicate_key" if d else "unknown_series_label" for d in dup_key[dup_key | no_series]],
            # The natural key holds one row per (league, club, series): a second team of the same
            # club in the same series ('Prairie Club 2a' and '2b') cannot get its own row.
            "detail": [
                f"same club and series as another row; team {t}" if d else f"series label {lab!r}"
                for d, t, lab in zip(
                    dup_key[dup_key | no_series],
                    players_rejected["team_name"],
                    players_rejected["series_label"],
                )
            ],
        }
    )
    for reason, n in Counter(
        "duplicate_key" if d else "unknown_series_label" for d in dup_key[dup_key | no_series]
    ).items():
        report.rejected[reason] = report.rejected.get(reason, 0) + n
    report.accepted -= len(players_rejected)
    return players[~(dup_key | no_series)].reset_index(drop=True), rejections
