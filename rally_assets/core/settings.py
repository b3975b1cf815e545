"""Every environment variable the project reads, in one place."""

from __future__ import annotations

import json
import os
from pathlib import Path

from rally_assets.core import policy

ENV_DATABASE_URL = "RALLY_DATABASE_URL"  # the app database; unset = embedded PostgreSQL under RALLY_HOME
ENV_HOME = "RALLY_HOME"  # embedded database, Dagster home and demo data (default: the nearest .rally)
ENV_LANDING_DIR = "RALLY_LANDING_DIR"  # where league folders land (default RALLY_HOME/landing)
ENV_DAGSTER_HOME = "DAGSTER_HOME"  # Dagster's instance directory (default RALLY_HOME/dagster)

HOME_DIR_NAME = ".rally"  # the folder `rally init-db` / `rally demo` create in the current directory


def explicit_home() -> Path | None:
    """RALLY_HOME when it is set."""
    value = os.environ.get(ENV_HOME)
    return Path(value).expanduser().resolve() if value else None


def found_home(start: Path | None = None) -> Path | None:
    """RALLY_HOME when set; else the nearest `.rally` folder in `start` (the current directory) or above it."""
    explicit = explicit_home()
    if explicit is not None:
        return explicit
    here = (start or Path.cwd()).resolve()
    return next((d / HOME_DIR_NAME for d in (here, *here.parents) if (d / HOME_DIR_NAME).is_dir()), None)


def rally_home() -> Path:
    """The home in use: RALLY_HOME, else the nearest `.rally`, else `./.rally` (not created here:
    only what writes into it creates it)."""
    return found_home() or (Path.cwd() / HOME_DIR_NAME).resolve()


def configured_database_url() -> str | None:
    return os.environ.get(ENV_DATABASE_URL) or None


def landing_dir(create: bool = False) -> Path:
    """RALLY_LANDING_DIR, else RALLY_HOME/landing; `create` makes it when missing (the sensor watches it)."""
    path = Path(os.environ.get(ENV_LANDING_DIR) or rally_home() / "landing").expanduser().resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def dagster_home() -> Path:
    """DAGSTER_HOME when set, else RALLY_HOME/dagster (created, with a minimal dagster.yaml)."""
    home = Path(os.environ.get(ENV_DAGSTER_HOME) or rally_home() / "dagster").expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(dagster_yaml(home))
    return home


# The instance a new Dagster home gets. The event log in ONE SQLite file instead of Dagster's default
# of a new file per run (each created with its schema, then written beside a shared index file): a
# cold `rally import` of import_1 spent 1.3-2.1 s less CPU (of ~7.3) with it. The event log's folder
# is written as a path (an {env: DAGSTER_HOME} would fail wherever the instance is opened from its
# folder without that variable). A deployment keeps its history in PostgreSQL (deploy/dagster.yaml).
# The run queue hands out queued runs every second, not every 5 s: a run launched from the UI or a
# sensor otherwise waits up to 5 s before it starts, longer than the import of a league takes.
DAGSTER_YAML = """telemetry:
  enabled: false
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
  config:
    dequeue_interval_seconds: 1
event_log_storage:
  module: dagster._core.storage.event_log
  class: ConsolidatedSqliteEventLogStorage
  config:
    base_dir: {home}
"""


def dagster_yaml(home: Path) -> str:
    """The dagster.yaml of a new Dagster home (see DAGSTER_YAML)."""
    return DAGSTER_YAML.format(home=json.dumps(str(home)))


ENV_SETTLE_SECONDS = "RALLY_LANDING_SETTLE_SECONDS"  # files untouched this long before a league is imported
ENV_SENSOR_INTERVAL = "RALLY_SENSOR_INTERVAL_SECONDS"  # how often the sensors look (read when the code loads)
ENV_HEALTH_CRON = "RALLY_HEALTH_CRON"  # when the health checks run between imports
ENV_FRESHNESS_DAYS = "RALLY_FRESHNESS_DAYS"  # a league with no publish for this many days is stale
ENV_FRESHNESS_CRON = "RALLY_FRESHNESS_CRON"  # when the freshness checks run


def settle_seconds() -> float:
    return float(os.environ.get(ENV_SETTLE_SECONDS) or policy.LANDING_SETTLE_SECONDS)


def sensor_interval_seconds() -> int:
    return int(os.environ.get(ENV_SENSOR_INTERVAL) or policy.SENSOR_INTERVAL_SECONDS)


def health_cron() -> str:
    return os.environ.get(ENV_HEALTH_CRON) or policy.HEALTH_CRON


def freshness_days() -> float:
    return float(os.environ.get(ENV_FRESHNESS_DAYS) or policy.FRESHNESS_DAYS)


def freshness_cron() -> str:
    return os.environ.get(ENV_FRESHNESS_CRON) or policy.FRESHNESS_CRON
