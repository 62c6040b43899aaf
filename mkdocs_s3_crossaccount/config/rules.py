"""The rules options must pass: pure functions ``(option, value) -> normalized value``.

Each raises ``SettingsError(option, rule)`` naming the option and what a good value looks
like; the schema (``config/schema.py``) runs each once per value. Nothing here does I/O
or imports MkDocs.
"""

from __future__ import annotations

import ipaddress
import os
import re
import string
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mkdocs_s3_crossaccount.core.errors import SettingsError
from mkdocs_s3_crossaccount.core.globs import GlobError, compile_glob

Rule = Callable[[str, Any], Any]
"""A rule: ``(option name, value) -> the value to keep``; raises SettingsError."""

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_ROLE_ARN = re.compile(
    r"^arn:(?P<partition>" + "|".join(PARTITIONS) + ")"
    r":iam::(?P<account>\d{12}):role/(?P<path>(?:[\x21-\x7e]+/)*)(?P<name>[\w+=,.@-]{1,64})$",
    re.ASCII,
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{8,20}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/+=,.@-]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

DURATION_MIN = 900
DURATION_MAX = 43200
EXTERNAL_ID_MIN = 2
EXTERNAL_ID_MAX = 1224
CONCURRENCY_MAX = 64
INVALIDATION_MAX_PATHS_MAX = 15000
URL_PLACEHOLDERS = ("bucket", "prefix", "region")
COMMANDS = ("build", "gh-deploy", "serve")


def role_account(arn: str) -> str | None:
    """The 12-digit account id of a role ARN, or None when it is not one."""
    m = _ROLE_ARN.match(arn)
    return m.group("account") if m else None


def check_role_arn(option: str, value: str) -> str:
    """An IAM role ARN; the message says what it is instead (user ARN, session ARN, ...)."""
    if _ROLE_ARN.match(value):
        return value
    hint = ""
    if value.startswith("arn:") and ":user/" in value:
        hint = " That is a user ARN; give the ARN of the role in the documents account."
    elif value.startswith("arn:") and ":sts::" in value:
        hint = " That is an assumed-role session ARN; give the IAM role ARN (arn:...:iam::...:role/...)."
    elif value.startswith("arn:") and value.split(":")[1] not in PARTITIONS:
        hint = f" The partition {value.split(':')[1]!r} is unknown: use aws, aws-cn, aws-us-gov (or another AWS one)."
    elif re.match(r"^arn:[^:]+:iam::\d+:", value) and not re.match(r"^arn:[^:]+:iam::\d{12}:", value):
        hint = " The account id must be exactly 12 digits."
    raise SettingsError(
        option,
        f"{value!r} is not an IAM role ARN. Expected arn:aws:iam::<12-digit account>:role/<name>, "
        f"e.g. arn:aws:iam::222222222222:role/docs-publisher.{hint}",
    )


def check_bucket(option: str, value: str) -> str:
    """An S3 bucket name (bare: no s3://, no path)."""
    if value.startswith("s3://"):
        raise SettingsError(option, f"{value!r}: give the bare bucket name without s3:// (put a path in 'prefix').")
    if "/" in value:
        raise SettingsError(option, f"{value!r} contains '/': give the bare bucket name and put the path in 'prefix'.")
    problems = []
    if not 3 <= len(value) <= 63:
        problems.append("3 to 63 characters")
    if not _BUCKET.match(value):
        problems.append("only lowercase letters, digits, '.' and '-', starting and ending with a letter or digit")
    if ".." in value:
        problems.append("no two adjacent periods")
    try:
        ipaddress.IPv4Address(value)
        problems.append("not formatted as an IP address")
    except ValueError:
        pass
    if value.startswith("xn--") or value.startswith("sthree-") or value.endswith("-s3alias"):
        problems.append("no reserved prefix (xn--, sthree-) or suffix (-s3alias)")
    if problems:
        raise SettingsError(option, f"{value!r} is not a valid S3 bucket name: it needs " + "; ".join(problems) + ".")
    return value


def check_prefix(option: str, value: str) -> str:
    """A folder in the bucket, returned without surrounding slashes; '' means the bucket root."""
    if value.startswith("/"):
        raise SettingsError(
            option, f"{value!r} starts with '/': S3 keys have no leading slash; write {value.strip('/')!r}."
        )
    if "\\" in value:
        raise SettingsError(option, f"{value!r} contains a backslash: use '/' between folders.")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value):
        raise SettingsError(
            option,
            f"{value!r} contains a line break or another control character: S3 keys made from it would be "
            "unreadable in listings and URLs; write a plain path like 'docs/v2'.",
        )
    stripped = value.strip("/")
    parts = stripped.split("/") if stripped else []
    if any(p in ("", ".", "..") for p in parts):
        raise SettingsError(
            option, f"{value!r} has an empty, '.' or '..' path segment: write a plain path like 'docs/v2'."
        )
    if len(stripped.encode()) > 900:
        raise SettingsError(option, "is longer than 900 bytes; S3 keys are limited to 1024 bytes.")
    return stripped


def normalize_prefix(value: str) -> str:
    """``check_prefix`` for the ``prefix`` option: the prefix without surrounding slashes."""
    return check_prefix("prefix", value)


def check_session_name(option: str, value: str) -> str:
    """An STS role session name."""
    if not _SESSION_NAME.match(value):
        raise SettingsError(
            option,
            f"{value!r} is not a valid STS session name: 2 to 64 characters from letters, digits "
            "and + = , . @ - _ (no spaces or slashes).",
        )
    return value


def check_external_id(option: str, value: str) -> str:
    """An STS ExternalId; the value is never echoed (it is a shared secret)."""
    if not EXTERNAL_ID_MIN <= len(value) <= EXTERNAL_ID_MAX or not re.fullmatch(r"[\w+=,.@:/-]+", value, re.ASCII):
        raise SettingsError(
            option,
            f"must be {EXTERNAL_ID_MIN} to {EXTERNAL_ID_MAX} characters from letters, digits and "
            "+ = , . @ : / - _ (the value is not shown because it is a shared secret).",
        )
    return value


def check_duration(option: str, value: int) -> int:
    """A role session length STS accepts."""
    if not DURATION_MIN <= value <= DURATION_MAX:
        raise SettingsError(
            option,
            f"{value} is outside STS's range {DURATION_MIN}–{DURATION_MAX} seconds (15 minutes to 12 hours; "
            "the role's MaxSessionDuration must also allow it).",
        )
    return value


def check_account(option: str, value: str) -> str:
    """A 12-digit AWS account id."""
    if not _ACCOUNT.match(value):
        raise SettingsError(option, f"{value!r} is not a 12-digit AWS account id.")
    return value


def check_region(option: str, value: str) -> str:
    """An AWS region name."""
    if not _REGION.match(value):
        raise SettingsError(option, f"{value!r} is not an AWS region name like eu-west-1 or us-east-1.")
    return value


def check_non_negative(option: str, value: float) -> float:
    """0 or more."""
    if value < 0:
        raise SettingsError(option, f"{value} is negative; use 0 or more.")
    return value


def check_positive_seconds(option: str, value: float) -> float:
    """A positive number of seconds."""
    if value <= 0:
        raise SettingsError(option, f"{value} is not a positive number of seconds; the default, 600, suits production.")
    return value


def check_share(option: str, value: float) -> float:
    """A share between 0 and 1."""
    if not 0 <= value <= 1:
        raise SettingsError(option, f"{value} must be a share between 0 and 1 (e.g. 0.5 for half).")
    return value


CHECKSUM_MODES = ("auto", "when_required", "when_supported")


def check_checksums(option: str, value: str) -> str:
    """One of the checksum modes."""
    if value not in CHECKSUM_MODES:
        raise SettingsError(
            option,
            f"{value!r} is not one of {', '.join(CHECKSUM_MODES)} (auto: boto3's default against AWS, "
            "when_required against any other endpoint_url).",
        )
    return value


TRANSFERS = ("auto", "crt", "botocore")


def check_transfer(option: str, value: str) -> str:
    """One of the upload paths: auto, crt, botocore."""
    if value not in TRANSFERS:
        raise SettingsError(option, f"{value!r} is not one of {', '.join(TRANSFERS)}.")
    return value


def check_concurrency(option: str, value: int) -> int:
    """1 to CONCURRENCY_MAX parallel transfers."""
    if not 1 <= value <= CONCURRENCY_MAX:
        raise SettingsError(option, f"{value} must be between 1 and {CONCURRENCY_MAX}.")
    return value


def check_glob(option: str, pattern: str) -> str:
    """A glob our matcher understands."""
    try:
        compile_glob(pattern)
    except GlobError as exc:
        raise SettingsError(option, str(exc) + ".") from exc
    return pattern


def check_content_type(option: str, value: str) -> str:
    """A media type, optionally with parameters."""
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+\"-]+)*", value):
        raise SettingsError(option, f"{value!r} is not a media type like 'text/html; charset=utf-8'.")
    return value


def check_cache_control(option: str, value: str) -> str:
    """A Cache-Control header value (no line breaks: they would inject headers)."""
    if not re.fullmatch(r"[\x20-\x7e]*", value):
        raise SettingsError(
            option, f"{value!r} is not a usable Cache-Control value: printable ASCII only, no line breaks."
        )
    return value


def glob_map(check_value: Rule) -> Rule:
    """A rule for ``glob -> value`` maps: each glob checked, each value by ``check_value``; order kept."""

    def check(option: str, value: Mapping[str, str]) -> dict[str, str]:
        return {check_glob(option, pattern): check_value(option, item) for pattern, item in value.items()}

    check.__doc__ = f"glob -> value map; each value: {(check_value.__doc__ or '').strip()}"
    return check


def check_globs(option: str, value: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """A list of globs, each checked; kept as a tuple."""
    return tuple(check_glob(option, pattern) for pattern in value)


def check_distribution_id(option: str, value: str) -> str:
    """A CloudFront distribution id."""
    if not _DISTRIBUTION_ID.match(value):
        raise SettingsError(
            option,
            f"{value!r} is not a CloudFront distribution id: upper-case letters and digits, e.g. E2ABCDEF123456 "
            "(the id, not the domain name or the ARN).",
        )
    return value


def check_kms_key_arn(option: str, value: str) -> str:
    """A KMS key (or alias) ARN."""
    if not _KMS_KEY_ARN.match(value):
        raise SettingsError(
            option,
            f"{value!r} is not a KMS key ARN like arn:aws:kms:eu-west-1:222222222222:key/<key id>.",
        )
    return value


def check_invalidation_max_paths(option: str, value: int) -> int:
    """1 to INVALIDATION_MAX_PATHS_MAX paths."""
    if not 1 <= value <= INVALIDATION_MAX_PATHS_MAX:
        raise SettingsError(
            option,
            f"{value} must be between 1 and {INVALIDATION_MAX_PATHS_MAX}; above it one wildcard is sent instead.",
        )
    return value


def check_gzip(option: str, value: object) -> bool | tuple[str, ...]:
    """true, false, or a list of globs (kept as a tuple)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return check_globs(option, value)
    raise SettingsError(option, "must be true, false, or a list of globs such as ['*.html', '*.css'].")


def check_env_name(option: str, value: str) -> str:
    """An environment variable's name (never echo the value: it may be a pasted token)."""
    if _ENV_NAME.match(value):
        return value
    hint = ""
    if value.startswith("eyJ") or len(value) > 100:
        hint = " It looks like a token itself: give the variable's name (e.g. GITLAB_OIDC_TOKEN), not its value."
    raise SettingsError(
        option,
        "is not an environment variable name (letters, digits and _, not starting with a digit); the value "
        f"is not shown in case it is a token.{hint}",
    )


def check_url_template(option: str, value: str) -> str:
    """A public URL with only {bucket}, {prefix} and {region} placeholders."""
    if not re.match(r"^https?://[^/\s]+", value):
        raise SettingsError(
            option,
            f"{value!r} is not an http(s) URL, e.g. https://d123.cloudfront.net/{{prefix}}/ or "
            "http://{bucket}.s3-website-{region}.amazonaws.com/{prefix}/.",
        )
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise SettingsError(option, f"{value!r}: {exc} (write literal braces as {{{{ and }}}}).") from exc
    unknown = sorted({f for f in fields if f not in URL_PLACEHOLDERS})
    if unknown:
        raise SettingsError(
            option,
            f"{value!r} uses unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)}; "
            "the placeholders are {bucket}, {prefix} and {region}.",
        )
    return value


def check_endpoint_url(option: str, value: str) -> str:
    """An http(s) URL with a host."""
    if value == "":
        return value
    try:
        parsed = urlsplit(value)
    except (AttributeError, TypeError, ValueError):
        raise SettingsError(option, "Unable to parse the URL.") from None
    if parsed.scheme and parsed.netloc:
        if parsed.scheme.lower() not in ("http", "https"):
            raise SettingsError(
                option,
                f"{value!r} is not an http(s) URL: S3 is reached over HTTP, e.g. https://s3.eu-west-1.amazonaws.com "
                "or http://127.0.0.1:9000 (leave endpoint_url unset for AWS itself).",
            )
        return urlunsplit(parsed)
    raise SettingsError(option, "The URL isn't valid, it should include the http:// (scheme)")


def check_commands(option: str, value: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """MkDocs commands, each one of COMMANDS."""
    for item in value:
        if item not in COMMANDS:
            raise SettingsError(option, f"Expected one of: {COMMANDS} but received: {item!r}")
    return tuple(value)


_SANITIZE = re.compile(r"[^\w+=,.@-]+", re.ASCII)


def default_session_name(environ: Mapping[str, str] | None = None) -> str:
    """A session name that says who published: GitLab project and job, else user@host.

    Sanitised to STS's rules, so any CI variable content is acceptable.
    """
    env = os.environ if environ is None else environ
    if env.get("CI_JOB_ID"):
        project = env.get("CI_PROJECT_PATH_SLUG") or env.get("CI_PROJECT_NAME") or env.get("CI_PROJECT_ID") or "gitlab"
        raw = f"mkdocs-{project}-job-{env['CI_JOB_ID']}"
    elif env.get("GITHUB_RUN_ID"):
        raw = f"mkdocs-{env.get('GITHUB_REPOSITORY', 'github').replace('/', '-')}-run-{env['GITHUB_RUN_ID']}"
    else:
        user = env.get("USER") or env.get("USERNAME") or "local"
        raw = f"mkdocs-{user}"
    name = re.sub("-{2,}", "-", _SANITIZE.sub("-", raw)).strip("-")
    if len(name) > 64:
        # keep the distinguishing tail (the job id) rather than the head
        name = "mkdocs-" + name[-(64 - len("mkdocs-")) :].lstrip("-")
    if len(name) < 2:
        name = "mkdocs-publish"
    return name


# --- versions (issue 12) ---------------------------------------------------------------

ALIAS_TYPES = ("copy", "redirect")


def check_version_name(option: str, value: str) -> str:
    """A version or alias name (a folder under the prefix), by mike's rule."""
    from mkdocs_s3_crossaccount.core.versions import VersionsError, check_name

    try:
        check_name(value, "alias" if option == "aliases" else "version")
    except VersionsError as exc:
        raise SettingsError(option, str(exc)) from None
    return value


def check_aliases(option: str, value: Any) -> tuple[str, ...]:
    """A list of alias names; a string (what `!ENV DOCS_ALIASES` gives) is split at commas and spaces."""
    names = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    return tuple(check_version_name(option, str(name)) for name in names)


def check_alias_type(option: str, value: str) -> str:
    """copy or redirect."""
    if value not in ALIAS_TYPES:
        raise SettingsError(
            option,
            f"{value!r} is not an alias type: copy (server-side copies of the version, the default) or "
            "redirect (small pages that send readers to the version, keeping the path and anchor).",
        )
    return value


def check_positive(option: str, value: int) -> int:
    """1 or more."""
    if value < 1:
        raise SettingsError(option, f"{value} must be 1 or more.")
    return value
