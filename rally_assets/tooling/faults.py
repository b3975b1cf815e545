"""Fault-injection checkpoints, for the reliability tests (kill -9 at a chosen point).

No effect at all unless RALLY_FAULT_PAUSE_AT names the checkpoint reached: then the process
writes its pid to RALLY_FAULT_MARKER and waits there, to be killed by the test.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ENV_PAUSE_AT = "RALLY_FAULT_PAUSE_AT"
ENV_MARKER = "RALLY_FAULT_MARKER"


def checkpoint(name: str) -> None:
    if os.environ.get(ENV_PAUSE_AT) != name:
        return
    marker = os.environ.get(ENV_MARKER)
    if marker:
        Path(marker).write_text(f"{os.getpid()} {name}\n")
    while True:  # until the test kills the process group
        time.sleep(3600)
