"""Issue 14: a missing AWS profile is named, with what named it and the files it was looked up in
(it was "AWS profile None was not found" when AWS_PROFILE named it, and an "Unexpected
InvalidConfigError" for a missing source_profile). Real botocore sessions on temporary files."""

from __future__ import annotations

from pathlib import Path

import botocore.session
import pytest

from mkdocs_s3_crossaccount import Settings
from mkdocs_s3_crossaccount.aws import profiles
from mkdocs_s3_crossaccount.aws.session import connect
from mkdocs_s3_crossaccount.core.errors import PublishError

CONFIG = """[profile dev]
region = eu-west-1
[profile chained]
role_arn = arn:aws:iam::123456789012:role/r
source_profile = gone
[profile self-sourced]
role_arn = arn:aws:iam::123456789012:role/r
source_profile = self-sourced
"""
CREDENTIALS = "[keys-only]\naws_access_key_id = fake-key-id-for-tests\naws_secret_access_key = not-a-real-secret-0123\n"


@pytest.fixture
def aws_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    config.write_text(CONFIG, encoding="utf-8")
    creds = tmp_path / "credentials"
    creds.write_text(CREDENTIALS, encoding="utf-8")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    return config


def check(profile: str | None) -> None:
    profiles.check(botocore.session.Session(profile=profile), profile)


def test_aws_profile_names_the_profile_the_variable_and_the_files(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    with pytest.raises(PublishError) as info:
        connect(Settings(bucket="example-docs", role_arn="arn:aws:iam::222222222222:role/docs-publisher"))
    text = str(info.value)
    assert "None" not in text
    assert "AWS profile 'nosuch' (named by the environment variable AWS_PROFILE) was not found" in text
    assert (
        f"{aws_files} (set by AWS_CONFIG_FILE)" in text and "credentials (set by AWS_SHARED_CREDENTIALS_FILE)" in text
    )
    assert "'dev'" in text and "'keys-only'" in text  # the names that are there (never a value)
    assert "not-a-real-secret" not in text and "fake-key-id-for-tests" not in text


def test_the_profile_option_is_named_as_the_source(aws_files: Path) -> None:
    with pytest.raises(PublishError, match=r"AWS profile 'typo' \(named by the profile option"):
        check("typo")


def test_a_missing_source_profile_names_the_profile_that_names_it(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(PublishError) as info:
        check("chained")
    assert "AWS profile 'gone' (named by source_profile of the profile 'chained') was not found" in str(info.value)
    monkeypatch.setenv("AWS_PROFILE", "chained")  # the same through the variable, and through connect()
    with pytest.raises(PublishError, match="source_profile of the profile 'chained'"):
        connect(Settings(bucket="example-docs", role_arn="arn:aws:iam::222222222222:role/docs-publisher"))


def test_existing_profiles_and_no_profile_pass(aws_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check("dev")
    check("keys-only")  # only in the credentials file
    check("self-sourced")  # a profile that sources itself is botocore's business, not a loop here
    check(None)
    monkeypatch.setenv("AWS_PROFILE", "dev")
    check(None)
