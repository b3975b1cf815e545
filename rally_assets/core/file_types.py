"""The landing file types: the file, the frame it is parsed into, the tables it fills, its parser.

The one list of what a league folder may hold: parsing, staging, publish, quality and the landing
sensor iterate it. Light on purpose (the parsers, and pandas, are imported only when one is used),
so the sensor and the CLI can read it without loading the parsing stack.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class FileType:
    file: str  # the file name in a league folder
    frame: str  # the ParsedLeague attribute it is parsed into
    staged_table: str  # the staging table that frame fills
    fact_table: str | None  # the fact table it replaces per league; None for a reference file
    required: bool  # the league cannot be imported without it, nor with it empty
    absent_keeps_rows: bool  # when the file is absent, the league's published rows of fact_table are kept
    parser: str  # "module:function", parse(rows, league, known_player_ids) -> frame; imported when used
    per_row: bool = True  # parse returns one row per record (the kept ones are selected); else its own rows
    absent_columns: tuple[str, ...] = ()  # the columns of the empty frame an absent file gives

    @property
    def parse(self):
        """The parser: (rows: FileRows, league, known_player_ids) -> the file's frame."""
        module, _, name = self.parser.partition(":")
        return getattr(importlib.import_module(module), name)


FILE_TYPES: tuple[FileType, ...] = (
    FileType(
        file="players.json",
        frame="players",
        staged_table="stg_players",
        fact_table=None,
        required=True,
        absent_keeps_rows=False,
        parser="rally_assets.core.parsing.players:parse_players",
    ),
    FileType(
        file="match_history.json",
        frame="matches",
        staged_table="stg_matches",
        fact_table="match_scores",
        required=False,
        absent_keeps_rows=True,
        parser="rally_assets.core.parsing.match_history:parse_match_history",
        absent_columns=("row_number", "home_team", "away_team", "series"),
    ),
    FileType(
        file="schedules.json",
        frame="schedule",
        staged_table="stg_schedule",
        fact_table="schedule",
        required=False,
        absent_keeps_rows=True,
        parser="rally_assets.core.parsing.schedules:parse_schedules",
        absent_columns=("row_number", "home_team", "away_team", "series", "location"),
    ),
    FileType(
        file="series_stats.json",
        frame="series_stats",
        staged_table="stg_series_stats",
        fact_table="series_stats",
        required=False,
        absent_keeps_rows=True,
        parser="rally_assets.core.parsing.series_stats:parse_series_stats",
        absent_columns=("row_number", "team", "series"),
    ),
    FileType(
        file="player_history.json",
        frame="player_history",
        staged_table="stg_player_history",
        fact_table="player_history",
        required=False,
        absent_keeps_rows=True,
        parser="rally_assets.core.parsing.player_history:parse_player_history",
        per_row=False,  # one row per dated entry of a kept record
        absent_columns=("row_number", "tenniscores_player_id", "series", "date", "end_pti"),
    ),
)

LANDING_FILES = tuple(t.file for t in FILE_TYPES)
_BY_FILE = {t.file: t for t in FILE_TYPES}
_BY_FRAME = {t.frame: t for t in FILE_TYPES}


def by_file(name: str) -> FileType:
    """The file type of a landing file name ('players.json'); KeyError for any other name."""
    return _BY_FILE[name]


def by_frame(frame: str) -> FileType:
    """The file type parsed into a ParsedLeague frame ('players'); KeyError for any other frame."""
    return _BY_FRAME[frame]


# Staged tables and the ParsedLeague frames that fill them: one per file type, plus the teams every
# file names (built by parsing, not read from a file).
STAGED_FRAMES = {t.staged_table: t.frame for t in FILE_TYPES} | {"stg_teams": "teams"}
FACT_TABLES = tuple(t.fact_table for t in FILE_TYPES if t.fact_table)
