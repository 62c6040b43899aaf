"""The options, each declared once: ``Settings`` (what a publish needs) and ``HostOptions``
(the plugin's own switches). Adding an option is one field here plus its doc.

Each field is made by ``schema.option()``: the field's name, type and default are the
option's, and it carries the doc, the rule, the CLI flag (or none: file-only) and whether
it is a secret. ``Settings.__post_init__`` runs each field's type check and rule once
(``schema.validate_fields``), then the rules that tie options together. Nothing here does
I/O or imports MkDocs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mkdocs_s3_crossaccount.config import rules as r
from mkdocs_s3_crossaccount.config.rules import (  # re-exported: the rules used to live here
    check_role_arn,
    default_session_name,
    normalize_prefix,
)
from mkdocs_s3_crossaccount.config.schema import Flag, build, option, unknown, validate_fields
from mkdocs_s3_crossaccount.core.errors import SettingsError
from mkdocs_s3_crossaccount.core.redact import add_secret
from mkdocs_s3_crossaccount.core.session_policy import session_policy

__all__ = [
    "HostOptions",
    "Resolved",
    "Settings",
    "check_role_arn",
    "default_session_name",
    "normalize_prefix",
    "resolve",
]


@dataclass(frozen=True)
class Settings:
    """Everything a publish needs, already validated (each option's doc is its field's ``doc``).

    String options read from ``!ENV`` take the variable's text as written (see ``config/env.py``).
    """

    bucket: str = option(
        "Name of the docs bucket in the documents account (required).",
        rule=r.check_bucket,
        cli=Flag("Docs bucket name."),
    )
    prefix: str = option(
        """Folder in the bucket; '' for the root. Matched at a '/' boundary only; no control characters.
        From !ENV the variable's text is taken as written; a variable that is unset, empty or null is an error
        when publishing (the root only when written literally: prefix: "" or !ENV [DOCS_PREFIX, ""]).""",
        default="",
        rule=r.check_prefix,
        cli=Flag("Folder in the bucket ('' for the root)."),
    )
    region: str | None = option(
        "AWS region of the bucket and the STS endpoint (default: AWS_REGION / profile / us-east-1).",
        default=None,
        rule=r.check_region,
        cli=Flag("AWS region of the bucket and STS."),
    )
    role_arn: str | None = option(
        "Role in the documents account to assume. Unset: use the ambient credentials as they are.",
        default=None,
        rule=r.check_role_arn,
        cli=Flag("Role in the documents account to assume."),
    )
    external_id: str | None = option(
        """ExternalId the role's trust policy requires (use !ENV; never logged). Taken as the variable's text
        (digits stay digits); an !ENV that gives no value is an error when publishing.""",
        default=None,
        rule=r.check_external_id,
        cli=Flag("ExternalId for AssumeRole.", envvar="DOCS_EXTERNAL_ID"),
        secret=True,
    )
    role_session_name: str | None = option(
        "STS session name (default: from CI variables, e.g. mkdocs-group-project-job-123).",
        default=None,
        rule=r.check_session_name,
        cli=Flag("STS session name."),
    )
    duration_seconds: int = option(
        "Requested role session length, 900-43200; sessions refresh themselves anyway.",
        default=3600,
        rule=r.check_duration,
        cli=Flag("Role session length (900-43200)."),
    )
    profile: str | None = option(
        "Named profile for the source credentials (local use).",
        default=None,
        cli=Flag("Named profile for the source credentials."),
    )
    endpoint_url: str | None = option(
        "S3 endpoint override, an http(s) URL (tests, S3-compatible stores). AWS_ENDPOINT_URL_S3 / _STS also work.",
        default=None,
        rule=r.check_endpoint_url,
        cli=Flag("S3 endpoint override."),
    )
    checksums: str = option(
        "Request/response checksums of the S3 client: auto (boto3's default against AWS; when_required, plus "
        "Content-MD5 on DeleteObjects, against any other endpoint_url unless AWS_REQUEST_CHECKSUM_CALCULATION / "
        "AWS_RESPONSE_CHECKSUM_VALIDATION say otherwise), or when_required / when_supported for both, whatever "
        "the variables say. See the S3-compatible stores page of the docs.",
        default="auto",
        rule=r.check_checksums,
        cli=Flag("S3 checksums: auto (when_required off AWS), when_required, when_supported."),
    )
    expected_bucket_owner: str | None = option(
        "Account that must own the bucket (default: role_arn's account). Sent on every request.",
        default=None,
        rule=r.check_account,
        cli=Flag("Account id that must own the bucket."),
    )
    delete: bool = option(
        "Remove objects under the prefix that are no longer in the site (guarded).",
        default=True,
        cli=Flag("Remove stale objects (guarded).", scope="publish"),
    )
    max_deletes: int = option(
        "Refuse the publish when more stale objects than this would be deleted.",
        default=500,
        rule=r.check_non_negative,
        cli=Flag("Refuse when more deletes than this are needed.", scope="publish"),
    )
    max_delete_share: float = option(
        """Refuse when deletes exceed this share of the objects this publisher manages under the prefix (those
        its manifest lists; with delete_unmanaged, every object there), checked above 10 deletes. Objects of
        others beside them do not dilute it. 1 turns it off.""",
        default=0.5,
        rule=r.check_share,
        cli=Flag("Refuse when deletes exceed this share (0-1).", scope="publish"),
    )
    content_types: Mapping[str, str] = option(
        "glob -> Content-Type overrides; first match wins over the built-in table.",
        default={},
        rule=r.glob_map(r.check_content_type),
    )
    dry_run: bool = option(
        "Plan and print, change nothing (the CLI's `plan` command and `publish --dry-run`).",
        default=False,
    )
    concurrency: int = option(
        "Parallel transfers (1-64).",
        default=16,
        rule=r.check_concurrency,
        cli=Flag("Parallel transfers (1-64).", scope="publish"),
    )
    transfer: str = option(
        "How uploads reach the bucket: botocore (pure Python, the default), crt (the AWS Common Runtime's native "
        "S3 client, awscrt: about s5cmd's speed with a quarter of botocore's CPU), or auto: crt when awscrt is "
        "installed and the server takes its requests (the first upload tells; else botocore). crt does not yet "
        "count retries in the report nor honour AWS_MAX_ATTEMPTS / AWS_RETRY_MODE (it retries 5 times itself). "
        "See the transfer page of the docs.",
        default="botocore",
        rule=r.check_transfer,
        cli=Flag("Upload path: auto (crt if it works), crt (awscrt, native) or botocore.", scope="publish"),
    )
    lock: bool = option(
        "Take a lock object under the prefix (conditional write) so two publishes never interleave. "
        "``lock: false`` (the mode servers that cannot lock fall back to, with a warning) risks, when two "
        "publishes to one prefix overlap: the live site a mix of both builds; pages of the last build missing "
        "because the other publish deleted them as stale for its own build; a manifest that disagrees with the "
        "bucket (the other publish's new objects left as unmanaged, kept until delete_unmanaged). Still true: "
        "nothing outside the prefix is touched, each publish deletes only what its manifest recorded, within "
        "the caps, after its own uploads succeeded, and the next publish run alone repairs missing and changed "
        "pages. Set it only when something else serialises publishes (a GitLab resource_group).",
        default=True,
    )
    lock_timeout: int = option(
        """Seconds after which a lock left by a dead job is taken over; a positive number. A live publish
        rewrites its lock every lock_timeout/4 seconds (between 1 and 60), so only a dead job's lock gets this
        old. 600 (10 minutes, the default) suits production: long enough that a slow CI runner never looks
        dead, short enough that a cancelled job blocks the next publish for minutes, not hours. Tests use a
        few seconds.""",
        default=600,
        rule=r.check_positive_seconds,
    )
    delete_unmanaged: bool = option(
        """Also delete objects under the prefix that no earlier publish recorded in the manifest
        (objects put there by hand or by other tools). Off: only our own stale objects are deleted.""",
        default=False,
    )
    keep: Sequence[str] = option(
        "Globs (relative to the prefix) of objects never deleted, e.g. ['robots.txt', 'downloads/**'].",
        default=(),
        rule=r.check_globs,
    )
    cache_control: Mapping[str, str] = option(
        """glob -> Cache-Control; your rules come first (first match wins), then the built-in defaults.
        A value of '' sends no Cache-Control for the files it matches.""",
        default={},
        rule=r.glob_map(r.check_cache_control),
    )
    force: bool = option("Upload every file again, whatever the manifest and the bucket say.", default=False)
    allow_project_dir: bool = option(
        """Publish a site dir that looks like a project folder: mkdocs.yml, mkdocs.yaml, .env or .git (folder
        or file) at its top. Refused by default, with delete on or off, since it would upload the project's
        configuration, secrets and history; the message names what it found.""",
        default=False,
        cli=Flag("Publish SITE_DIR even if it looks like a project (mkdocs.yml, .git, .env).", scope="publish"),
    )
    gzip: bool | Sequence[str] = option(
        """Store text files gzip-compressed with Content-Encoding: gzip. true: html, css, js, json, xml,
        svg, txt, map; or a list of globs. Files ending in .gz are never compressed again.""",
        default=False,
        rule=r.check_gzip,
    )
    redirects: bool = option(
        """Store pages generated by mkdocs-redirects as zero-byte objects with WebsiteRedirectLocation,
        so the S3 website endpoint (and CloudFront on it) answers with a 301.""",
        default=False,
    )
    retain_deploys: int = option(
        """Keep objects that left the site for this many more publishes before deleting them, so
        readers of cached pages still get their assets.""",
        default=0,
        rule=r.check_non_negative,
    )
    cloudfront_distribution_id: str | None = option(
        "CloudFront distribution (in the documents account) to invalidate the changed paths of.",
        default=None,
        rule=r.check_distribution_id,
    )
    invalidation_max_paths: int = option(
        "Above this many changed paths, invalidate '/<prefix>/*' (one wildcard) instead.",
        default=100,
        rule=r.check_invalidation_max_paths,
    )
    invalidation_wait: bool = option(
        "Wait until CloudFront reports the invalidation completed (fails after invalidation_timeout).",
        default=False,
    )
    invalidation_timeout: int = option("Seconds invalidation_wait waits.", default=600, rule=r.check_non_negative)
    scope_session: bool = option(
        """Pass an inline session policy to AssumeRole limiting the credentials to this bucket and prefix
        (and the distribution and KMS key, if set). Needs role_arn.""",
        default=False,
    )
    kms_key_arn: str | None = option(
        "Upload with SSE-KMS under this key (ServerSideEncryption aws:kms + SSEKMSKeyId).",
        default=None,
        rule=r.check_kms_key_arn,
    )
    web_identity_token_env: str | None = option(
        """Name of the environment variable holding an OIDC token (GitLab `id_tokens`, e.g.
        GITLAB_OIDC_TOKEN): AssumeRoleWithWebIdentity instead of IAM user keys. The token is never logged.""",
        default=None,
        rule=r.check_env_name,
        cli=Flag("Env var holding a GitLab OIDC id_token (e.g. GITLAB_OIDC_TOKEN)."),
    )
    web_identity_token_file: str | None = option(
        "Path of a file holding the OIDC token (instead of web_identity_token_env).",
        default=None,
        cli=Flag("File holding an OIDC token."),
    )
    web_identity_role_arn: str | None = option(
        """Optional development-account role to enter with the token first, then AssumeRole into role_arn
        (sessions capped at 1 hour by role chaining). Unset: the token goes straight into role_arn.""",
        default=None,
        rule=r.check_role_arn,
        cli=Flag("Development-account role to enter with the token first."),
    )
    report_file: str | None = option(
        "Write a JSON report of the publish here (relative to the current folder).",
        default=None,
        cli=Flag("Write a JSON report of the publish here.", scope="publish"),
    )
    dotenv_file: str | None = option(
        "Write a GitLab dotenv file (DOCS_URL=...) here, for `environment:url` (needs site_url_template).",
        default=None,
        cli=Flag("Write DOCS_URL=... here (GitLab dotenv for environment:url).", scope="publish"),
    )
    site_url_template: str | None = option(
        """Public URL of the published site, with {bucket}, {prefix}, {region} placeholders,
        e.g. https://d123.cloudfront.net/{prefix}/ (reported, and DOCS_URL in the dotenv file).""",
        default=None,
        rule=r.check_url_template,
        cli=Flag("Public URL, with {bucket} {prefix} {region} placeholders.", scope="publish"),
    )
    # issue 12: versioned docs, deploy history, rollback, the out-of-order guard (docs/versions.md)
    version: str | None = option(
        """Publish the site as this version, to `<prefix>/<version>/`, and list it in `<prefix>/versions.json`
        (mike's format, read by Material's version selector), e.g. `!ENV [CI_COMMIT_TAG, dev]`. Unset: one site.
        With it, `history` and `rollback` work on that version's folder.""",
        default=None,
        rule=r.check_version_name,
        cli=Flag("Version to publish (to <prefix>/<version>/), or whose folder history/rollback use."),
    )
    version_title: str | None = option(
        "The version's title in the version selector (default: the version).",
        default=None,
        cli=Flag("The version's title in the selector.", scope="publish"),
    )
    aliases: Sequence[str] | str = option(
        """Other folder names for this version, e.g. `[latest]`; an alias moves here from the version it
        named. A string is split at commas and spaces (for `!ENV [DOCS_ALIASES, []]`).""",
        default=(),
        rule=r.check_aliases,
    )
    default_version: str | None = option(
        "The version or alias `<prefix>/index.html` redirects to (unset: the root redirect is left as it is).",
        default=None,
        rule=r.check_version_name,
        cli=Flag("Version or alias the prefix's root redirects to.", scope="publish"),
    )
    alias_type: str = option(
        """`copy`: alias folders are server-side copies of the version (no bytes sent); `redirect`: small
        pages that send readers to the same page of the version, keeping the path and anchor (plus
        WebsiteRedirectLocation with `redirects: true`).""",
        default="copy",
        rule=r.check_alias_type,
    )
    history_limit: int = option(
        "Deploy records kept per prefix (per version folder) for `history` and `rollback`; older ones are deleted.",
        default=20,
        rule=r.check_positive,
    )
    allow_older: bool = option(
        """Publish even when the live deploy is of a newer commit (the out-of-order guard refuses a publish
        whose commit, by CI_COMMIT_TIMESTAMP or git, is older than the live deploy's).""",
        default=False,
        cli=Flag("Publish even if the live deploy is of a newer commit (out-of-order guard).", scope="publish"),
    )

    def __post_init__(self) -> None:
        validate_fields(self)
        add_secret(self.external_id)  # masked from here on, whichever command reads these settings
        self._check_across()

    def _check_across(self) -> None:
        """The rules that tie options together (each option alone already passed its rule)."""
        if self.scope_session and not self.role_arn:
            raise SettingsError(
                "scope_session",
                "needs role_arn: the session policy is passed to AssumeRole, which only runs with a role.",
            )
        if self.scope_session:
            self.session_policy()  # raises SettingsError when it is over STS's size limit
        self._check_web_identity()
        self._check_versions()
        if self.dotenv_file and not self.site_url_template:
            raise SettingsError(
                "dotenv_file",
                "needs site_url_template: DOCS_URL is made from it (e.g. https://d123.cloudfront.net/{prefix}/).",
            )

    def _check_versions(self) -> None:
        """Rules that tie the version options together."""
        if self.version is None:
            for name, value in (("aliases", self.aliases), ("version_title", self.version_title)):
                if value:
                    raise SettingsError(name, "needs version: aliases and titles belong to a version.")
            return
        if self.version in self.aliases:
            raise SettingsError("aliases", f"{self.version!r} is the version itself; an alias names another folder.")

    def _check_web_identity(self) -> None:
        """Rules that tie the OIDC options together."""
        token_env, token_file = self.web_identity_token_env, self.web_identity_token_file
        if token_env and token_file:
            raise SettingsError(
                "web_identity_token_env",
                "and web_identity_token_file are both set; the token comes from one place: keep one of them.",
            )
        if not (token_env or token_file):
            if self.web_identity_role_arn:
                raise SettingsError(
                    "web_identity_role_arn",
                    "is set, but no token: set web_identity_token_env (e.g. GITLAB_OIDC_TOKEN from id_tokens) "
                    "or web_identity_token_file.",
                )
            return
        option_name = "web_identity_token_env" if token_env else "web_identity_token_file"
        if not self.role_arn:
            raise SettingsError(
                option_name,
                "needs role_arn: the OIDC token is exchanged for a role's credentials (AssumeRoleWithWebIdentity).",
            )
        if self.profile:
            raise SettingsError(
                option_name,
                "and profile are two different sources of credentials; with an OIDC token leave profile unset.",
            )
        if self.external_id and not self.web_identity_role_arn:
            raise SettingsError(
                "external_id",
                "has no use with an OIDC token straight into role_arn (AssumeRoleWithWebIdentity takes no "
                "ExternalId; the trust policy's gitlab.com:sub condition does that job). Remove external_id, or "
                "set web_identity_role_arn to enter a development-account role first.",
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
        """The account id of role_arn (None without a role)."""
        return r.role_account(self.role_arn) if self.role_arn else None

    @property
    def session_name(self) -> str:
        """role_session_name, else one made from the CI variables."""
        return self.role_session_name or default_session_name()

    @property
    def uses_web_identity(self) -> bool:
        """True when credentials come from an OIDC token."""
        return bool(self.web_identity_token_env or self.web_identity_token_file)

    @property
    def destination(self) -> str:
        """``s3://bucket/prefix/`` for messages."""
        return f"s3://{self.bucket}/{self.prefix + '/' if self.prefix else ''}"


@dataclass(frozen=True)
class HostOptions:
    """The plugin's own switches: whether and when a build publishes (not part of a publish's Settings)."""

    enabled: bool = option(
        "Publish at all. Off by default so local builds never publish; turn on in CI with !ENV.",
        default=False,
    )
    publish_on: Sequence[str] = option(
        "MkDocs commands that publish. `serve` is accepted but never publishes a temporary site.",
        default=["build"],
        rule=r.check_commands,
    )
    stable_build_date: bool = option(
        """When publishing and SOURCE_DATE_EPOCH is unset, set it to the commit time, so themes'
        build-date stamps don't change every page's bytes between rebuilds of one commit.""",
        default=True,
    )
    prepare_during_build: bool = option(
        """When a build will publish, start the publish in a second process as the build starts: it assumes the
        role, takes the lock and lists the bucket on another core while MkDocs renders, then publishes the built
        site. Nothing of it shows before the build is done; a failed or unpublished build leaves nothing (the lock
        is released). false: everything runs inside the MkDocs process after the build.""",
        default=True,
    )

    def __post_init__(self) -> None:
        validate_fields(self)


@dataclass(frozen=True)
class Resolved:
    """A validated plugin block: the host's switches and the publish settings."""

    host: HostOptions
    settings: Settings


def resolve(block: Mapping[str, Any]) -> Resolved:
    """Validate a plugin block (keys as in mkdocs.yml); raises the first SettingsError.

    Keys that are no option are not checked here: ``unknown_options`` lists them.
    """
    return Resolved(host=build(HostOptions, block), settings=build(Settings, block))


def unknown_options(block: Mapping[str, Any]) -> list[str]:
    """Keys of a plugin block that are no option (MkDocs warns; ``--strict`` fails)."""
    return unknown(block, HostOptions, Settings)
