"""The transfer option and the CRT path's pure parts: choice, URL paths, error translation."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from mkdocs_s3_crossaccount import Settings, SettingsError
from mkdocs_s3_crossaccount.aws import crt_transfer
from mkdocs_s3_crossaccount.aws.crt_transfer import Endpoint, _as_botocore, _incompatible, _Outcome
from mkdocs_s3_crossaccount.core.inventory import LocalFile
from mkdocs_s3_crossaccount.core.plan import Reason, Upload


def outcome(status: int | None, body: bytes | None = None, error: BaseException | None = None) -> _Outcome:
    up = Upload(LocalFile("a.html", "a.html", "/dev/null", 0, "", "", "text/html"), Reason.NEW)
    out = _Outcome(up)
    out.status, out.error_body, out.error = status, body, error
    return out


def test_transfer_defaults_to_auto_and_rejects_other_values() -> None:
    assert Settings(bucket="docs-bucket").transfer == "auto"
    with pytest.raises(SettingsError) as info:
        Settings(bucket="docs-bucket", transfer="fast")
    assert info.value.option == "transfer"
    assert "auto, crt, botocore" in str(info.value)


def test_the_environment_overrides_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(crt_transfer.TRANSFER_ENV, "botocore")
    assert crt_transfer.choose("auto") == "botocore"
    monkeypatch.setattr(crt_transfer, "available", lambda: True)
    monkeypatch.setenv(crt_transfer.TRANSFER_ENV, "crt")
    assert crt_transfer.choose("auto") == "crt"
    assert crt_transfer.choose("botocore") == "crt"  # the override (tests, diagnosis) wins over the default
    monkeypatch.delenv(crt_transfer.TRANSFER_ENV)
    assert crt_transfer.choose("botocore") == "botocore"
    assert crt_transfer.choose("crt") == "crt"


@pytest.mark.parametrize(
    ("base", "key", "path"),
    [
        ("/bucket/", "docs/index.html", "/bucket/docs/index.html"),
        ("/", "caf\u00e9/cr\u00e8me br\u00fbl\u00e9e+1.html", "/caf%C3%A9/cr%C3%A8me%20br%C3%BBl%C3%A9e%2B1.html"),
        ("/b/", "a~b/c?d#e", "/b/a~b/c%3Fd%23e"),
    ],
)
def test_object_paths_are_encoded_as_botocore_does(base: str, key: str, path: str) -> None:
    assert Endpoint("http", "127.0.0.1:9000", base).path(key) == path


def test_s3_error_bodies_become_client_errors_with_code_and_status() -> None:
    body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    exc = _as_botocore(outcome(403, body), Endpoint("https", "s3.amazonaws.com", "/b/"))
    assert isinstance(exc, ClientError)
    assert exc.response["Error"]["Code"] == "AccessDenied"
    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert not _incompatible(outcome(403, body))


def test_no_answer_is_a_network_error_and_a_reason_to_try_botocore() -> None:
    exc = _as_botocore(outcome(None, error=OSError("refused")), Endpoint("http", "127.0.0.1:1", "/b/"))
    assert isinstance(exc, EndpointConnectionError)
    assert "127.0.0.1:1" in str(exc)
    assert _incompatible(outcome(None, error=OSError("refused")))


def test_signature_mismatch_is_incompatible_but_throttling_is_not() -> None:
    sig = b"<Error><Code>SignatureDoesNotMatch</Code><Message>x</Message></Error>"
    slow = b"<Error><Code>SlowDown</Code><Message>x</Message></Error>"
    assert _incompatible(outcome(403, sig))
    assert not _incompatible(outcome(503, slow))
