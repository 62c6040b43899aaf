"""Run a CloudFront Function's JavaScript under Node.js, in a bare ``vm`` context.

The function sees only what CloudFront's runtime gives it (no ``require``, no ``process``):
the code is evaluated in a fresh context and its ``handler`` is called with each event.
One Node process runs a whole table of events.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

_RUNNER = r"""
const fs = require("fs"), vm = require("vm");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const sandbox = {};
vm.createContext(sandbox);
vm.runInContext(input.code, sandbox, { filename: "function.js" });
(async () => {
  const out = [];
  for (const ev of input.events) out.push(await sandbox.handler(ev));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
"""


def node() -> str:
    """The node binary; the test is skipped (with the reason) when there is none."""
    found = shutil.which("node") or shutil.which("nodejs")
    if not found:
        pytest.skip("node (Node.js) is not installed: `apt-get install -y nodejs` (.ci/run does it)")
    return found


def viewer_event(uri: str, query: Mapping[str, str | Sequence[str]] | None = None) -> dict[str, Any]:
    """A viewer-request event as CloudFront builds it (querystring values as the viewer sent them)."""
    qs: dict[str, Any] = {}
    for name, value in (query or {}).items():
        if isinstance(value, str):
            qs[name] = {"value": value}
        else:
            qs[name] = {"value": value[0], "multiValue": [{"value": v} for v in value]}
    return {
        "version": "1.0",
        "context": {"eventType": "viewer-request", "distributionId": "EDFDVBD6EXAMPLE"},
        "viewer": {"ip": "198.51.100.11"},
        "request": {"method": "GET", "uri": uri, "querystring": qs, "headers": {}, "cookies": {}},
    }


def run_function(code: str, events: Sequence[Mapping[str, Any]], timeout: float = 30.0) -> list[dict[str, Any]]:
    """What ``handler`` returns for each event (a request to pass on, or a response)."""
    proc = subprocess.run(
        [node(), "-e", _RUNNER],
        input=json.dumps({"code": code, "events": list(events)}).encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"node failed: {proc.stderr.decode(errors='replace')}")
    result: list[dict[str, Any]] = json.loads(proc.stdout)
    return result


def outcome(answer: Mapping[str, Any]) -> str:
    """A short form to compare: ``301 <location>``, or ``-> <uri>`` for a request passed on."""
    if "statusCode" in answer:
        return f"{answer['statusCode']} {answer['headers']['location']['value']}"
    return f"-> {answer['uri']}"
