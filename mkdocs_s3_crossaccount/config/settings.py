"""Validated, typed settings for a publish, and the pure rules that validate them.

Nothing here does I/O or imports MkDocs: the plugin's config class and the CLI both
call these rules, so a rule and its message live in exactly one place.
"""

from __future__ import annotations

import ipaddress
import os
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from mkdocs_s3_crossaccount.core.errors import SettingsError
from mkdocs_s3_crossaccount.core.globs import GlobError, compile_glob
from mkdocs_s3_crossaccount.core.session_policy import session_policy
from mkdocs_s3_crossaccount.core.versions import VersionsError, check_name

# --- rules -------------------------------------------------------------------------

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

DURATION_MIN = 900
DURATION_MAX = 43200
EXTERNAL_ID_MIN = 2
EXTERNAL_ID_MAX = 1224
CONCURRENCY_MAX = 64


def check_role_arn(value: str) -> str:
    """Return the role ARN's account id, or raise SettingsError saying what a role ARN looks like."""
    m = _ROLE_ARN.match(value)
    if m:
        return m.group("account")
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
        "role_arn",
        f"{value!r} is not an IAM role ARN. Expected arn:aws:iam::<12-digit account>:role/<name>, "
        f"e.g. arn:aws:iam::222222222222:role/docs-publisher.{hint}",
    )


def check_bucket(value: str) -> None:
    if value.startswith("s3://"):
        raise SettingsError("bucket", f"{value!r}: give the bare bucket name without s3:// (put a path in 'prefix').")
    if "/" in value:
        raise SettingsError(
            "bucket", f"{value!r} contains '/': give the bare bucket name and put the path in 'prefix'."
        )
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
        raise SettingsError("bucket", f"{value!r} is not a valid S3 bucket name: it needs " + "; ".join(problems) + ".")


def normalize_prefix(value: str) -> str:
    """Return the prefix without surrounding slashes; '' means the bucket root."""
    if value.startswith("/"):
        raise SettingsError(
            "prefix", f"{value!r} starts with '/': S3 keys have no leading slash; write {value.strip('/')!r}."
        )
    if "\\" in value:
        raise SettingsError("prefix", f"{value!r} contains a backslash: use '/' between folders.")
    stripped = value.strip("/")
    parts = stripped.split("/") if stripped else []
    if any(p in ("", ".", "..") for p in parts):
        raise SettingsError(
            "prefix", f"{value!r} has an empty, '.' or '..' path segment: write a plain path like 'docs/v2'."
        )
    if len(stripped.encode()) > 900:
        raise SettingsError("prefix", "is longer than 900 bytes; S3 keys are limited to 1024 bytes.")
    return stripped


def check_session_name(value: str) -> None:
    if not _SESSION_NAME.match(value):
        raise SettingsError(
            "role_session_name",
            f"{value!r} is not a valid STS session name: 2 to 64 characters from letters, digits "
            "and + = , . @ - _ (no spaces or slashes).",
        )


def check_external_id(value: str) -> None:
    if not EXTERNAL_ID_MIN <= len(value) <= EXTERNAL_ID_MAX or not re.fullmatch(r"[\w+=,.@:/-]+", value, re.ASCII):
        raise SettingsError(
            "external_id",
            f"must be {EXTERNAL_ID_MIN} to {EXTERNAL_ID_MAX} characters from letters, digits and "
            "+ = , . @ : / - _ (the value is not shown because it is a shared secret).",
        )


def check_duration(value: int) -> None:
    if not DURATION_MIN <= value <= DURATION_MAX:
        raise SettingsError(
            "duration_seconds",
            f"{value} is outside STS's range {DURATION_MIN}–{DURATION_MAX} seconds (15 minutes to 12 hours; "
            "the role's MaxSessionDuration must also allow it).",
        )


def check_account(option: str, value: str) -> None:
    if not _ACCOUNT.match(value):
        raise SettingsError(option, f"{value!r} is not a 12-digit AWS account id.")


def check_region(value: str) -> None:
    if not _REGION.match(value):
        raise SettingsError("region", f"{value!r} is not an AWS region name like eu-west-1 or us-east-1.")


def check_non_negative(option: str, value: float) -> None:
    if value < 0:
        raise SettingsError(option, f"{value} is negative; use 0 or more.")


def check_share(option: str, value: float) -> None:
    if not 0 <= value <= 1:
        raise SettingsError(option, f"{value} must be a share between 0 and 1 (e.g. 0.5 for half).")


def check_concurrency(value: int) -> None:
    if not 1 <= value <= CONCURRENCY_MAX:
        raise SettingsError("concurrency", f"{value} must be between 1 and {CONCURRENCY_MAX}.")


def check_glob(option: str, pattern: str) -> None:
    try:
        compile_glob(pattern)
    except GlobError as exc:
        raise SettingsError(option, str(exc) + ".") from exc


def check_content_type(option: str, value: str) -> None:
    if not re.fullmatch(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+\"-]+)*", value):
        raise SettingsError(option, f"{value!r} is not a media type like 'text/html; charset=utf-8'.")


_DISTRIBUTION_ID = re.compile(r"^[A-Z0-9]{8,20}$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[\w/+=,.@-]+$")
INVALIDATION_MAX_PATHS_MAX = 15000


def check_cache_control(option: str, value: str) -> None:
    if not re.fullmatch(r"[\x20-\x7e]*", value):
        raise SettingsError(
            option, f"{value!r} is not a usable Cache-Control value: printable ASCII only, no line breaks."
        )


def check_distribution_id(value: str) -> None:
    if not _DISTRIBUTION_ID.match(value):
        raise SettingsError(
            "cloudfront_distribution_id",
            f"{value!r} is not a CloudFront distribution id: upper-case letters and digits, e.g. E2ABCDEF123456 "
            "(the id, not the domain name or the ARN).",
        )


def check_kms_key_arn(value: str) -> None:
    if not _KMS_KEY_ARN.match(value):
        raise SettingsError(
            "kms_key_arn",
            f"{value!r} is not a KMS key ARN like arn:aws:kms:eu-west-1:222222222222:key/<key id>.",
        )


def check_invalidation_max_paths(value: int) -> None:
    if not 1 <= value <= INVALIDATION_MAX_PATHS_MAX:
        raise SettingsError(
            "invalidation_max_paths",
            f"{value} must be between 1 and {INVALIDATION_MAX_PATHS_MAX}; above it one wildcard is sent instead.",
        )


def check_gzip(value: object) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        for pattern in value:
            check_glob("gzip", pattern)
        return
    raise SettingsError("gzip", "must be true, false, or a list of globs such as ['*.html', '*.css'].")


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
URL_PLACEHOLDERS = ("bucket", "prefix", "region")


def check_env_name(option: str, value: str) -> None:
    """An environment variable's name (never echo the value: it may be a pasted token)."""
    if _ENV_NAME.match(value):
        return
    hint = ""
    if value.startswith("eyJ") or len(value) > 100:
        hint = " It looks like a token itself: give the variable's name (e.g. GITLAB_OIDC_TOKEN), not its value."
    raise SettingsError(
        option,
        "is not an environment variable name (letters, digits and _, not starting with a digit); the value "
        f"is not shown in case it is a token.{hint}",
    )


def check_url_template(value: str) -> None:
    """A public URL with only {bucket}, {prefix} and {region} placeholders."""
    if not re.match(r"^https?://[^/\s]+", value):
        raise SettingsError(
            "site_url_template",
            f"{value!r} is not an http(s) URL, e.g. https://d123.cloudfront.net/{{prefix}}/ or "
            "http://{bucket}.s3-website-{region}.amazonaws.com/{prefix}/.",
        )
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise SettingsError("site_url_template", f"{value!r}: {exc} (write literal braces as {{{{ and }}}}).") from exc
    unknown = sorted({f for f in fields if f not in URL_PLACEHOLDERS})
    if unknown:
        raise SettingsError(
            "site_url_template",
            f"{value!r} uses unknown placeholder(s) {', '.join('{' + f + '}' for f in unknown)}; "
            "the placeholders are {bucket}, {prefix} and {region}.",
        )


def check_web_identity(
    token_env: str | None,
    token_file: str | None,
    web_identity_role_arn: str | None,
    role_arn: str | None,
    external_id: str | None,
    profile: str | None,
) -> None:
    """Rules that tie the OIDC options together."""
    if token_env and token_file:
        raise SettingsError(
            "web_identity_token_env",
            "and web_identity_token_file are both set; the token comes from one place: keep one of them.",
        )
    if not (token_env or token_file):
        if web_identity_role_arn:
            raise SettingsError(
                "web_identity_role_arn",
                "is set, but no token: set web_identity_token_env (e.g. GITLAB_OIDC_TOKEN from id_tokens) "
                "or web_identity_token_file.",
            )
        return
    option = "web_identity_token_env" if token_env else "web_identity_token_file"
    if not role_arn:
        raise SettingsError(
            option,
            "needs role_arn: the OIDC token is exchanged for a role's credentials (AssumeRoleWithWebIdentity).",
        )
    if profile:
        raise SettingsError(
            option,
            "and profile are two different sources of credentials; with an OIDC token leave profile unset.",
        )
    if external_id and not web_identity_role_arn:
        raise SettingsError(
            "external_id",
            "has no use with an OIDC token straight into role_arn (AssumeRoleWithWebIdentity takes no "
            "ExternalId; the trust policy's gitlab.com:sub condition does that job). Remove external_id, or "
            "set web_identity_role_arn to enter a development-account role first.",
        )


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


ALIAS_TYPES = ("copy", "redirect")


def check_version_name(option: str, value: str) -> None:
    """A version or alias name (a folder under the prefix), by mike's rule."""
    try:
        check_name(value, "alias" if option == "aliases" else "version")
    except VersionsError as exc:
        raise SettingsError(option, str(exc)) from None


def check_alias_type(value: str) -> None:
    if value not in ALIAS_TYPES:
        raise SettingsError(
            "alias_type",
            f"{value!r} is not an alias type: copy (server-side copies of the version, the default) or "
            "redirect (small pages that send readers to the version, keeping the path and anchor).",
        )


def check_versions(version: str | None, aliases: Sequence[str], title: str | None, default: str | None) -> None:
    """Rules that tie the version options together."""
    if version is None:
        for option, value in (("aliases", aliases), ("version_title", title)):
            if value:
                raise SettingsError(option, "needs version: aliases and titles belong to a version.")
        return
    check_version_name("version", version)
    for alias in aliases:
        check_version_name("aliases", alias)
        if alias == version:
            raise SettingsError("aliases", f"{alias!r} is the version itself; an alias names another folder.")
    if default is not None:
        check_version_name("default_version", default)


# --- the settings object -----------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything a publish needs, already validated."""

    bucket: str
    prefix: str = ""
    region: str | None = None
    role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)
    role_session_name: str | None = None
    duration_seconds: int = 3600
    profile: str | None = None
    endpoint_url: str | None = None
    expected_bucket_owner: str | None = None
    delete: bool = True
    max_deletes: int = 500
    max_delete_share: float = 0.5
    content_types: Mapping[str, str] = field(default_factory=dict)
    dry_run: bool = False
    concurrency: int = 16
    lock: bool = True
    lock_timeout: int = 600
    # issue 4: ownership, headers, compression, CDN, redirects, scoped sessions
    delete_unmanaged: bool = False
    keep: Sequence[str] = ()
    cache_control: Mapping[str, str] = field(default_factory=dict)
    force: bool = False
    gzip: bool | Sequence[str] = False
    redirects: bool = False
    retain_deploys: int = 0
    cloudfront_distribution_id: str | None = None
    invalidation_max_paths: int = 100
    invalidation_wait: bool = False
    invalidation_timeout: int = 600
    scope_session: bool = False
    kms_key_arn: str | None = None
    web_identity_token_env: str | None = None
    web_identity_token_file: str | None = None
    web_identity_role_arn: str | None = None
    report_file: str | None = None
    dotenv_file: str | None = None
    site_url_template: str | None = None
    # issue 12: versioned docs, deploy history, rollback, the out-of-order guard
    version: str | None = None
    version_title: str | None = None
    aliases: Sequence[str] = ()
    default_version: str | None = None
    alias_type: str = "copy"
    history_limit: int = 20
    allow_older: bool = False

    def __post_init__(self) -> None:
        check_bucket(self.bucket)
        object.__setattr__(self, "prefix", normalize_prefix(self.prefix))
        if self.region is not None:
            check_region(self.region)
        if self.role_arn is not None:
            check_role_arn(self.role_arn)
        if self.external_id is not None:
            check_external_id(self.external_id)
        if self.role_session_name is not None:
            check_session_name(self.role_session_name)
        check_duration(self.duration_seconds)
        if self.expected_bucket_owner is not None:
            check_account("expected_bucket_owner", self.expected_bucket_owner)
        check_non_negative("max_deletes", self.max_deletes)
        check_share("max_delete_share", self.max_delete_share)
        check_concurrency(self.concurrency)
        check_non_negative("lock_timeout", self.lock_timeout)
        for pattern, ctype in self.content_types.items():
            check_glob("content_types", pattern)
            check_content_type("content_types", ctype)
        for pattern in self.keep:
            check_glob("keep", pattern)
        object.__setattr__(self, "keep", tuple(self.keep))
        for pattern, value in self.cache_control.items():
            check_glob("cache_control", pattern)
            check_cache_control("cache_control", value)
        check_gzip(self.gzip)
        if not isinstance(self.gzip, bool):
            object.__setattr__(self, "gzip", tuple(self.gzip))
        check_non_negative("retain_deploys", self.retain_deploys)
        if self.cloudfront_distribution_id is not None:
            check_distribution_id(self.cloudfront_distribution_id)
        check_invalidation_max_paths(self.invalidation_max_paths)
        check_non_negative("invalidation_timeout", self.invalidation_timeout)
        if self.kms_key_arn is not None:
            check_kms_key_arn(self.kms_key_arn)
        if self.scope_session and not self.role_arn:
            raise SettingsError(
                "scope_session",
                "needs role_arn: the session policy is passed to AssumeRole, which only runs with a role.",
            )
        if self.scope_session:
            self.session_policy()  # raises SettingsError when it is over STS's size limit

        if self.web_identity_token_env is not None:
            check_env_name("web_identity_token_env", self.web_identity_token_env)
        if self.web_identity_role_arn is not None:
            try:
                check_role_arn(self.web_identity_role_arn)
            except SettingsError as exc:
                raise SettingsError("web_identity_role_arn", exc.rule) from None
        check_web_identity(
            self.web_identity_token_env,
            self.web_identity_token_file,
            self.web_identity_role_arn,
            self.role_arn,
            self.external_id,
            self.profile,
        )
        if self.site_url_template is not None:
            check_url_template(self.site_url_template)
        object.__setattr__(self, "aliases", tuple(self.aliases))
        check_versions(self.version, self.aliases, self.version_title, self.default_version)
        check_alias_type(self.alias_type)
        if self.history_limit < 1:
            raise SettingsError(
                "history_limit", f"{self.history_limit} must be 1 or more (deploys kept in the history)."
            )
        if self.dotenv_file and not self.site_url_template:
            raise SettingsError(
                "dotenv_file",
                "needs site_url_template: DOCS_URL is made from it (e.g. https://d123.cloudfront.net/{prefix}/).",
            )

    def session_policy(self) -> str | None:
        """The packed inline policy for AssumeRole with ``scope_session``, else None."""
        if not (self.scope_session and self.role_arn):
            return None
        return session_policy(
            role_arn=self.role_arn,
            bucket=self.bucket,
            prefix=self.prefix,
            distribution_id=self.cloudfront_distribution_id,
            kms_key_arn=self.kms_key_arn,
        )

    @property
    def role_account(self) -> str | None:
        return check_role_arn(self.role_arn) if self.role_arn else None

    @property
    def session_name(self) -> str:
        return self.role_session_name or default_session_name()

    @property
    def uses_web_identity(self) -> bool:
        return bool(self.web_identity_token_env or self.web_identity_token_file)

    @property
    def destination(self) -> str:
        return f"s3://{self.bucket}/{self.prefix + '/' if self.prefix else ''}"
