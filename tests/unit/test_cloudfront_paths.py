"""Invalidation paths, batching and status (pure)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from mkdocs_s3_crossaccount.aws.cloudfront import (
    batches,
    is_completed,
    paths_for,
    plan_invalidation,
    poll_until_completed,
    with_backoff,
)


@pytest.mark.parametrize(
    ("prefix", "rels", "expected"),
    [
        ("docs", ["index.html"], ["/docs/", "/docs/index.html"]),
        ("", ["index.html"], ["/", "/index.html"]),
        ("docs", ["guide/index.html"], ["/docs/guide/", "/docs/guide/index.html"]),
        ("docs", ["assets/app.css"], ["/docs/assets/app.css"]),
        ("docs", ["odd names/a b+c#d?e.html"], ["/docs/odd%20names/a%20b+c%23d%3Fe.html"]),
        ("docs", ["café/crème.html"], ["/docs/caf%C3%A9/cr%C3%A8me.html"]),
        ("docs", ["star*.html", "100%.html"], ["/docs/100%25.html", "/docs/star%2A.html"]),
        ("v 2", ["a.html"], ["/v%202/a.html"]),
        ("docs", ["a.html", "a.html"], ["/docs/a.html"]),
        ("docs", [], []),
    ],
)
def test_paths_for(prefix: str, rels: list[str], expected: list[str]) -> None:
    assert paths_for(prefix, rels) == expected


@pytest.mark.parametrize(
    ("prefix", "n", "max_paths", "expected"),
    [
        ("docs", 3, 100, None),  # exact paths
        ("docs", 101, 100, ["/docs/*"]),
        ("", 101, 100, ["/*"]),
        ("docs", 100, 100, None),
        ("docs", 0, 100, []),
    ],
)
def test_threshold_falls_back_to_a_wildcard(prefix: str, n: int, max_paths: int, expected: list[str] | None) -> None:
    rels = [f"p{i}.html" for i in range(n)]
    got = plan_invalidation(prefix, rels, max_paths)
    assert got == (expected if expected is not None else paths_for(prefix, rels))


def test_pending_paths_are_added() -> None:
    assert plan_invalidation("docs", ["a.html"], 100, pending=["/docs/old.html"]) == ["/docs/a.html", "/docs/old.html"]
    assert plan_invalidation("docs", [], 100, pending=["/docs/old.html"]) == ["/docs/old.html"]


def test_batches_respect_api_limits() -> None:
    paths = [f"/p{i}" for i in range(7001)]
    got = batches(paths)
    assert [len(b) for b in got] == [3000, 3000, 1001]
    assert [p for b in got for p in b] == paths
    wild = [f"/w{i}/*" for i in range(20)]
    assert [len(b) for b in batches(wild)] == [15, 5]


@pytest.mark.parametrize(
    ("status", "done"),
    [("Completed", True), ("COMPLETED", True), ("completed", True), ("InProgress", False), ("", False)],
)
def test_status(status: str, done: bool) -> None:
    assert is_completed(status) is done


def _error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}}, "CreateInvalidation")


def test_backoff_retries_only_too_many_invalidations() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _error("TooManyInvalidationsInProgress")
        return "ok"

    assert with_backoff(flaky, sleep=slept.append, first_delay=1.0) == "ok"
    assert slept == [1.0, 2.0]

    def denied() -> str:
        raise _error("AccessDenied")

    with pytest.raises(ClientError):
        with_backoff(denied, sleep=slept.append)
    assert slept == [1.0, 2.0]  # no waiting for errors that won't go away

    def always() -> str:
        raise _error("TooManyInvalidationsInProgress")

    slept.clear()
    with pytest.raises(ClientError):
        with_backoff(always, sleep=slept.append, attempts=4, first_delay=10, max_delay=15)
    assert slept == [10, 15, 15]


def test_poll_loop_finishes_when_all_complete_and_gives_up_at_the_timeout() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    script = {"a": ["InProgress", "InProgress", "Completed"], "b": ["COMPLETED"]}
    asked: list[str] = []

    def status(inv_id: str) -> str:
        asked.append(inv_id)
        return script[inv_id].pop(0)

    assert poll_until_completed(status, ["a", "b"], timeout=100, interval=10, sleep=sleep, clock=lambda: now[0])
    assert asked == ["a", "b", "a", "a"]  # a finished id is not asked again
    assert slept == [10, 10]

    now[0], slept[:] = 0.0, []
    never = poll_until_completed(
        lambda _: "InProgress", ["c"], timeout=25, interval=10, sleep=sleep, clock=lambda: now[0]
    )
    assert never is False
    assert slept == [10, 10, 5]  # the last wait stops at the deadline
