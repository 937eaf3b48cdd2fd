"""Request timing for the waiting room's throughput controller (docs/WAITING_ROOM.md, "Following measured
throughput").

A hold or checkout of an event whose room is active passes the pass check, which names the event in
``orders.services.waiting_room.latency_event``; this middleware then records the request's duration for that event
(one INSERT into orders_db, after the answer is computed). Every other request costs two clock reads and two context
variable operations, and no statement.
"""

from __future__ import annotations

import time

from django.http import HttpRequest, HttpResponse

from core.metrics import OPERATION_ROUTES
from orders.services.waiting_room import latency_event, waiting_room_latency_record


class WaitingRoomLatencyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = latency_event.set(None)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            event_id = latency_event.get()
        finally:
            latency_event.reset(token)
        if event_id is not None:
            match = getattr(request, "resolver_match", None)
            route = match.view_name if match is not None else ""
            operation = OPERATION_ROUTES.get((route, request.method), "other")
            waiting_room_latency_record(event_id=event_id, operation=operation, seconds=time.perf_counter() - started)
        return response
