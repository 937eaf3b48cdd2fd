"""Why orders and events need session pooling today: the flow lock under each PgBouncer pool mode, shown.

    deploy/run/venv/bin/python deploy/pooling_check.py        # with the topology up (deploy/ctl up)

core/locking.py flow_lock takes pg_try_advisory_lock (SESSION level) in autocommit, runs several transactions, then
pg_advisory_unlock. This replays that sequence on two client connections through a transaction-pooling PgBouncer
(users, 5711) and a session-pooling one (orders, 5713), and the transaction-level lock (pg_try_advisory_xact_lock,
what inventory and orders already use elsewhere) through the transaction pooler. It prints what each client saw, which
server backend answered, and what pg_locks on the PostgreSQL server itself says afterwards. Only its own throwaway
lock key is used; nothing is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import topology  # noqa: E402 - the controller next to this file

KEY = 0x7A11_0C4E_5E55_1011  # a key no flow uses (flow keys are UUID prefixes)
XACT_KEY = KEY + 1


def connect(domain: topology.Domain, values: dict[str, str]) -> psycopg.Connection:
    """A client of the domain's PgBouncer, as the application connects to it."""
    return psycopg.connect(
        topology.app_url(domain.bouncer_port, domain.dbname, values), autocommit=True, prepare_threshold=None
    )


def one(conn: psycopg.Connection, query: str, key: int = KEY) -> tuple:
    return conn.execute(query, {"key": key}).fetchone()


def held_on_server(domain: topology.Domain, values: dict[str, str], key: int = KEY) -> list[tuple]:
    """Advisory locks on our key as the PostgreSQL server sees them (direct connection, not through PgBouncer)."""
    objid = key & 0xFFFFFFFF
    with topology.pg_admin(domain, values, domain.dbname) as admin:
        return admin.execute(
            "SELECT pid, mode, granted FROM pg_locks WHERE locktype = 'advisory' AND objid = %s", [objid]
        ).fetchall()


def session_lock_through(domain: topology.Domain, values: dict[str, str]) -> dict:
    """flow_lock's sequence on client A while other requests (B, C) use the same pooler: A locks, runs one of its
    transactions, B (a duplicate request for the same flow) tries the lock, A unlocks. C stands for any other
    request being inside a transaction at that moment, which is what makes the pooler hand out another backend."""
    a = connect(domain, values)
    b = connect(domain, values)
    c = connect(domain, values)
    pid = "SELECT pg_backend_pid()"
    seen = {}
    try:
        c.execute("BEGIN")
        seen["1. C is inside a transaction on backend"] = one(c, pid)
        seen["2. A pg_try_advisory_lock -> (acquired, backend)"] = one(
            a, "SELECT pg_try_advisory_lock(%(key)s), pg_backend_pid()"
        )
        c.execute("COMMIT")
        with a.transaction():
            seen["3. A runs its flow transaction on backend"] = one(a, pid)
        c.execute("BEGIN")
        seen["4. C is inside another transaction on backend"] = one(c, pid)
        seen["5. B pg_try_advisory_lock, the same flow (must be false)"] = one(
            b, "SELECT pg_try_advisory_lock(%(key)s), pg_backend_pid()"
        )
        c.execute("COMMIT")
        seen["6. A pg_advisory_unlock -> (released, backend)"] = one(
            a, "SELECT pg_advisory_unlock(%(key)s), pg_backend_pid()"
        )
    finally:
        a.close()
        b.close()
        c.close()
    seen["7. pg_locks on the server after every client disconnected (pid, mode, granted)"] = held_on_server(
        domain, values
    )
    return seen


def xact_lock_through(domain: topology.Domain, values: dict[str, str]) -> dict:
    a = connect(domain, values)
    b = connect(domain, values)
    seen = {}
    try:
        with a.transaction():
            seen["A pg_try_advisory_xact_lock"] = one(
                a, "SELECT pg_try_advisory_xact_lock(%(key)s), pg_backend_pid()", XACT_KEY
            )
            with b.transaction():
                seen["B pg_try_advisory_xact_lock while A's transaction is open (must be false)"] = one(
                    b, "SELECT pg_try_advisory_xact_lock(%(key)s), pg_backend_pid()", XACT_KEY
                )
        with b.transaction():
            seen["B after A committed (must be true)"] = one(
                b, "SELECT pg_try_advisory_xact_lock(%(key)s), pg_backend_pid()", XACT_KEY
            )
    finally:
        a.close()
        b.close()
    seen["pg_locks on the server afterwards"] = held_on_server(domain, values, XACT_KEY)
    return seen


def release_leaks(values: dict[str, str]) -> list[int]:
    """A session lock leaked on a pooled backend stays until PgBouncer closes that backend: end those backends."""
    ended = []
    for domain in topology.DOMAINS:
        for pid, _mode, _granted in held_on_server(domain, values):
            with topology.pg_admin(domain, values, domain.dbname) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            ended.append(pid)
    return ended


def main() -> int:
    values = topology.load_secrets()
    if not values:
        topology.die("the topology is not up (deploy/ctl up)")
    release_leaks(values)  # a previous run's leak would make this one's answers meaningless
    report = {}
    for name in ("users", "orders"):
        domain = topology.BY_NAME[name]
        mode = topology.POOL_MODES[name]
        report[f"session advisory lock (flow_lock) via PgBouncer {name} ({mode} pooling)"] = session_lock_through(
            domain, values
        )
    users = topology.BY_NAME["users"]
    report[f"transaction advisory lock via PgBouncer users ({topology.POOL_MODES['users']} pooling)"] = (
        xact_lock_through(users, values)
    )
    report["leaked session locks ended with pg_terminate_backend (backend pids)"] = release_leaks(values)
    print(json.dumps(report, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
