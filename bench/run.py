"""The performance benchmark: one command, its own data set, a real gunicorn server, a results table.

    .venv/bin/python -m bench.run                                  # every scenario, full size, 4 workers
    .venv/bin/python -m bench.run --scenario onsale --workers 6 --clients 64
    .venv/bin/python -m bench.run --size tiny --no-record          # a quick check that everything still runs

Scenarios (``--scenario``): ``publish`` (80,000 seats), ``seatmap`` (1,000-seat section / whole event
availability), ``dashboard`` (80,000 seats, 50,000 sold), ``onsale`` (64 buyers, 2,000-seat hot zone, until sold
out), ``memory`` (worker RSS after the on-sale), ``gate`` (5,000 tickets scanned, then re-scanned), ``all``.

Every run creates its own empty databases (``bench_<run>_*``, on the embedded PostgreSQL or on the server that
``USERS_DATABASE_URL`` names), migrates them and drops them at the end (``--keep-data`` keeps them). After every
scenario the invariant checker runs; the command exits 1 if any scenario broke an invariant, answered an unexpected
error or a 5xx (a missed speed goal is reported, and fails the run only with ``--strict``). Results are appended
to docs/performance-log.md with the date, commit and machine (``--no-record`` to skip) and written as JSON under
artifacts/bench/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from bench import ceiling, harness

SCENARIOS = ("publish", "seatmap", "dashboard", "onsale", "memory", "gate")
PORTS = range(8110, 8114)
DOC = harness.PROJECT_DIR / "docs" / "performance-log.md"
RESULTS_MARKER = "<!-- bench.run appends results below this line -->"


@dataclass
class Options:
    scenarios: tuple[str, ...] = SCENARIOS
    size: str = "full"
    workers: int = 3
    threads: int = 4
    http_server: str = "gunicorn"
    clients: int | None = None  # on-sale clients; default from the size
    gate_clients: int | None = None
    onsale_seconds: float = 180.0
    port: int | None = None
    server_env: dict[str, str] = field(default_factory=dict)
    profile: float = 0.0  # > 0: py-spy every worker for that long at the start of each HTTP scenario

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Options:
        """The run the command line asks for (parse_args): each option comes from the argument of its name."""
        return cls(**{option.name: getattr(args, option.name) for option in fields(cls) if hasattr(args, option.name)})


@dataclass
class Report:
    options: Options
    started_at: str
    commit: str
    machine: str
    data_note: str = ""
    activity_before: str = ""
    activity_after: str = ""
    setup: dict[str, float] = field(default_factory=dict)
    results: list = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return all(result.correct for result in self.results)

    @property
    def goals_met(self) -> bool:
        return all(goal.met for result in self.results for goal in result.goals)


def _git(*arguments: str) -> str:
    return subprocess.run(  # noqa: S603 - a fixed git command line
        ["git", *arguments], cwd=harness.PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout.strip()


def _commit() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        described = _git("rev-parse", "--short", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no")
        return f"{described}{' (+ uncommitted changes)' if dirty else ''}"
    return "unknown"


def machine_activity() -> str:
    """Load average and the busiest processes that are not this benchmark (what else shared the two cores)."""
    import os

    try:
        load = " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "?"
    ps = subprocess.run(
        ["ps", "-eo", "pid,ppid,pcpu,args", "--sort=-pcpu"], capture_output=True, text=True, check=False
    )
    mine = {os.getpid()}
    busy = []
    for line in ps.stdout.splitlines()[1:]:
        fields = line.split(None, 3)
        if len(fields) < 4:
            continue
        pid, ppid, cpu, args = int(fields[0]), int(fields[1]), float(fields[2]), fields[3]
        if pid in mine or ppid in mine or "bench.run" in args or "127.0.0.1:811" in args or cpu < 5:
            continue
        name = " ".join(args.split()[:4])[:70]
        busy.append(f"{name} ({cpu:.0f}%)")
        if len(busy) == 4:
            break
    return f"load average {load}; busiest other processes: {', '.join(busy) or 'none above 5% CPU'}"


def _free_bench_port() -> int:
    for port in PORTS:
        if not harness._port_in_use(port):
            return port
    return harness.free_port()


def _expand(scenarios: tuple[str, ...]) -> tuple[str, ...]:
    # memory reads the workers after an on-sale, so it brings one along.
    wanted = set(scenarios)
    if "memory" in wanted:
        wanted.add("onsale")
    return tuple(name for name in SCENARIOS if name in wanted)


def run_benchmark(options: Options, *, log: Callable[[str], None] = print) -> Report:
    """Build the data set, start the server, run the chosen scenarios. Django must be set up, databases migrated."""
    from bench import dataset, scenarios

    size = dataset.SIZES[options.size]
    wanted = _expand(options.scenarios)
    report = Report(
        options=options,
        started_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commit=_commit(),
        machine=harness.machine_description(),
    )
    run_id = secrets.token_hex(3)
    report.activity_before = machine_activity()
    log(f"Machine before the run: {report.activity_before}")
    log(f"Building the data set (size {size.name}, run {run_id}) ...")
    started = time.perf_counter()
    data = dataset.build_people(size, run_id, log)
    needs_big = bool({"publish", "seatmap", "dashboard", "gate"} & set(wanted))
    if needs_big:
        dataset.build_big_event(data, log)
    if {"dashboard", "gate"} & set(wanted):
        dataset.sell_big_event(data, log)
    if "onsale" in wanted:
        dataset.build_stadium(data, log)
    dataset.settle(data, log)
    report.setup = {key: round(value, 2) for key, value in data.timings.items()}
    report.setup["total_s"] = round(time.perf_counter() - started, 1)

    if "publish" in wanted:
        report.results.append(scenarios.publish(data))
        log(_result_line(report.results[-1]))
    http_scenarios = [name for name in wanted if name != "publish"]
    if not http_scenarios:
        return report

    env = harness.server_env({"DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_QUERY_COUNT": "1"})
    env.update(options.server_env)
    port = options.port or _free_bench_port()
    peak: dict[int, float] = {}

    def sample_memory(stop) -> None:
        while not stop.wait(0.5):
            for pid, mb in server.worker_rss_mb().items():
                peak[pid] = max(peak.get(pid, 0.0), mb)

    log(f"Starting {options.http_server}: {options.workers} workers x {options.threads} threads, 127.0.0.1:{port} ...")
    with harness.Server(
        port=port, workers=options.workers, threads=options.threads, env=env, http_server=options.http_server
    ) as server:
        warm_up(server, options.workers * options.threads)
        with harness.background(sample_memory):
            for name in http_scenarios:
                log(f"Scenario {name} ...")
                recording = None
                if options.profile > 0 and name != "memory":
                    from bench import profile

                    recording = profile.Recording(server, label=name, seconds=options.profile)
                if name == "seatmap":
                    result = scenarios.seatmap(server, data, requests=size.read_requests)
                elif name == "dashboard":
                    result = scenarios.dashboard(server, data, requests=size.read_requests)
                elif name == "onsale":
                    result = scenarios.onsale(
                        server, data, clients=options.clients or size.onsale_clients, seconds=options.onsale_seconds
                    )
                elif name == "memory":
                    result = scenarios.memory(server, peak)
                else:
                    result = scenarios.gate(server, data, clients=options.gate_clients or size.gate_clients)
                if recording is not None:
                    result.profile = recording.finish()
                    log(result.profile)
                report.results.append(result)
                log(_result_line(result))
    report.activity_after = machine_activity()
    return report


def warm_up(server: harness.Server, concurrency: int) -> None:
    """Open every worker's database connections and import its lazy modules before anything is measured."""
    stats = harness.Stats()
    harness.run_clients(
        lambda index, client: client.request("warm-up", "GET", "/healthz"),
        clients=concurrency,
        base_url=server.base_url,
        stats=stats,
        seconds=30,
        max_iterations=concurrency * 8,
    )


def _result_line(result) -> str:
    goals = "; ".join(f"{g.name} {g.figure} ({'met' if g.met else 'MISSED'})" for g in result.goals)
    problems = f" PROBLEMS: {result.problems}" if result.problems else ""
    return f"  {result.scenario}: {goals}{problems}"


def goals_table(report: Report) -> str:
    lines = [
        "| scenario | measure | goal | measured | verdict |",
        "|---|---|---|---|---|",
    ]
    for result in report.results:
        for goal in result.goals:
            verdict = "met" if goal.met else "MISSED"
            lines.append(f"| {result.scenario} | {goal.name} | {goal.target} | {goal.figure} | {verdict} |")
        if result.problems:
            lines.append(f"| {result.scenario} | correctness | no problem | {'; '.join(result.problems)} | FAILED |")
        elif "invariants" in result.figures:
            lines.append(
                f"| {result.scenario} | check_invariants | ok | {result.figures['invariants']} "
                f"({result.figures.get('invariants_s', 0)} s) | {'met' if result.correct else 'FAILED'} |"
            )
    return "\n".join(lines)


def server_table(report: Report) -> str:
    lines = [
        "| operation | statements/request (median, max) | by database | writing transactions (median) "
        "| server p50 / p95 / p99 ms |",
        "|---|---|---|---|---|",
    ]
    for result in report.results:
        for operation, figures in result.server.items():
            lines.append(
                f"| {operation} | {figures['queries_median']}, {figures['queries_max']} | {figures['queries_by_db']} | "
                f"{figures.get('write_transactions_median')} | "
                f"{figures['server_p50_ms']} / {figures['server_p95_ms']} / {figures['server_p99_ms']} |"
            )
    return "\n".join(lines)


CPU_SOURCES = (
    ("django", "Django (server workers)"),
    ("postgres", "PostgreSQL"),
    ("load_generator", "load generator"),
)


def _cpu_rows(figures: dict, where: str) -> list[str]:
    rows = []
    for key in sorted(figures):
        if isinstance(figures[key], dict):
            rows += _cpu_rows(figures[key], f"{where}, {key.removesuffix('_cpu')}")
        elif key.startswith("cpu_ms_per_") and key.endswith("_django"):
            label = key.removeprefix("cpu_ms_per_").removesuffix("_django")
            values = [figures.get(f"cpu_ms_per_{label}_{source}") for source, _title in CPU_SOURCES]
            total = round(sum(value for value in values if value is not None), 2)
            rows.append(f"| {label} ({where}) | " + " | ".join(str(value) for value in values) + f" | {total} |")
    return rows


def cpu_table(report: Report) -> str:
    """CPU milliseconds per operation, split by process: the figures that do not depend on the machine's other work."""
    lines = ["| operation | " + " | ".join(f"{title} ms" for _key, title in CPU_SOURCES) + " | total ms |"]
    lines.append("|---|" + "---|" * (len(CPU_SOURCES) + 1))
    for result in report.results:
        lines += _cpu_rows(result.figures, result.scenario)
    return "\n".join(lines)


def render(report: Report, *, command: str, note: str) -> str:
    options = report.options
    if options.http_server == "granian":
        kind = "granian WSGI"
    else:
        kind = "gunicorn sync" if options.threads == 1 else "gunicorn gthread"
    parts = [
        f"### {report.started_at} · commit {report.commit} · {report.machine}",
        "",
        f"`{command}` — {options.workers} {kind} workers x {options.threads} threads; size {options.size}; "
        f"data: {report.data_note}. Also running on the machine: {note or 'see below'}.",
        "",
        f"Machine before: {report.activity_before}. After: {report.activity_after}.",
        "",
        goals_table(report),
        "",
        "CPU per operation (bench.scenarios.CpuMeter: /proc of the workers, of this run's PostgreSQL backends and of "
        "the load generator):",
        "",
        cpu_table(report),
        "",
        "Server side (from X-Query-Count / X-Write-Transactions / X-Server-Time-Ms):",
        "",
        server_table(report),
        "",
        f"Set-up: {', '.join(f'{k} {v}' for k, v in report.setup.items())}.",
        "",
        "<details><summary>Client-side tables</summary>",
        "",
        "```",
    ]
    for result in report.results:
        for table in result.tables:
            parts += [f"[{result.scenario}]", table, ""]
    for result in report.results:
        if result.profile:
            parts += ["```", "", f"Profile of the workers during {result.scenario} (py-spy, bench/profile.py):", ""]
            parts += [result.profile, "", "```"]
    figures = {result.scenario: result.figures for result in report.results}
    parts += ["```", "", "```json", json.dumps(figures, indent=1, default=str), "```", "", "</details>", ""]
    return "\n".join(parts)


def record(report: Report, text: str) -> Path:
    """Append to docs/performance-log.md (after the results marker) and write the JSON under artifacts/bench/."""
    harness.ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = harness.ARTIFACTS_DIR / f"perf-{stamp}.json"
    payload = {
        "started_at": report.started_at,
        "commit": report.commit,
        "machine": report.machine,
        "options": asdict(report.options),
        "setup": report.setup,
        "results": [asdict(result) for result in report.results],
    }
    path.write_text(json.dumps(payload, indent=1, default=str))
    existing = DOC.read_text() if DOC.exists() else f"# Performance\n\n## Results log\n\n{RESULTS_MARKER}\n"
    if RESULTS_MARKER not in existing:
        existing = existing.rstrip("\n") + f"\n\n## Results log\n\n{RESULTS_MARKER}\n"
    DOC.write_text(existing.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")
    return path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="all", help=f"all, or a comma-separated list of {', '.join(SCENARIOS)}")
    parser.add_argument("--size", choices=("full", "small", "tiny"), default="full")
    parser.add_argument(
        "--workers",
        type=int,
        default=3,
        help="gunicorn worker processes (default 3, as gunicorn.conf.py: cores + 1)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4: gthread; 1: sync)")
    parser.add_argument(
        "--http-server",
        choices=harness.HTTP_SERVERS,
        default="gunicorn",
        help="gunicorn (default) or granian in WSGI mode (--threads: its blocking threads per worker)",
    )
    parser.add_argument("--clients", type=int, default=None, help="on-sale clients (default 64; tiny: 8)")
    parser.add_argument("--gate-clients", type=int, default=None, help="gate devices (default 32; tiny: 4)")
    parser.add_argument("--onsale-seconds", type=float, default=180.0, help="upper bound of the on-sale (s)")
    parser.add_argument("--keep-data", action="store_true", help="keep the run's databases afterwards (to inspect)")
    parser.add_argument("--no-record", action="store_true", help="do not append to docs/performance-log.md")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a speed goal is missed too")
    parser.add_argument("--note", default="", help="what else was running on the machine (goes into the record)")
    parser.add_argument(
        "--profile", type=float, default=0.0, metavar="SECONDS", help="py-spy the workers for SECONDS per scenario"
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for gunicorn"
    )
    parser.add_argument(
        "--ceiling",
        type=int,
        default=0,
        metavar="SESSIONS",
        help="then the raw-SQL ceiling of the same statements (bench.ceiling) with SESSIONS sessions, in this run",
    )
    args = parser.parse_args(argv)
    if args.scenario == "all":
        args.scenarios = SCENARIOS
    else:
        args.scenarios = tuple(name.strip() for name in args.scenario.split(","))
        unknown = [name for name in args.scenarios if name not in SCENARIOS]
        if unknown:
            parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    if args.workers < 1 or args.threads < 1 or (args.clients is not None and args.clients < 1):
        parser.error("--workers, --threads and --clients must be at least 1")
    for item in args.server_env:
        if "=" not in item:
            parser.error(f"--server-env wants KEY=VALUE, not {item!r}")
    args.server_env = dict(item.split("=", 1) for item in args.server_env)
    return args


def _ceiling_section(report: Report, *, sessions: int, note: str) -> str:
    """The raw-SQL ceiling of the statements this commit sends, measured right after the HTTP scenarios, and the
    share of it this run reached."""
    print(f"Raw-SQL ceiling: {sessions} sessions ...")
    # A process of its own: Django here is bound to this run's (dropped) databases, the ceiling builds on new ones.
    harness.ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    out = harness.ARTIFACTS_DIR / f"ceiling-of-run-{secrets.token_hex(3)}.json"
    subprocess.run(  # noqa: S603 - a fixed command line of this project
        [sys.executable, "-m", "bench.ceiling", "--size", report.options.size, "--clients", str(sessions)]
        + ["--no-record", "--json-out", str(out)],
        cwd=harness.PROJECT_DIR,
        check=True,
    )
    result = json.loads(out.read_text())
    ours = {scenario.scenario: scenario.figures for scenario in report.results}
    ours.update(file="this run", commit=report.commit)
    if "onsale" not in ours or "gate" not in ours:
        ours = None
    table = ceiling.render(result, command=f"bench.ceiling, {sessions} sessions, in this run", note=note, ours=ours)
    return "#### Raw-SQL ceiling, same run\n\n" + table.split("\n", 2)[2]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_id = secrets.token_hex(4)
    # Fresh, empty databases for this run (the shared harness helper): the figures are of a known data set and the
    # invariant checker audits only what the benchmark did, whatever the development databases hold.
    urls = harness.create_fresh_databases(run_id)
    data_note = f"fresh databases {', '.join(url.rpartition('/')[2] for url in urls)}"
    try:
        harness.setup_django()
        harness.migrate_all()
        options = Options.from_args(args)
        report = run_benchmark(options)
    finally:
        if args.keep_data:
            print(f"Kept the databases: {', '.join(urls)}")
        else:
            harness.drop_databases(urls)
    report.data_note = data_note
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(report, command=command.strip(), note=args.note)
    if args.ceiling:
        text += "\n" + _ceiling_section(report, sessions=args.ceiling, note=args.note)
    print()
    print(text)
    if not args.no_record:
        path = record(report, text)
        print(f"Recorded in {DOC.relative_to(harness.PROJECT_DIR)} and {path.relative_to(harness.PROJECT_DIR)}.")
    if not report.correct:
        print("FAILED: a scenario broke correctness (see PROBLEMS above).", file=sys.stderr)
        return 1
    if args.strict and not report.goals_met:
        print("FAILED (--strict): a goal was missed.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
