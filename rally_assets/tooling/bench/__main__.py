"""`python -m rally_assets.tooling.bench --worker SPEC`: one benchmark worker, in a process of its own."""

import sys

from rally_assets.tooling.bench.workers import main

if __name__ == "__main__":
    sys.exit(main())
