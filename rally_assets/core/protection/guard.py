"""The protected-table guard (design.md invariant 1).

Two layers: every statement the publish runs goes through `guarded_execute`, which refuses a
DELETE, TRUNCATE or UPDATE of a user-owned table before it reaches the server; and inside the
publish transaction `rally.publishing = 'on'` arms the database trigger installed by init-db,
which refuses the same writes whatever code issues them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import psycopg

from rally_assets.core.constants import PROTECTED_TABLES
from rally_assets.core.errors import ProtectedTableWriteError

_WRITE = re.compile(
    r"\b(DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|UPDATE)\s+(?:ONLY\s+)?((?:\"?\w+\"?\s*\.\s*)?\"?\w+\"?(?:\s*,\s*(?:\"?\w+\"?\s*\.\s*)?\"?\w+\"?)*)",
    re.IGNORECASE,
)


_INDIRECT = [
    # TRUNCATE ... CASCADE empties every table with a foreign key into the truncated ones.
    (re.compile(r"\bTRUNCATE\b[^;]*\bCASCADE\b", re.IGNORECASE), "TRUNCATE CASCADE", None),
    # An upsert into a protected table updates it; MERGE may update or delete.
    (
        re.compile(r"\bINSERT\s+INTO\s+(?:\"?\w+\"?\s*\.\s*)?\"?(\w+)\"?[^;]*\bDO\s+UPDATE\b", re.IGNORECASE),
        "UPSERT",
        1,
    ),
    (re.compile(r"\bMERGE\s+INTO\s+(?:ONLY\s+)?(?:\"?\w+\"?\s*\.\s*)?\"?(\w+)\"?", re.IGNORECASE), "MERGE", 1),
]


def protected_writes(sql: str) -> list[tuple[str, str]]:
    """(operation, table) for each statement part that would delete, truncate or update a protected table."""
    found = []
    for match in _WRITE.finditer(sql):
        operation = match.group(1).split()[0].upper()
        for target in match.group(2).split(","):
            table = target.strip().split(".")[-1].strip().strip('"').lower()
            if table in PROTECTED_TABLES:
                found.append((operation, table))
    for pattern, operation, group in _INDIRECT:
        for match in pattern.finditer(sql):
            if group is None:
                found.append((operation, "tables referencing the truncated ones"))
            elif match.group(group).lower() in PROTECTED_TABLES:
                found.append((operation, match.group(group).lower()))
    return found


# The one sanctioned write to user tables: the league-context repair may UPDATE (never delete)
# users.league_context and user_contexts, inside `context_repair(conn)`.
CONTEXT_REPAIR_TABLES = frozenset({"users", "user_contexts"})
_repairing: set[int] = set()


def check_statement(sql: str, allowed_updates: frozenset[str] = frozenset()) -> None:
    writes = [
        (op, table)
        for op, table in protected_writes(sql)
        if not (op in ("UPDATE", "UPSERT") and table in allowed_updates)
    ]
    if writes:
        operation, table = writes[0]
        raise ProtectedTableWriteError(
            f"refused: the import tried to {operation} the protected table {table!r}; "
            "user-owned tables are never written by an import"
        )


def guarded_execute(conn: psycopg.Connection, sql: str, params=None):
    check_statement(sql, CONTEXT_REPAIR_TABLES if id(conn) in _repairing else frozenset())
    return conn.execute(sql, params)


@contextlib.contextmanager
def context_repair(conn: psycopg.Connection) -> Iterator[None]:
    """Inside a transaction: allow UPDATEs of users / user_contexts (and only those) for this block."""
    conn.execute("SELECT set_config('rally.context_repair', 'on', true)")
    _repairing.add(id(conn))
    try:
        yield
    finally:
        _repairing.discard(id(conn))
        if not conn.closed and conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS:
            conn.execute("SELECT set_config('rally.context_repair', 'off', true)")


def arm_database_guard(conn: psycopg.Connection) -> None:
    """Inside a transaction: make the protected-table trigger refuse writes until commit."""
    conn.execute("SELECT set_config('rally.publishing', 'on', true)")
