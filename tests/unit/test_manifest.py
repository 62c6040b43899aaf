"""Manifest parse/serialise and deploy info (pure)."""

from __future__ import annotations

import json

import pytest

from mkdocs_s3_crossaccount.core.manifest import (
    Entry,
    Manifest,
    ManifestError,
    Publisher,
    deploy_info,
    parse,
    serialise,
)

MD5 = "0" * 32


def test_round_trip_keeps_every_field() -> None:
    m = Manifest(
        objects={
            "index.html": Entry(MD5, "abc", 10, "sha256:1", "gzip"),
            "old.css": Entry(None, None, 3, None, "identity", removed_at_deploy=4),
            "r/index.html": Entry(MD5, "d41d8cd98f00b204e9800998ecf8427e", 0, "sha256:2", "empty"),
        },
        deploy={"number": 5, "time": "2026-11-28T20:15:00Z"},
        pending_invalidation=("/b", "/a", "/a"),
    )
    back = parse(serialise(m))
    assert back.objects == m.objects
    assert back.number == 5
    assert back.pending_invalidation == ("/a", "/b")


def test_serialised_form_is_sorted_and_documented_shape() -> None:
    doc = json.loads(serialise(Manifest(objects={"b": Entry(MD5, "e", 1, "h"), "a": Entry(MD5, "e", 1, "h")})))
    assert doc["format"] == 1
    assert doc["generator"] == "mkdocs-s3-crossaccount"
    assert list(doc["objects"]) == ["a", "b"]
    assert "pending_invalidation" not in doc
    assert "removed_at_deploy" not in doc["objects"]["a"]


def good(**objects: object) -> bytes:
    return json.dumps({"format": 1, "generator": "mkdocs-s3-crossaccount", "deploy": {}, "objects": objects}).encode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"format": 1, "objects": {}}', "not written by"),
        (json.dumps({"format": 2, "generator": "mkdocs-s3-crossaccount", "objects": {}}).encode(), "newer version"),
        (json.dumps({"format": "x", "generator": "mkdocs-s3-crossaccount", "objects": {}}).encode(), "unknown format"),
        (json.dumps({"format": 1, "generator": "mkdocs-s3-crossaccount"}).encode(), "'objects'"),
        (good(a=[]), "not an object"),
        (good(a={"md5": "xyz", "size": 1}), "not a hex MD5"),
        (good(a={"md5": MD5, "size": -1}), "size"),
        (good(a={"md5": MD5, "size": True}), "size"),
        (good(a={"md5": MD5, "size": 1, "body": "brotli"}), "unknown body"),
        (good(a={"md5": MD5, "size": 1, "removed_at_deploy": "3"}), "removed_at_deploy"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_corrupt_manifests_are_refused_with_a_reason(data: bytes, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        parse(data)


def test_etag_is_normalised() -> None:
    m = parse(good(a={"md5": MD5, "size": 1, "etag": '"ABC"', "headers": "h"}))
    assert m.objects["a"].etag == "abc"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {
                "CI_COMMIT_SHA": "c0ffee",
                "CI_PIPELINE_ID": "42",
                "CI_PIPELINE_URL": "https://gitlab.example/p/-/pipelines/42",
            },
            {"commit_sha": "c0ffee", "pipeline_id": "42", "pipeline_url": "https://gitlab.example/p/-/pipelines/42"},
        ),
        (
            {"GITHUB_SHA": "beef", "GITHUB_RUN_ID": "7", "GITHUB_REPOSITORY": "o/r"},
            {"commit_sha": "beef", "pipeline_id": "7", "pipeline_url": "https://github.com/o/r/actions/runs/7"},
        ),
        ({}, {}),
    ],
)
def test_deploy_info_from_ci(env: dict[str, str], expected: dict[str, str]) -> None:
    info = deploy_info(3, "2026-01-01T00:00:00Z", Publisher("0.1.0", "1.6.1", "arn:r", "arn:i"), env)
    assert {k: info[k] for k in ("commit_sha", "pipeline_id", "pipeline_url") if k in info} == expected
    assert info["number"] == 3 and info["mkdocs_version"] == "1.6.1" and info["role_arn"] == "arn:r"
