"""The virtual waiting room of a high-demand on-sale (docs/WAITING_ROOM.md). One module per topic; this package
re-exports the API.

- **Switch** (``configuration``): staff turn a room on for an event (`waiting_room_configure`). The room is an orders_db
  row; the switch the hold/checkout path reads is ``events.Event.waiting_room``, on the event row that path loads
  anyway, so events without a room pay nothing for this feature.
- **Places** (``joining``): one per verified account (unique index), at most ``per_address_cap`` per client address (an
  advisory lock per room and address makes the count and the insert one step). Arrivals before ``starts_at`` get a
  random ``draw_key`` from ``secrets``; at the start the draw numbers them in key order, so arriving at 09:59:59 is
  worth no more than 09:45. Later arrivals get the next position at once, behind everyone drawn.
- **Admission** (``admission``): a job every few seconds (`waiting_room_admit_due`) admits what the rate owes since the
  room's ``admission_clock``, under ``SELECT ... FOR UPDATE`` of the room row: one writer whatever the number of
  workers, all in one transaction, so a crash admits a batch wholly or not at all and places never move.
- **Following throughput** (``admission``): optionally the step's rate is a controller's (`_follow_latency`): it grows
  while the p95 of the event's recent holds and checkouts (rows orders.middleware records) is under the staff's target
  and halves when it is over, never above the staff's rate, never past the bound on buyers in flight.
- **Passes** (``passes``): an admitted buyer gets a pass signed with ``django.core.signing`` (own salt), naming the
  account, the event and the expiry. Checking it reads no database: `waiting_room_pass_check` is what holds and checkout
  call.
- **Status** (``status``, with the staff page's counts): after each tick the job writes ``<event_id>.json`` ("admitted
  up to N", rate, paused, sold out) to ``WAITING_ROOM_STATUS_ROOT``; waiting pages poll that file, which a reverse proxy
  serves without Django.
"""

from orders.services.waiting_room._shared import (
    START_RATE_SHARE,
    admission_rate,
    room_url,
)
from orders.services.waiting_room.admission import (
    CONTROL_INTERVAL,
    LATENCY_PERCENTILE,
    LATENCY_RETENTION,
    LATENCY_WINDOW,
    MAX_BURST_MINUTES,
    MIN_LATENCY_SAMPLES,
    RATE_GROWTH,
    waiting_room_admit,
    waiting_room_admit_due,
    waiting_room_latency_record,
)
from orders.services.waiting_room.configuration import (
    MAX_LATENCY_TARGET_MS,
    MAX_RATE_PER_MINUTE,
    waiting_room_configure,
    waiting_room_set_pace,
)
from orders.services.waiting_room.joining import (
    DRAW_KEY_BITS,
    waiting_room_get,
    waiting_room_join,
    waiting_room_place,
)
from orders.services.waiting_room.passes import (
    PASS_COOKIE_PREFIX,
    PASS_HEADER,
    PASS_SALT,
    POSITION_SALT,
    latency_event,
    pass_cookie_name,
    position_token,
    waiting_room_pass_check,
    waiting_room_pass_from_request,
    waiting_room_pass_issue,
    waiting_room_pass_valid,
)
from orders.services.waiting_room.status import (
    status_path,
    status_url,
    waiting_room_counts,
    waiting_room_publish_status,
    waiting_room_read_status,
    waiting_room_status,
)

__all__ = [
    "CONTROL_INTERVAL",
    "DRAW_KEY_BITS",
    "LATENCY_PERCENTILE",
    "LATENCY_RETENTION",
    "LATENCY_WINDOW",
    "MAX_BURST_MINUTES",
    "MAX_LATENCY_TARGET_MS",
    "MAX_RATE_PER_MINUTE",
    "MIN_LATENCY_SAMPLES",
    "PASS_COOKIE_PREFIX",
    "PASS_HEADER",
    "PASS_SALT",
    "POSITION_SALT",
    "RATE_GROWTH",
    "START_RATE_SHARE",
    "admission_rate",
    "latency_event",
    "pass_cookie_name",
    "position_token",
    "room_url",
    "status_path",
    "status_url",
    "waiting_room_admit",
    "waiting_room_admit_due",
    "waiting_room_configure",
    "waiting_room_counts",
    "waiting_room_get",
    "waiting_room_join",
    "waiting_room_latency_record",
    "waiting_room_pass_check",
    "waiting_room_pass_from_request",
    "waiting_room_pass_issue",
    "waiting_room_pass_valid",
    "waiting_room_place",
    "waiting_room_publish_status",
    "waiting_room_read_status",
    "waiting_room_set_pace",
    "waiting_room_status",
]
