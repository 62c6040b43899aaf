"""Fault matrix: publish v2 of a site through a FaultProxy in front of a real moto server.

v1 is published directly to moto; v2 (pages changed, one added, one removed) goes through the
proxy with one fault configured. Whatever happens, nothing previously published may be lost:
either v2 is in the bucket exactly, or the publish fails with a PublishError whose message is
clear, the page v2 removed is still there when an upload failed, and every v1 object that v2
did not change still reads back with its v1 content.

Run with ``-s`` to see the matrix (case -> outcome).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, publish
from tests.conftest import BUCKET, EXTERNAL_ID, ROLE_ARN, Accounts, bucket_objects
from tests.conftest import make_site as write_site
from tests.support.faultproxy import (
    Delay,
    FaultProxy,
    Match,
    ResetConnection,
    StopServer,
    internal_error,
    slow_down,
)

pytestmark = pytest.mark.integration

META = ".mkdocs-s3-crossaccount/"

V1 = {
    "index.html": b"<html>home v1</html>",
    "guide/index.html": b"<html>guide v1</html>",
    "guide/install.html": b"<html>install v1</html>",
    "old/page.html": b"<html>removed in v2</html>",
    "assets/app.css": b"body{color:red}",
    "assets/app.js": b"console.log(1)",
    "img/logo.png": b"\x89PNG\r\n\x1a\nfake",
    "search/search_index.json": b'{"docs":[]}',
    "caf\u00e9/cr\u00e8me.html": b"<html>unicode v1</html>",
    "sitemap.xml": b"<urlset/>",
}
REMOVED = "old/page.html"
V2 = {k: v for k, v in V1.items() if k != REMOVED}
V2.update(
    {
        "index.html": b"<html>home v2</html>",
        "guide/index.html": b"<html>guide v2</html>",
        "caf\u00e9/cr\u00e8me.html": b"<html>unicode v2</html>",
        "new/page.html": b"<html>new in v2</html>",
    }
)

# Object PUTs of site pages (the lock and manifest live under .mkdocs-s3-crossaccount/).
SITE_PUT = Match(method="PUT", kind="object", path=rf"^/{BUCKET}/(?!\.mkdocs-s3-crossaccount)")
DELETE_OBJECTS = Match(method="POST", kind="bucket", query=r"(^|&)delete(=|&|$)")
LISTING = Match(method="GET", kind="bucket", query=r"list-type=2")

# case id -> (fault, match, selector kwargs)
CASES: dict[str, tuple[Any, Match, dict[str, int]]] = {
    "500 on 1st page PUT": (internal_error(), SITE_PUT, {"first": 1}),
    "500 on all page PUTs from the 2nd": (internal_error(), SITE_PUT, {"after": 2}),
    "503 SlowDown on first 2 page PUTs": (slow_down(), SITE_PUT, {"first": 2}),
    "503 SlowDown before body on 1st PUT": (slow_down(read_body=False), SITE_PUT, {"first": 1}),
    "reset before body on 2nd page PUT": (ResetConnection("before_body"), SITE_PUT, {"nth": 2}),
    "reset after body on 1st page PUT": (ResetConnection("after_body"), SITE_PUT, {"first": 1}),
    "reset after upstream on 1st page PUT": (ResetConnection("after_upstream"), SITE_PUT, {"first": 1}),
    "delay 0.2 s on every page PUT": (Delay(0.2), SITE_PUT, {}),
    "delay 0.2 s after upstream on PUTs": (Delay(0.2, after_upstream=True), SITE_PUT, {}),
    "server stopped after 2 page PUTs": (StopServer("reset"), SITE_PUT, {"after": 3}),
    "server refused after 1 page PUT": (StopServer("refuse"), SITE_PUT, {"after": 2}),
    "500 on 1st DeleteObjects": (internal_error(), DELETE_OBJECTS, {"first": 1}),
    "500 on every DeleteObjects": (internal_error(), DELETE_OBJECTS, {}),
    "reset after upstream on DeleteObjects": (ResetConnection("after_upstream"), DELETE_OBJECTS, {"first": 1}),
    "500 on 1st listing": (internal_error(), LISTING, {"first": 1}),
    "500 on every listing": (internal_error(), LISTING, {}),
}

MATRIX: dict[str, str] = {}
LOST: dict[str, int] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_matrix() -> Iterator[None]:
    yield
    if not MATRIX:
        return
    width = max(len(c) for c in MATRIX)
    print("\n\nFault matrix (v2 publish through the fault proxy)")
    print(f"{'case'.ljust(width)} | outcome | lost")
    for case, outcome in MATRIX.items():
        print(f"{case.ljust(width)} | {outcome} | {LOST.get(case, '?')}")
    survived = sum(1 for o in MATRIX.values() if o.startswith("published"))
    print(f"cases tried: {len(MATRIX)}, faults survived: {survived}, objects lost: {sum(LOST.values())}")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def site_state(s3: Any) -> dict[str, str]:
    return {k: v["ETag"].strip('"') for k, v in bucket_objects(s3).items() if not k.startswith(META)}


@pytest.mark.parametrize("case", list(CASES))
def test_v2_publish_under_fault(case: str, tmp_path: Path, accounts: Accounts, docs_bucket: Any) -> None:
    fault, match, selector = CASES[case]
    base: dict[str, Any] = {"bucket": BUCKET, "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID}
    publish(write_site(tmp_path / "v1", V1), Settings(**base, endpoint_url=accounts.url))
    assert site_state(docs_bucket) == {k: md5(v) for k, v in V1.items()}

    v2 = write_site(tmp_path / "v2", V2)
    proxy = FaultProxy(accounts.url).start()
    try:
        rule = proxy.add_fault(fault, match, **selector)
        error: PublishError | None = None
        try:
            publish(v2, Settings(**base, endpoint_url=proxy.url, max_delete_share=1))
        except PublishError as exc:
            error = exc
        injected = rule.injected
    finally:
        proxy.resume()
        proxy.close()
    assert injected >= 1, f"{case}: the fault never fired ({rule!r})"

    state = site_state(docs_bucket)
    lost = 0
    for rel, data in V1.items():
        if rel == REMOVED and error is None:
            continue  # v2 removed it and the publish completed
        if rel not in state:
            lost += 1
            continue
        body = docs_bucket.get_object(Bucket=BUCKET, Key=rel)["Body"].read()
        # Either still v1, or already the v2 content of a changed page.
        if body not in (data, V2.get(rel)):
            lost += 1
    LOST[case] = lost

    if error is None:
        MATRIX[case] = f"published (fault fired {injected}x)"
        assert state == {k: md5(v) for k, v in V2.items()}, f"{case}: bucket does not match v2"
    else:
        text = str(error)
        first_line = text.splitlines()[0][:110]
        MATRIX[case] = f"PublishError (fault fired {injected}x): {first_line}"
        assert text.strip(), f"{case}: empty error message"
        assert "Traceback" not in text and 'File "' not in text, f"{case}: traceback in message: {text}"
        if REMOVED not in state:
            # Deleting is only allowed once every upload went through.
            assert all(state.get(k) == md5(v) for k, v in V2.items()), (
                f"{case}: {REMOVED} was deleted although uploads failed: {state}"
            )
    assert lost == 0, f"{case}: {lost} previously published object(s) lost or unreadable"

    lock_key = META + "lock.json"
    if not isinstance(fault, StopServer):
        # The server stayed reachable, so the publish released its lock.
        assert lock_key not in bucket_objects(docs_bucket), f"{case}: lock left behind"
    if error is not None:
        # A clean rerun finishes the job (after a dead server, remove the stale lock as the
        # lock error's Fix says).
        docs_bucket.delete_object(Bucket=BUCKET, Key=lock_key)
        publish(v2, Settings(**base, endpoint_url=accounts.url, max_delete_share=1))
        assert site_state(docs_bucket) == {k: md5(v) for k, v in V2.items()}, f"{case}: rerun did not converge"
