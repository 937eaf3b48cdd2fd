"""Django's PostgreSQL backend with a health check that costs no round trip when there is nothing to find.

``CONN_HEALTH_CHECKS`` makes Django check a persistent connection before its first use in each request, so a request
after a database restart reconnects instead of failing. Django checks with ``SELECT 1``: a round trip per database
per request (seven per purchase: hold and checkout touch three and four databases), on the server's CPU too.

A connection the server has ended (a restart, ``pg_terminate_backend``, an idle timeout, a pooler going away) is one
on which the server has written something while no query was running: its termination message and the end of the
stream, which stays readable until the connection is closed. So the check first looks at what the client already
knows (libpq marked the connection bad, or it is not idle) and asks the socket, without waiting, whether anything
arrived while the connection was idle; only then does it run Django's ``SELECT 1``, which reads what came and closes
the connection if it is dead. A quiet socket is a live connection as far as any check can tell: a server that
disappears without a word (a cut network) is not found by ``SELECT 1`` either, only by the next query's error, which
the request answers as 503 DATABASE_UNAVAILABLE (core/errors.py).
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done or self.pool:
            return
        if self._server_spoke_while_idle() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def _server_spoke_while_idle(self) -> bool:
        """True unless the connection is open, idle and its socket has nothing to read: then it needs a real check."""
        connection = self.connection
        try:
            if connection.closed or connection.info.transaction_status != TransactionStatus.IDLE:
                return True
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            return bool(poller.poll(0))
        except (OSError, ValueError, psycopg.Error):
            return True
