"""The catalog's conventions in one place: who owns what, the tags, and every table's asset spec
(the Rally tables the import publishes, and the app's own tables it never writes)."""

from __future__ import annotations

import dagster as dg

from rally_assets.core.constants import PROTECTED_TABLES
from rally_assets.core.publish.report import PUBLISHED_TABLES
from rally_assets.defs.partitions import league_partitions

ETL_OWNER = "team:rally-data"  # the people who run the import and answer for its data
APP_OWNER = "team:rally-app"  # the app: its users write these tables, the ETL only reads them

LANDING_GROUP = "landing"
IMPORT_GROUP = "league_import"
RALLY_TABLES_GROUP = "rally_tables"
APP_TABLES_GROUP = "app_tables"

RALLY_TABLE_DESCRIPTIONS = {
    "leagues": "The league's row (string id, name, URL). Written by the publish from the league folder's name.",
    "clubs": "The clubs the league's teams belong to. A club two leagues share is one row (`club_leagues`).",
    "series": "The league's series (`Series 22`, `Division 1`, sub-series such as `Series 14a`). "
    "Global or per league, as the app's schema has it.",
    "teams": "One row per club, series and league (`unique_team_club_series_league`).",
    "players": "The league's players by tenniscores id. Never deleted: a player missing from a full scrape "
    "is **deactivated**, so user links and availability keep pointing at a real row.",
    "match_scores": "Match results from `match_history.json`, replaced per league (within a partial scrape's series).",
    "schedule": "Fixtures from `schedules.json`; the app's own practice rows are kept.",
    "series_stats": "Standings from `series_stats.json`, replaced per league.",
    "player_history": "Per-player match history from `player_history.json`, replaced per league.",
}

APP_TABLE_DESCRIPTIONS = {
    "users": "The app's users. Their league context (`league_context`) is repaired by the one rule after every "
    "import; the ETL never deletes or rewrites a user.",
    "user_player_associations": "Which player records a user is (user ↔ tenniscores id). Created by users "
    "and by discovery; the import never deletes one.",
    "player_availability": "Users' availability for matches. **Never touched by an import**: the guard "
    "trigger refuses it, the snapshot proves it.",
    "user_contexts": "A user's current team and league in the app (where the app's schema has it).",
    "polls": "Captains' polls to their team.",
    "poll_choices": "The choices of a poll.",
    "poll_responses": "Users' answers to polls.",
    "captain_messages": "Captains' messages to their team.",
}


def table_name(table: str) -> str:
    return f"public.{table}"


def league_spec(key: str, *, group: str, layer: str, domain: str, kinds: set[str], description: str, **more):
    """An ETL asset per league (a partition per league folder), owned by the ETL's team: the one shape
    of the landing folder, the staged league, the snapshot and the Rally tables."""
    return dg.AssetSpec(
        key,
        partitions_def=league_partitions,
        group_name=group,
        description=description,
        owners=[ETL_OWNER],
        tags={"layer": layer, "domain": domain},
        kinds=kinds,
        **more,
    )


def rally_table_spec(table: str, deps: list) -> dg.AssetSpec:
    """A Rally table the import publishes, per league (the publish writes all of them in one transaction)."""
    return league_spec(
        table,
        group=RALLY_TABLES_GROUP,
        layer="published",
        domain="league",
        kinds={"postgres", "table"},
        description=RALLY_TABLE_DESCRIPTIONS[table],
        deps=deps,
        metadata={"dagster/table_name": table_name(table)},
        skippable=True,  # a refused import publishes nothing: the table keeps its last good publish
    )


def _app_table_spec(table: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        table,
        group_name=APP_TABLES_GROUP,
        description=APP_TABLE_DESCRIPTIONS[table] + "\n\nOwned by the app: external to the ETL, never materialised.",
        owners=[APP_OWNER],
        tags={"layer": "app", "domain": "user_data", "protected": "true"},
        kinds={"postgres", "table"},
        metadata={"dagster/table_name": table_name(table)},
    )


APP_TABLES = {table: _app_table_spec(table) for table in PROTECTED_TABLES}

# The Rally tables, each depending on what its rows reference (the order the publish writes them).
_REFERENCES = {
    "leagues": [],
    "clubs": ["leagues"],
    "series": ["leagues"],
    "teams": ["clubs", "series"],
    "players": ["teams"],
    "match_scores": ["teams"],
    "schedule": ["teams"],
    "series_stats": ["teams"],
    "player_history": ["players"],
}
assert tuple(_REFERENCES) == PUBLISHED_TABLES


def rally_table_specs(upstream: dg.AssetKey) -> list[dg.AssetSpec]:
    return [rally_table_spec(table, [upstream, *refs]) for table, refs in _REFERENCES.items()]
