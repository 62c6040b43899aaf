"""Rules for the options added with the CLI issue: OIDC, reports, site URL."""

from __future__ import annotations

from typing import Any

import pytest

from mkdocs_s3_crossaccount import PublishError, Settings, SettingsError
from mkdocs_s3_crossaccount.config.reader import validate
from mkdocs_s3_crossaccount.core.report import site_url

ROLE = "arn:aws:iam::222222222222:role/docs-publisher"
DEV_ROLE = "arn:aws:iam::123456789012:role/gitlab-docs-ci"


def make(**kw: Any) -> Settings:
    return Settings(bucket="example-docs", **kw)


def test_oidc_straight_into_the_role() -> None:
    s = make(role_arn=ROLE, web_identity_token_env="GITLAB_OIDC_TOKEN")
    assert s.uses_web_identity


@pytest.mark.parametrize(
    ("kw", "option", "words"),
    [
        (
            {"web_identity_token_env": "T", "web_identity_token_file": "/t", "role_arn": ROLE},
            "web_identity_token_env",
            "both",
        ),
        ({"web_identity_token_env": "T"}, "web_identity_token_env", "needs role_arn"),
        ({"web_identity_role_arn": DEV_ROLE, "role_arn": ROLE}, "web_identity_role_arn", "no token"),
        ({"web_identity_token_env": "T", "role_arn": ROLE, "external_id": "xid-123"}, "external_id", "no use"),
        ({"web_identity_token_env": "T", "role_arn": ROLE, "profile": "dev"}, "web_identity_token_env", "profile"),
        ({"web_identity_token_env": "1BAD", "role_arn": ROLE}, "web_identity_token_env", "environment variable"),
        (
            {"web_identity_token_file": "/t", "role_arn": ROLE, "web_identity_role_arn": "arn:aws:iam::1:role/x"},
            "web_identity_role_arn",
            "12 digits",
        ),
        ({"dotenv_file": "deploy.env"}, "dotenv_file", "site_url_template"),
        ({"site_url_template": "d123.cloudfront.net/{prefix}"}, "site_url_template", "http(s) URL"),
        ({"site_url_template": "https://x/{branch}/"}, "site_url_template", "{branch}"),
        ({"site_url_template": "https://x/{prefix/"}, "site_url_template", "literal braces"),
    ],
)
def test_rules(kw: dict[str, Any], option: str, words: str) -> None:
    with pytest.raises(SettingsError) as info:
        make(**kw)
    assert info.value.option == option
    assert words in info.value.rule


def test_chain_with_external_id_is_fine() -> None:
    make(role_arn=ROLE, web_identity_token_file="/t", web_identity_role_arn=DEV_ROLE, external_id="xid-123")


def test_a_pasted_token_is_never_echoed() -> None:
    token = "eyJhbGciOiJSUzI1NiJ9.secret-claims.sig"
    with pytest.raises(SettingsError) as info:
        make(role_arn=ROLE, web_identity_token_env=token)
    assert token not in str(info.value)
    assert "variable's name" in str(info.value)


def test_cross_option_rules_stop_the_config_at_load() -> None:
    """The plugin's Config class runs the cross-option rules too (mkdocs build fails at config load)."""
    with pytest.raises(PublishError) as info:
        validate({"bucket": "example-docs", "web_identity_token_env": "GITLAB_OIDC_TOKEN"}, "mkdocs.yml")
    assert "Option 'web_identity_token_env': needs role_arn" in str(info.value)


@pytest.mark.parametrize(
    ("template", "prefix", "url"),
    [
        ("https://d123.cloudfront.net/{prefix}/", "mr-7", "https://d123.cloudfront.net/mr-7/"),
        ("https://d123.cloudfront.net/{prefix}/", "", "https://d123.cloudfront.net/"),
        (
            "http://{bucket}.s3-website-{region}.amazonaws.com/{prefix}/",
            "docs/v2",
            "http://example-docs.s3-website-eu-west-1.amazonaws.com/docs/v2/",
        ),
    ],
)
def test_site_url(template: str, prefix: str, url: str) -> None:
    assert site_url(template, "example-docs", prefix, "eu-west-1") == url
