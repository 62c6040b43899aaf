"""The issue-4 options: defaults, validation at config load, and the Settings they make."""

from __future__ import annotations

from typing import Any

import pytest

from mkdocs_s3_crossaccount.hosts.options import PluginOptions

ROLE = "arn:aws:iam::222222222222:role/docs-publisher"


def load(**block: Any) -> tuple[PluginOptions, list[str]]:
    opts = PluginOptions()
    opts.load_dict({"bucket": "example-docs", "role_arn": ROLE, **block})
    errors, _ = opts.validate()
    return opts, [f"{k}: {e}" for k, e in errors]


def test_defaults() -> None:
    opts, errors = load()
    assert errors == []
    s = opts.to_settings()
    assert (s.delete_unmanaged, tuple(s.keep), dict(s.cache_control), s.force) == (False, (), {}, False)
    assert (s.gzip, s.redirects, s.retain_deploys) == (False, False, 0)
    assert (s.cloudfront_distribution_id, s.invalidation_max_paths, s.invalidation_wait) == (None, 100, False)
    assert (s.invalidation_timeout, s.scope_session, s.kms_key_arn) == (600, False, None)


def test_values_reach_settings() -> None:
    opts, errors = load(
        delete_unmanaged=True,
        keep=["robots.txt", "downloads/**"],
        cache_control={"*.html": "max-age=60", "**": ""},
        force=True,
        gzip=["*.html"],
        redirects=True,
        retain_deploys=3,
        cloudfront_distribution_id="E2ABCDEF123456",
        invalidation_max_paths=500,
        invalidation_wait=True,
        invalidation_timeout=120,
        scope_session=True,
        kms_key_arn="arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    )
    assert errors == []
    s = opts.to_settings()
    assert s.keep == ("robots.txt", "downloads/**")
    assert list(s.cache_control) == ["*.html", "**"]  # order kept: first match wins
    assert s.gzip == ("*.html",)
    assert s.session_policy() is not None and "E2ABCDEF123456" in (s.session_policy() or "")


@pytest.mark.parametrize(
    ("block", "needle"),
    [
        ({"keep": ["[abc"]}, "unclosed"),
        ({"cache_control": {"*.html": "no-cache\r\nX-Evil: 1"}}, "printable ASCII"),
        ({"cache_control": {"!x": "no-cache"}}, "negation"),
        ({"gzip": "yes"}, "gzip"),
        ({"gzip": ["[x"]}, "unclosed"),
        ({"retain_deploys": -1}, "negative"),
        ({"cloudfront_distribution_id": "d111111abcdef8.cloudfront.net"}, "not a CloudFront distribution id"),
        ({"invalidation_max_paths": 0}, "between 1 and"),
        ({"kms_key_arn": "alias/docs"}, "not a KMS key ARN"),
        ({"invalidation_timeout": -5}, "negative"),
    ],
)
def test_bad_values_fail_at_config_load(block: dict[str, Any], needle: str) -> None:
    _, errors = load(**block)
    assert errors, block
    assert needle in " ".join(errors)


@pytest.mark.parametrize(
    ("block", "option", "needle"),
    [
        ({"role_arn": None, "scope_session": True}, "scope_session", "needs role_arn"),
        ({"scope_session": True, "prefix": "p" * 900}, "scope_session", "2048"),
    ],
)
def test_rules_across_options_fail_at_config_load(block: dict[str, Any], option: str, needle: str) -> None:
    opts = PluginOptions()
    opts.load_dict({"bucket": "example-docs", "role_arn": ROLE, **block})
    errors, _ = opts.validate()
    assert [k for k, _ in errors] == [option]
    assert needle in str(errors[0][1])
