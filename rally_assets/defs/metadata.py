"""Turning domain results into Dagster metadata (shared by the asset groups)."""

import dagster as dg

from rally_assets.core.publish.report import PublishReport
from rally_assets.core.verdict import Verdict


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
    """Metadata: numbers stay numbers (so Dagster plots them), anything else becomes JSON."""
    return {
        k: (float(v) if isinstance(v, float) else v)
        if isinstance(v, (int, float, str)) and not isinstance(v, bool)
        else dg.MetadataValue.json(v if not isinstance(v, bool) else str(v))
        for k, v in values.items()
    }


def league_of_run(context: dg.AssetCheckExecutionContext) -> str:
    """The league of the run: checks of a per-league asset run in that league's partitioned run."""
    return context.run.tags["dagster/partition"]


def check_result(verdict: Verdict, **extra) -> dg.AssetCheckResult:
    """A core verdict as a check result: its reason as the description, its measures as metadata."""
    return dg.AssetCheckResult(
        passed=bool(verdict.passed),
        description=verdict.description,
        metadata=as_metadata({**verdict.measures, **extra}),
    )


def publish_metadata(report: PublishReport) -> dict:
    """A publish's materialisation metadata: every count (plotted), what it kept and why, the diff."""
    metadata: dict = dict(report.numbers())
    metadata["xid"] = str(report.xid)  # an id, not a measure: text, never plotted
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
