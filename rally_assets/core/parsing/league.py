"""Read one league folder into normalised pandas frames, with a parse report per file.

Nothing here touches the database. Every row that is not kept is counted with a reason (and
listed in `rejections` with its file, row and field); every kept row that ends up without a
team is listed in `teamless` with the reason. A file that cannot be read at all raises
InputError naming the file (and the row and field where there is one).

The files a folder may hold, and the parser of each, are the registry in core/file_types.py.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rally_assets.core.errors import InputError
from rally_assets.core.file_types import FILE_TYPES, by_frame
from rally_assets.core.parsing.normalize import sub_team_series
from rally_assets.core.parsing.player_history import add_career
from rally_assets.core.parsing.players import reject_unkeyed_players, take_series_from_teams
from rally_assets.core.parsing.reading import league_code, read_json_array
from rally_assets.core.parsing.rows import REJECTION_COLUMNS, FileReport, FileRows
from rally_assets.core.parsing.teams import (
    TEAM_NAMING_COLUMNS,
    TEAMLESS_COLUMNS,
    build_teams,
    swap_reversed_home_away,
    teamless_rows,
)


@dataclass
class ParsedLeague:
    league: str
    folder: str
    fingerprint: str
    players: pd.DataFrame
    teams: pd.DataFrame
    matches: pd.DataFrame
    schedule: pd.DataFrame
    series_stats: pd.DataFrame
    player_history: pd.DataFrame
    reports: dict[str, FileReport]
    rejections: pd.DataFrame
    teamless: pd.DataFrame

    @property
    def series(self) -> list[str]:
        return sorted(
            self.teams["series"].dropna().unique().tolist() + self.players["series"].dropna().unique().tolist()
        )

    @property
    def covered_series(self) -> list[str]:
        """The series this landing's players.json covers: a partial scrape publishes only these."""
        return sorted(self.players["series"].dropna().unique().tolist())

    def summary(self) -> dict:
        return {name: report.as_dict() for name, report in self.reports.items()}


def parse_league(folder: Path, landing_root: Path | None = None) -> ParsedLeague:
    """Parse `<landing>/<LEAGUE>/` into normalised frames. Raises InputError for unusable files."""
    folder = Path(folder)
    league = league_code(folder)
    if not folder.is_dir():
        raise InputError(str(folder), "is not a folder")
    raw, fingerprint = _read_files(folder, landing_root)
    _require_files(folder, raw)
    frames, reports, rejections = _parse_files(raw, league)
    teams, teamless = _resolve_teams(frames, reports, rejections)
    all_rejections = [r for r in rejections if len(r)]
    return ParsedLeague(
        league=league,
        folder=str(folder),
        fingerprint=fingerprint,
        **frames,
        teams=teams[teams["series"].notna()].reset_index(drop=True),
        reports=reports,
        rejections=(
            pd.concat(all_rejections, ignore_index=True) if all_rejections else pd.DataFrame(columns=REJECTION_COLUMNS)
        ),
        teamless=pd.DataFrame(teamless, columns=TEAMLESS_COLUMNS),
    )


def _read_files(folder: Path, landing_root: Path | None) -> tuple[dict[str, list | None], str]:
    """The records of every landing file (None for an absent one) and the folder's fingerprint."""
    digest = hashlib.sha256()
    raw: dict[str, list | None] = {}
    for file_type in FILE_TYPES:
        name = file_type.file
        path = folder / name
        if not path.exists() and not path.is_symlink():
            raw[name] = None
            continue
        records, data = read_json_array(path, landing_root)
        digest.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        raw[name] = records
    return raw, digest.hexdigest()


def _require_files(folder: Path, raw: dict[str, list | None]) -> None:
    """A required file must be there. An empty one parses (to no rows): the scrape_integrity check
    refuses it before the publish, with its diagnosis in the check's description and metadata."""
    for file_type in FILE_TYPES:
        if file_type.required and raw[file_type.file] is None:
            name = file_type.file
            raise InputError(str(folder / name), f"is missing: a league folder needs {name}")


def _parse_files(
    raw: dict[str, list | None], league: str
) -> tuple[dict[str, pd.DataFrame], dict[str, FileReport], list[pd.DataFrame]]:
    """Every file through its parser, in FILE_TYPES order: its frame (the kept rows), report and rejections."""
    frames: dict[str, pd.DataFrame] = {}
    reports: dict[str, FileReport] = {}
    rejections: list[pd.DataFrame] = []
    known_ids: set[str] = set()
    for file_type in FILE_TYPES:
        name = file_type.file
        if raw[name] is None:
            reports[name] = FileReport(file=name, present=False)
            frames[file_type.frame] = pd.DataFrame(columns=list(file_type.absent_columns))
            continue
        rows = FileRows(name, raw[name])
        frame = file_type.parse(rows, league, known_ids)
        rejections.append(rows.finish())
        reports[name] = rows.report
        frames[file_type.frame] = frame[rows.kept()].reset_index(drop=True) if file_type.per_row else frame
        if file_type.frame == "players":  # the roster is parsed first: the ids the later files may name
            known_ids = set(frames["players"]["tenniscores_player_id"])
    return frames, reports, rejections


def _resolve_teams(
    frames: dict[str, pd.DataFrame], reports: dict[str, FileReport], rejections: list[pd.DataFrame]
) -> tuple[pd.DataFrame, list[dict]]:
    """Build the teams, then settle what depends on them (in place in frames, reports, rejections).

    Returns every team (with or without a series) and the kept rows left without one.
    """
    add_career(frames["players"], frames["player_history"])
    teams = build_teams(frames["players"], frames["schedule"], frames["matches"], frames["series_stats"])
    teams["series"] = [sub_team_series(s, t) for s, t in zip(teams["series"], teams["team_name"])]
    players_report = reports[by_frame("players").file]
    take_series_from_teams(frames["players"], teams, players_report)
    frames["players"], unkeyed = reject_unkeyed_players(frames["players"], players_report)
    rejections.append(unkeyed)
    reports[by_frame("schedule").file].notes["home_away_swapped_by_location"] = swap_reversed_home_away(
        frames["schedule"], teams
    )
    teamless = [
        row
        for frame, columns in TEAM_NAMING_COLUMNS.items()
        for row in teamless_rows(frames[frame], by_frame(frame).file, columns, teams)
    ]
    return teams, teamless
