"""match_history.json: the played matches, one row per match (line) with its players and score."""

from __future__ import annotations

import pandas as pd

from rally_assets.core.parsing.normalize import canonical_team_name, normalize_score, normalize_series, team_key
from rally_assets.core.parsing.rows import (
    FileRows,
    is_bye,
    league_mismatch,
    on_text,
    parse_dates,
    reject_bad_dates,
    slot_player_id,
)


def parse_match_history(rows: FileRows, league: str, known_player_ids: set[str]) -> pd.DataFrame:
    """One row per match record. known_player_ids is not used: a slot's id is kept as given."""
    rows.reject_wrong_types(
        {"Home Team": (str,), "Away Team": (str,), "Date": (str,), "Scores": (str,), "match_id": (str,)}
    )
    rows.reject_long_text()
    rows.reject_nul_characters()
    match_id = rows.text("match_id")
    home, away = rows.text("Home Team"), rows.text("Away Team")
    rows.reject(match_id.str.startswith("table_", na=False), "standings_row", "match_id", match_id)
    rows.reject(
        home.str.startswith("Unknown", na=False) | away.str.startswith("Unknown", na=False),
        "unknown_placeholder",
        "Home Team",
        home,
    )
    rows.reject(home.isna() | (home == ""), "missing_team", "Home Team")
    rows.reject(away.isna() | (away == ""), "missing_team", "Away Team")
    rows.reject(is_bye(home) | is_bye(away), "bye", "Home Team", home)
    home, away = on_text(home, canonical_team_name), on_text(away, canonical_team_name)
    rows.reject(on_text(home, team_key) == on_text(away, team_key), "home_equals_away", "Away Team", home)
    league_mismatch(rows, "league_id", league)
    raw_date = rows.text("Date")
    date = parse_dates(raw_date, ["%d-%b-%y", "%m/%d/%Y", "%Y-%m-%d"])
    reject_bad_dates(rows, "Date", date, raw_date)
    rows.fold_exact_repeats()
    rows.reject(match_id.notna() & match_id.duplicated(keep="first"), "duplicate_key", "match_id", match_id)

    slots = _player_slots(rows)
    winner = rows.text("Winner").str.lower()
    winner = winner.where(winner.isin(["home", "away"]), None)
    rows.note("winner_tie_or_unknown", int((winner.isna() & rows.col("Winner").notna()).sum()))
    scored = [normalize_score(s, w) for s, w in zip(rows.col("Scores"), winner)]
    rows.note("scores_flipped_to_home_first", sum(1 for _, f in scored if f))
    series = rows.text("series").fillna(rows.text("Series")).map(normalize_series)
    return pd.DataFrame(
        {
            "row_number": rows.df.index,
            "tenniscores_match_id": match_id,
            "match_date": date.dt.date,
            "home_team": home,
            "away_team": away,
            **slots,
            "scores": [s for s, _ in scored],
            "winner": winner,
            "series": series,
        },
        index=rows.df.index,
    )


def _player_slots(rows: FileRows) -> dict[str, pd.Series]:
    """The four player ids of a match (home_player_1_id ... away_player_2_id); placeholders dropped."""
    slots = {}
    for side in ("Home", "Away"):
        for n in (1, 2):
            raw = rows.col(f"{side} Player {n} ID")
            ids = slot_player_id(raw)
            rows.note(
                "placeholder_ids_dropped",
                int((ids.isna() & raw.map(lambda v: isinstance(v, str) and v.strip() != "")).sum()),
            )
            slots[f"{side.lower()}_player_{n}_id"] = ids
    return slots
