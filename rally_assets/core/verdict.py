"""A verdict on data: passed or not, the operator's one-line reason, and the measures it judged.
The Dagster checks wrap verdicts; the CLI and the bench print them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Verdict:
    passed: bool
    description: str
    measures: dict = field(default_factory=dict)  # the numbers it judged, and the limits
