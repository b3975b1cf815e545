"""Names shared by the domain core and the Dagster layer."""

from rally_assets.core.file_types import FACT_TABLES

# Tables the import owns: upserted by natural key (reference) or replaced per league (facts).
REFERENCE_TABLES = ("leagues", "clubs", "series", "club_leagues", "teams", "players")  # + series_leagues where global
ETL_TABLES = REFERENCE_TABLES + FACT_TABLES  # facts: one per landing file type that has one

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

# The app's own schedule rows (practice times), never the import's; SQL over schedule's columns, for a
# statement run without parameters (with parameters, each % doubled).
PRACTICE_ROWS = "home_team ILIKE '%practice%'"

# The counts of a standings row (series_stats.json, stg_series_stats, series_stats), in column order.
SERIES_STATS_COUNTS = (
    "matches_won",
    "matches_lost",
    "matches_tied",
    "lines_won",
    "lines_lost",
    "lines_for",
    "lines_ret",
    "sets_won",
    "sets_lost",
    "games_won",
    "games_lost",
)

ETL_SCHEMA = "rally_etl"  # the ETL's own schema: runs, staging, snapshots, rejections, repairs, functions

# Display names and URLs of the leagues Rally knows (rally-domain.md §2.3); others get their code.
KNOWN_LEAGUES = {
    "APTA_CHICAGO": ("APTA Chicago", "https://aptachicago.tenniscores.com/"),
    "APTA_NATIONAL": ("APTA National", "https://apta.tenniscores.com/"),
    "CITA": ("CITA", ""),
    "CNSWPL": ("Chicago North Shore Women's Platform Tennis League", "https://cnswpl.tenniscores.com/"),
    "NSTF": ("North Shore Tennis Foundation", "https://nstf.org/"),
}

LEAGUE_PARTITIONS = "leagues"
