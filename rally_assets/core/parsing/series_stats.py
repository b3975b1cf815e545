"""series_stats.json: the standings, one row per team and series with its counts."""

from __future__ import annotations

import pandas as pd

from rally_assets.core.parsing.normalize import (
    GHOST_SERIES,
    LEGENDS_SERIES,
    canonical_team_name,
    normalize_series,
    parse_count,
    team_key,
)
from rally_assets.core.parsing.rows import FileRows, is_bye, league_mismatch, on_text

_STAT_FIELDS = {
    "points": "points",
    "matches.won": "matches_won",
    "matches.lost": "matches_lost",
    "matches.tied": "matches_tied",
    "lines.won": "lines_won",
    "lines.lost": "lines_lost",
    "lines.for": "lines_for",
    "lines.ret": "lines_ret",
    "sets.won": "sets_won",
    "sets.lost": "sets_lost",
    "games.won": "games_won",
    "games.lost": "games_lost",
}


def parse_series_stats(rows: FileRows, league: str, known_player_ids: set[str]) -> pd.DataFrame:
    """One row per standings record. known_player_ids is not used: a standings row names no player."""
    rows.reject_wrong_types({"team": (str,), "series": (str,)})
    rows.reject_long_text()
    rows.reject_nul_characters()
    team_raw, series_raw = rows.text("team"), rows.text("series")
    rows.reject(team_raw.isna() | (team_raw == ""), "missing_team", "team")
    rows.reject(is_bye(team_raw), "bye", "team", team_raw)
    series = series_raw.map(normalize_series)
    rows.reject(series.isin(GHOST_SERIES), "ghost_series", "series", series_raw)
    rows.reject(series.isin(LEGENDS_SERIES), "legends_placeholder", "series", series_raw)
    rows.reject(series.isna(), "unknown_series_label", "series", series_raw)
    league_mismatch(rows, "league_id", league)
    numbers = _counts(rows)
    team = on_text(team_raw, canonical_team_name)
    rows.fold_exact_repeats()
    rows.reject(
        pd.Series(list(zip(series, on_text(team, team_key))), index=rows.df.index).duplicated(),
        "duplicate_key",
        "team",
        team,
    )
    return pd.DataFrame({"row_number": rows.df.index, "series": series, "team": team, **numbers}, index=rows.df.index)


def _counts(rows: FileRows) -> dict[str, pd.Series]:
    """The standings counts (nested objects flattened: 'matches.won' -> matches_won); 0 when absent."""
    flat = pd.json_normalize(rows.df.to_dict("records")) if len(rows.df) else pd.DataFrame()
    flat.index = rows.df.index
    numbers = {}
    for src, dst in _STAT_FIELDS.items():
        raw = flat[src] if src in flat.columns else pd.Series(None, index=rows.df.index, dtype="object")
        parsed = raw.map(parse_count)
        given = pd.Series(
            [v is not None and not (isinstance(v, float) and v != v) for v in raw.tolist()], index=raw.index, dtype=bool
        )
        rows.reject(given & parsed.isna(), "invalid_number", src, raw)
        rows.reject(parsed < 0, "negative_count", src, raw)
        numbers[dst] = parsed.fillna(0).astype("Int64") if len(parsed) else parsed
    return numbers
