"""Names shared by the domain core and the Dagster layer."""

# Tables the import owns: upserted by natural key (reference) or replaced per league (facts).
REFERENCE_TABLES = ("leagues", "clubs", "series", "club_leagues", "series_leagues", "teams", "players")
FACT_TABLES = ("match_scores", "schedule", "series_stats", "player_history")
ETL_TABLES = REFERENCE_TABLES + FACT_TABLES

# Tables users own. The import never deletes, truncates or updates them (design.md invariant 1).
PROTECTED_TABLES = (
    "users",
    "user_player_associations",
    "player_availability",
    "user_contexts",
    "polls",
    "poll_choices",
    "poll_responses",
    "captain_messages",
)

# staging table -> the ParsedLeague frame it is filled from (players, teams and the facts)
STAGED_FRAMES = {
    "stg_players": "players",
    "stg_teams": "teams",
    "stg_matches": "matches",
    "stg_schedule": "schedule",
    "stg_series_stats": "series_stats",
    "stg_player_history": "player_history",
}

LANDING_FILES = ("players.json", "match_history.json", "schedules.json", "series_stats.json", "player_history.json")

STAGING_SCHEMA = "rally_staging"

# Display names and URLs of the leagues Rally knows (rally-domain.md §2.3); others get their code.
KNOWN_LEAGUES = {
    "APTA_CHICAGO": ("APTA Chicago", "https://aptachicago.tenniscores.com/"),
    "APTA_NATIONAL": ("APTA National", "https://apta.tenniscores.com/"),
    "CITA": ("CITA", ""),
    "CNSWPL": ("Chicago North Shore Women's Platform Tennis League", "https://cnswpl.tenniscores.com/"),
    "NSTF": ("North Shore Tennis Foundation", "https://nstf.org/"),
}

LEAGUE_PARTITIONS = "leagues"
