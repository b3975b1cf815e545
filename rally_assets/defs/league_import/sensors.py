"""New JSON lands -> an import run for that league."""

import json
import time
from pathlib import Path

import dagster as dg

from rally_assets.core.constants import LEAGUE_PARTITIONS
from rally_assets.core.landing import content_fingerprint, scan, settled
from rally_assets.core.settings import sensor_interval_seconds, settle_seconds
from rally_assets.defs.league_import.jobs import import_league_job
from rally_assets.defs.partitions import league_partitions
from rally_assets.defs.resources import LandingZone


@dg.sensor(
    job=import_league_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingZone) -> dg.SensorResult:
    """One import run per league folder whose files are new or changed and have settled.

    Cursor: league -> [stat signature, content fingerprint]. The run key is the fingerprint, so the
    same files are never imported twice, even after a cursor reset or a restart.
    """
    root = landing.root()
    cursor: dict = json.loads(context.cursor) if context.cursor else {}
    states, skipped = scan(root)
    known = set(context.instance.get_dynamic_partitions(LEAGUE_PARTITIONS))
    requests, new_partitions, unchanged, settling, touched = [], [], 0, [], 0
    wait = settle_seconds()
    now = time.time()
    for state in states:
        previous = cursor.get(state.league)
        if previous and previous[0] == state.stat_signature:
            unchanged += 1
            continue
        if not settled(state, wait, now):
            settling.append(f"{state.league} (changed {now - state.newest_mtime:.0f}s ago)")
            continue  # the cursor is not advanced: it is looked at again next tick
        fingerprint = content_fingerprint(Path(state.folder))
        cursor[state.league] = [state.stat_signature, fingerprint]
        if previous and previous[1] == fingerprint:
            touched += 1  # touched, same bytes
            continue
        if state.league not in known:
            new_partitions.append(state.league)
        requests.append(
            dg.RunRequest(
                run_key=f"{state.league}:{fingerprint}",
                partition_key=state.league,
                run_config={"ops": {"import_league": {"config": {"landing_dir": str(root)}}}},
                tags={"rally/league": state.league, "rally/fingerprint": fingerprint},
            )
        )
    present = {s.league for s in states}
    cursor = {league: value for league, value in cursor.items() if league in present}
    seen = (
        f"{len(states)} league folder(s) in {root}: {unchanged} unchanged"
        + (f", {touched} touched with identical content" if touched else "")
        + (f", settling: {', '.join(settling)}" if settling else "")
        + (f"; skipped {', '.join(skipped)}" if skipped else "")
    )
    context.log.info(seen)
    return dg.SensorResult(
        run_requests=requests,
        cursor=json.dumps(cursor, sort_keys=True),
        dynamic_partitions_requests=[league_partitions.build_add_request(new_partitions)] if new_partitions else [],
        skip_reason=None if requests else seen,
    )
