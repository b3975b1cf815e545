"""Turning domain results into Dagster metadata (shared by the asset groups).

Only numbers that measure something are numbers (Dagster plots them); ids and limits are text, so a
plot never shows a constant or a growing id."""

from __future__ import annotations

import dagster as dg
import psycopg

from rally_assets.core import policy, tables
from rally_assets.core.parsing.league import ParsedLeague
from rally_assets.core.publish.report import PUBLISHED_TABLES, PublishReport
from rally_assets.core.verdict import Verdict
from rally_assets.defs.events import Event

_LIMIT_PREFIXES = ("max_", "min_", "limit")  # thresholds: the same in every run
_IDS = {"xid", "snapshot_id", "run_id"}  # identifiers: they grow, they measure nothing


def _is_text(key: str) -> bool:
    return key in _IDS or key.startswith(_LIMIT_PREFIXES) or key == "minimum"


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "_no changes_"
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += [
        "| " + " | ".join("" if r[c] is None else str(r[c]).replace("|", "/") for c in columns) + " |" for r in rows
    ]
    return "\n".join(lines)


def as_metadata(values: dict) -> dict:
    """Metadata: measures stay numbers (plotted), ids and limits become text, anything else JSON."""
    out: dict = {}
    for key, value in values.items():
        if isinstance(value, bool) or value is None:
            out[key] = str(value)
        elif isinstance(value, (int, float)):
            out[key] = dg.MetadataValue.text(f"{value:g}") if _is_text(key) else value
        elif isinstance(value, str):
            out[key] = value
        else:
            out[key] = dg.MetadataValue.json(value)
    return out


def league_of_run(context: dg.AssetCheckExecutionContext) -> str:
    """The league of the run: checks of a per-league import run in that league's partitioned run."""
    return context.run.tags["dagster/partition"]


def check_event(verdict: Verdict, key: dg.AssetKey, name: str, *, severity: str = "ERROR", partition=None, **fields):
    """A core verdict as the evaluation of check `name` on `key`: its reason as the description, its
    measures (and `fields`) as metadata; `partition` for a check per league."""
    return Event(
        key,
        metadata=as_metadata({**verdict.measures, **fields}),
        partition=partition,
        check=name,
        passed=bool(verdict.passed),
        description=verdict.description,
        severity=severity,
    )


def health_event(verdict: Verdict, key: dg.AssetKey, name: str, score_key: str, minimum: float) -> Event:
    """A health verdict: a failure is a WARN while its score is still in a good band, else an ERROR."""
    score = float(verdict.measures.get(score_key, 0.0))
    severity = "ERROR" if verdict.passed else policy.health_severity(score)
    return check_event(verdict, key, name, severity=severity, minimum=minimum, band=policy.health_band(score))


def parse_metadata(parsed: ParsedLeague) -> dict:
    """What the parse read, accepted, rejected, folded and set aside, per file."""
    metadata: dict = {"folder": parsed.folder, "fingerprint": parsed.fingerprint, "teams": len(parsed.teams)}
    for name, report in parsed.reports.items():
        stem = name.removesuffix(".json")
        metadata[f"{stem}_read"] = report.rows_read
        metadata[f"{stem}_accepted"] = report.accepted
        metadata[f"{stem}_rejected"] = sum(report.rejected.values())
        metadata[f"{stem}_folded"] = report.folded
        metadata[f"{stem}_set_aside"] = sum(report.set_aside.values())
    metadata["rejections_by_reason"] = dg.MetadataValue.json(
        {name: report.rejected for name, report in parsed.reports.items() if report.rejected}
    )
    metadata["sound_variation"] = dg.MetadataValue.json(
        {
            name: {"folded": report.folded, "set_aside": report.set_aside, "league_aliases": report.league_aliases}
            for name, report in parsed.reports.items()
            if report.folded or report.set_aside or report.league_aliases
        }
    )
    metadata["series_covered"] = dg.MetadataValue.json(parsed.covered_series)
    metadata["rows_without_team"] = len(parsed.teamless)
    return metadata


def publish_metadata(report: PublishReport) -> dict:
    """A publish as a whole: every count (plotted), what it kept and why, the diff, the scope."""
    metadata: dict = dict(report.numbers())
    metadata["xid"] = dg.MetadataValue.text(str(report.xid))  # an id, not a measure: never plotted
    metadata.update({f"{table}_kept": why for table, why in report.kept_tables().items()})
    metadata["summary"] = report.summary()
    metadata["diff_sample"] = dg.MetadataValue.md(markdown_table(report.diff_sample))
    metadata["contexts_fixed_by_reason"] = dg.MetadataValue.json(report.contexts_fixed_by_reason)
    if report.scope is not None:  # which series the landing covered: a partial scrape wrote only those
        metadata["scope"] = report.scope.describe()
        metadata["series_covered"] = dg.MetadataValue.json(report.scope.covered)
        metadata["series_not_covered"] = dg.MetadataValue.json(report.scope.not_covered)
    if report.links is not None:
        metadata["links_unmatched_list"] = dg.MetadataValue.json(report.links.unmatched)
    return metadata


def table_metadata(conn: psycopg.Connection, league: str, report: PublishReport) -> dict[str, dict]:
    """Each Rally table after a publish: the league's rows in it, what the publish changed, its columns."""
    rows = tables.league_rows(conn, league)
    columns = tables.table_columns(conn, PUBLISHED_TABLES)
    out: dict[str, dict] = {}
    for table in PUBLISHED_TABLES:
        changes = report.tables[table]
        metadata: dict = {
            "dagster/row_count": rows[table],
            "dagster/table_name": f"public.{table}",
            "dagster/column_schema": dg.TableSchema(
                columns=[
                    dg.TableColumn(name, data_type, constraints=dg.TableColumnConstraints(nullable=nullable))
                    for name, data_type, nullable in columns[table]
                ]
            ),
            "changes": changes.summary(),
        }
        if changes.kept:
            metadata["kept"] = changes.kept
        else:
            metadata.update({kind: getattr(changes, kind) for kind in ("inserted", "updated", "deleted")})
            if table == "players":
                metadata["deactivated"] = changes.deactivated
        out[table] = metadata
    return out
