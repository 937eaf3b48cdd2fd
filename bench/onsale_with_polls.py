"""Is waiting cheap? The on-sale benchmark without, with, and again without 20,000 simulated waiting buyers polling
the room's status file through nginx every 10 s (2,000 polls/s), in one run on one server.

    .venv/bin/python -m bench.onsale_with_polls [--workers 3] [--clients 64] [--rate 2000] [--seconds 120]

Bounded and local: fresh databases of its own (dropped afterwards), gunicorn and nginx on 127.0.0.1. Three stadium
events of the ``small`` size are built (2,000-place hot zone each); ``bench.scenarios.onsale`` sells the hot zone of
the first without polls, of the second while ``bench.status_poller`` (a separate process: asyncio, raw keep-alive
connections) polls nginx at ``--rate``, and of the third without polls again (so drift of the shared machine between
runs shows). Reported per run: purchases/s, CPU milliseconds per purchase (gunicorn workers, PostgreSQL backends),
and for the polled run nginx's and the generator's CPU per poll. While polled, nginx and the generator run at
``--priority`` (nice -10 by default): on a machine shared with other work they would otherwise be starved and not
deliver the 2,000 polls/s; what they use still comes out of the same two cores as the sale's.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from bench import harness
from bench.run import warm_up
from bench.waiting_room_polls import _cpu_seconds, nginx_serving, write_status_file

RUNS = ("without polls", "with 2,000 polls/s", "without polls, again")


def _onsale(server: harness.Server, data, event: tuple[uuid.UUID, uuid.UUID], clients: int, seconds: float) -> dict:
    from bench import scenarios

    data.stadium_event_id, data.hot_section_id = event
    result = scenarios.onsale(server, data, clients=clients, seconds=seconds)
    figures = result.figures
    return {
        "purchases_per_s": figures["purchases_per_s"],
        "confirmed_orders": figures["confirmed_orders"],
        "seats_sold": figures["seats_sold_in_db"],
        "cpu_ms_per_purchase_django": figures["cpu_ms_per_purchase_django"],
        "cpu_ms_per_purchase_postgres": figures["cpu_ms_per_purchase_postgres"],
        "cpu_ms_per_purchase_server": round(
            figures["cpu_ms_per_purchase_django"] + figures["cpu_ms_per_purchase_postgres"], 2
        ),
        "hold_p99_ms": figures["hold_p99_ms"],
        "checkout_p99_ms": figures["checkout_p99_ms"],
        "problems": result.problems,
    }


def run(options: argparse.Namespace) -> dict:
    from bench import dataset

    log = print
    size = dataset.SIZES["small"]
    data = dataset.build_people(size, secrets.token_hex(3), log)
    events = []
    base_run_id = data.run_id
    for index, _name in enumerate(RUNS):
        data.run_id = f"{base_run_id}{index}"  # the venue's name carries it: one venue per stadium
        dataset.build_stadium(data, log)
        events.append((data.stadium_event_id, data.hot_section_id))
    dataset.settle(data, log)
    status_root = Path(tempfile.mkdtemp(prefix="wr-status-"))
    status_root.chmod(0o755)  # nginx's worker reads it
    path = write_status_file(status_root, uuid.uuid4())
    env = harness.server_env({"DJANGO_SETTINGS_MODULE": "bench.settings"})
    results: dict[str, dict] = {}
    try:
        with (
            nginx_serving(status_root) as (nginx_port, nginx_pids),
            harness.Server(port=harness.free_port(), workers=options.workers, threads=4, env=env) as server,
        ):
            warm_up(server, options.workers * 4)
            for name, event in zip(RUNS, events, strict=True):
                log(f"on-sale {name} ...")
                if "with" in name and "without" not in name:
                    results[name] = _polled(server, data, event, options, nginx_port, nginx_pids, path)
                else:
                    results[name] = _onsale(server, data, event, options.clients, options.seconds)
                log(json.dumps(results[name]))
    finally:
        shutil.rmtree(status_root, ignore_errors=True)
    base = [results[RUNS[0]], results[RUNS[2]]]
    polled = results[RUNS[1]]
    mean = {key: sum(run[key] for run in base) / 2 for key in ("purchases_per_s", "cpu_ms_per_purchase_server")}
    results["ratios_polled_to_mean_without"] = {key: round(polled[key] / mean[key], 3) for key in mean}
    return results


def _polled(server, data, event, options, nginx_port: int, nginx_pids: list[int], path: str) -> dict:
    """The on-sale while the generator polls nginx (started first, running past the sale's end, then stopped)."""
    for pid in nginx_pids:
        os.setpriority(os.PRIO_PROCESS, pid, options.priority)
    generator = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            "nice",
            "-n",
            str(options.priority),
            sys.executable,
            "-m",
            "bench.status_poller",
            "--port",
            str(nginx_port),
            "--path",
            path,
            "--rate",
            str(options.rate),
            "--connections",
            str(options.connections),
            "--seconds",
            str(options.seconds + 30),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=harness.PROJECT_DIR,
    )
    try:
        nginx_before = sum(_cpu_seconds([pid]) for pid in nginx_pids)
        result = _onsale(server, data, event, options.clients, options.seconds)
        nginx_cpu = sum(_cpu_seconds([pid]) for pid in nginx_pids) - nginx_before
    finally:
        generator.terminate()
        output, _ = generator.communicate(timeout=30)
    polls = json.loads(output.strip().splitlines()[-1]) if output.strip() else {}
    result["nginx_cpu_s_during_sale"] = round(nginx_cpu, 3)
    result["polls"] = polls
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=2000.0, help="polls per second while polled")
    parser.add_argument("--connections", type=int, default=200, help="the generator's keep-alive connections")
    parser.add_argument("--seconds", type=float, default=120.0, help="upper bound of each on-sale (s)")
    parser.add_argument(
        "--priority",
        type=int,
        default=-10,
        help="nice value of nginx and the generator while polled (root: negative), so the polls are delivered on a "
        "machine busy with other work; the CPU they take still comes out of the same two cores",
    )
    options = parser.parse_args()
    with harness.fresh_databases(secrets.token_hex(3)):
        result = run(options)
    result["load_average_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
