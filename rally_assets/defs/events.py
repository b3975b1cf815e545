"""One thing to report to Dagster, a materialization or a check evaluation, built once from a domain
result. A step yields it (`as_result`: the asset or check is the step's own); `rally import`'s one run
logs it for whichever league it is importing (`as_logged`: the league's partition named on it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg


@dataclass(frozen=True)
class Event:
    key: dg.AssetKey
    metadata: dict = field(default_factory=dict)
    partition: str | None = None  # the league, for a partitioned asset or check
    check: str | None = None  # a check's name: the event is its evaluation
    passed: bool = True
    description: str | None = None
    severity: str = "ERROR"

    def as_result(self) -> dg.MaterializeResult | dg.AssetCheckResult:
        """What the step that owns the asset or check yields (its partition is the run's)."""
        if self.check is None:
            return dg.MaterializeResult(asset_key=self.key, metadata=self.metadata)
        return dg.AssetCheckResult(**self._check_fields())

    def as_logged(self) -> dg.AssetMaterialization | dg.AssetCheckEvaluation:
        """What a run that does not own the asset logs for it, e.g. `context.log_event(event.as_logged())`."""
        if self.check is None:
            return dg.AssetMaterialization(asset_key=self.key, partition=self.partition, metadata=self.metadata)
        return dg.AssetCheckEvaluation(**self._check_fields(), partition=self.partition)

    def _check_fields(self) -> dict:
        return {
            "asset_key": self.key,
            "check_name": self.check,
            "passed": self.passed,
            "description": self.description,
            "severity": dg.AssetCheckSeverity(self.severity),
            "metadata": self.metadata,
        }
