"""The plugin's options as a typed MkDocs Config, validated when mkdocs.yml loads.

Each rule lives in ``settings.py``; the option classes here only adapt it to MkDocs'
ValidationError so the build stops at config load, naming the option and the rule.
The CLI loads the same class, so mkdocs.yml means the same thing to both.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import yaml
from mkdocs.config import base
from mkdocs.config import config_options as c

from mkdocs_s3_crossaccount.config import settings as rules
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import SettingsError


class _Checked(c.Type[Any]):
    """A typed option whose value must also pass one of the rules in settings.py."""

    def __init__(self, kind: type | tuple[type, ...], check: Callable[[Any], object], **kwargs: Any) -> None:
        super().__init__(kind, **kwargs)
        self._check = check

    def run_validation(self, value: object) -> Any:
        value = super().run_validation(value)
        if value is None:
            return value
        try:
            self._check(value)
        except SettingsError as exc:
            raise base.ValidationError(exc.rule) from exc
        return value


class _GlobMap(c.DictOfItems[str]):
    """glob -> string, each glob checked; keeps the order written (first match wins)."""

    def __init__(self, option: str, check_value: Callable[[str, str], None] | None = None) -> None:
        super().__init__(c.Type(str), default={})
        self._option = option
        self._check_value = check_value

    def run_validation(self, value: object) -> dict[str, str]:
        result = super().run_validation(value)
        for pattern, item in result.items():
            try:
                rules.check_glob(self._option, pattern)
                if self._check_value:
                    self._check_value(self._option, item)
            except SettingsError as exc:
                raise base.ValidationError(exc.rule) from exc
        return result


class _GlobList(c.ListOfItems[str]):
    """A list of globs, each checked."""

    def __init__(self, option: str) -> None:
        super().__init__(c.Type(str), default=[])
        self._option = option

    def run_validation(self, value: object) -> list[str]:
        result = super().run_validation(value)
        for pattern in result:
            try:
                rules.check_glob(self._option, pattern)
            except SettingsError as exc:
                raise base.ValidationError(exc.rule) from exc
        return result


class _Name(_Checked):
    """A version or alias name: a string.

    YAML reads an unquoted 1.10 as the number 1.1, and ``!ENV`` resolves a variable's value the
    same way, so ``version: !ENV CI_COMMIT_TAG`` with the tag ``1.10`` arrives as 1.1. The
    variable's own text is recovered when exactly one environment variable reads as that number;
    otherwise (a number written in the file) the option is refused with the fix.
    """

    def __init__(self, option: str, **kwargs: Any) -> None:
        super().__init__(str, lambda v: rules.check_version_name(option, v), **kwargs)

    def run_validation(self, value: object) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            texts = {raw for raw in os.environ.values() if _reads_as(raw, value)}
            if len(texts) != 1:
                raise base.ValidationError(
                    f'{value!r} was read as a number: quote version and alias names, e.g. "{value}" '
                    "(unquoted, YAML reads 1.10 as 1.1)."
                )
            value = texts.pop()
        return super().run_validation(value)


def _reads_as(raw: str, number: float) -> bool:
    """Whether YAML reads the text ``raw`` as ``number`` (as !ENV resolves a variable)."""
    if len(raw) > 32 or raw[:1] not in set("+-.0123456789"):
        return False
    try:
        parsed = yaml.safe_load(raw)
    except yaml.YAMLError:
        return False
    return type(parsed) is type(number) and parsed == number


class _Aliases(c.ListOfItems[str]):
    """A list of alias names; a string (what `!ENV DOCS_ALIASES` gives) is split at commas and spaces."""

    def __init__(self) -> None:
        super().__init__(_Name("aliases"), default=[])

    def run_validation(self, value: object) -> list[str]:
        if isinstance(value, str):
            value = [v for v in value.replace(",", " ").split() if v]
        return super().run_validation(value)


class PluginOptions(base.Config):  # type: ignore[no-untyped-call]
    """Options of the ``s3-crossaccount`` plugin (README documents each)."""

    enabled = c.Type(bool, default=False)
    """Publish at all. Off by default so local builds never publish; turn on in CI with !ENV."""
    publish_on = c.ListOfItems(c.Choice(("build", "gh-deploy", "serve")), default=["build"])
    """MkDocs commands that publish. `serve` is accepted but never publishes a temporary site."""
    bucket = _Checked(str, rules.check_bucket)
    """Name of the docs bucket in the documents account (required)."""
    prefix = _Checked(str, rules.normalize_prefix, default="")
    """Folder in the bucket; '' for the root. Matched at a '/' boundary only."""
    region = c.Optional(_Checked(str, rules.check_region))
    """AWS region of the bucket and the STS endpoint (default: AWS_REGION / profile / us-east-1)."""
    role_arn = c.Optional(_Checked(str, rules.check_role_arn))
    """Role in the documents account to assume. Unset: use the ambient credentials as they are."""
    external_id = c.Optional(_Checked(str, rules.check_external_id))
    """ExternalId the role's trust policy requires (use !ENV; never logged)."""
    role_session_name = c.Optional(_Checked(str, rules.check_session_name))
    """STS session name (default: from CI variables, e.g. mkdocs-group-project-job-123)."""
    duration_seconds = _Checked(int, rules.check_duration, default=3600)
    """Requested role session length, 900-43200; sessions refresh themselves anyway."""
    profile = c.Optional(c.Type(str))
    """Named profile for the source credentials (local use)."""
    endpoint_url = c.Optional(c.URL())
    """S3 endpoint override (tests, S3-compatible stores). AWS_ENDPOINT_URL_S3 / _STS also work."""
    expected_bucket_owner = c.Optional(_Checked(str, lambda v: rules.check_account("expected_bucket_owner", v)))
    """Account that must own the bucket (default: role_arn's account). Sent on every request."""
    delete = c.Type(bool, default=True)
    """Remove objects under the prefix that are no longer in the site (guarded)."""
    max_deletes = _Checked(int, lambda v: rules.check_non_negative("max_deletes", v), default=500)
    """Refuse the publish when more stale objects than this would be deleted."""
    max_delete_share = _Checked((int, float), lambda v: rules.check_share("max_delete_share", v), default=0.5)
    """Refuse when deletes exceed this share of the remote objects (above 10 deletes)."""
    content_types = _GlobMap("content_types", rules.check_content_type)
    """glob -> Content-Type overrides; first match wins over the built-in table."""
    dry_run = c.Type(bool, default=False)
    """Plan and print, change nothing."""
    concurrency = _Checked(int, rules.check_concurrency, default=16)
    """Parallel transfers (1-64)."""
    lock = c.Type(bool, default=True)
    """Take a lock object under the prefix (conditional write) so two publishes never interleave."""
    lock_timeout = _Checked(int, lambda v: rules.check_non_negative("lock_timeout", v), default=600)
    """Seconds after which a lock left by a dead job is taken over (a live publish keeps its lock fresh)."""
    delete_unmanaged = c.Type(bool, default=False)
    """Also delete objects under the prefix that no earlier publish recorded in the manifest
    (objects put there by hand or by other tools). Off: only our own stale objects are deleted."""
    keep = _GlobList("keep")
    """Globs (relative to the prefix) of objects never deleted, e.g. ['robots.txt', 'downloads/**']."""
    cache_control = _GlobMap("cache_control", rules.check_cache_control)
    """glob -> Cache-Control; your rules come first (first match wins), then the built-in defaults.
    A value of '' sends no Cache-Control for the files it matches."""
    force = c.Type(bool, default=False)
    """Upload every file again, whatever the manifest and the bucket say."""
    gzip = _Checked((bool, list), rules.check_gzip, default=False)
    """Store text files gzip-compressed with Content-Encoding: gzip. true: html, css, js, json, xml,
    svg, txt, map; or a list of globs. Files ending in .gz are never compressed again."""
    redirects = c.Type(bool, default=False)
    """Store pages generated by mkdocs-redirects as zero-byte objects with WebsiteRedirectLocation,
    so the S3 website endpoint (and CloudFront on it) answers with a 301."""
    retain_deploys = _Checked(int, lambda v: rules.check_non_negative("retain_deploys", v), default=0)
    """Keep objects that left the site for this many more publishes before deleting them, so
    readers of cached pages still get their assets."""
    cloudfront_distribution_id = c.Optional(_Checked(str, rules.check_distribution_id))
    """CloudFront distribution (in the documents account) to invalidate the changed paths of."""
    invalidation_max_paths = _Checked(int, rules.check_invalidation_max_paths, default=100)
    """Above this many changed paths, invalidate '/<prefix>/*' (one wildcard) instead."""
    invalidation_wait = c.Type(bool, default=False)
    """Wait until CloudFront reports the invalidation completed (fails after invalidation_timeout)."""
    invalidation_timeout = _Checked(int, lambda v: rules.check_non_negative("invalidation_timeout", v), default=600)
    """Seconds invalidation_wait waits."""
    scope_session = c.Type(bool, default=False)
    """Pass an inline session policy to AssumeRole limiting the credentials to this bucket and prefix
    (and the distribution and KMS key, if set). Needs role_arn."""
    kms_key_arn = c.Optional(_Checked(str, rules.check_kms_key_arn))
    """Upload with SSE-KMS under this key (ServerSideEncryption aws:kms + SSEKMSKeyId)."""
    web_identity_token_env = c.Optional(_Checked(str, lambda v: rules.check_env_name("web_identity_token_env", v)))
    """Name of the environment variable holding an OIDC token (GitLab `id_tokens`, e.g. GITLAB_OIDC_TOKEN):
    AssumeRoleWithWebIdentity instead of IAM user keys. The token is never logged."""
    web_identity_token_file = c.Optional(c.Type(str))
    """Path of a file holding the OIDC token (instead of web_identity_token_env)."""
    web_identity_role_arn = c.Optional(_Checked(str, rules.check_role_arn))
    """Optional development-account role to enter with the token first, then AssumeRole into role_arn
    (sessions capped at 1 hour by role chaining). Unset: the token goes straight into role_arn."""
    report_file = c.Optional(c.Type(str))
    """Write a JSON report of the publish here (relative to the current folder)."""
    dotenv_file = c.Optional(c.Type(str))
    """Write a GitLab dotenv file (DOCS_URL=...) here, for `environment:url` (needs site_url_template)."""
    site_url_template = c.Optional(_Checked(str, rules.check_url_template))
    """Public URL of the published site, with {bucket}, {prefix}, {region} placeholders,
    e.g. https://d123.cloudfront.net/{prefix}/ (reported, and DOCS_URL in the dotenv file)."""
    version = c.Optional(_Name("version"))
    """Publish the site as this version, to `<prefix>/<version>/`, and list it in `<prefix>/versions.json`
    (mike's format, read by Material's version selector), e.g. `!ENV [CI_COMMIT_TAG, dev]`. Unset: one site."""
    version_title = c.Optional(c.Type(str))
    """The version's title in the selector (default: the version)."""
    aliases = _Aliases()
    """Other folder names for this version, e.g. `[latest]`; an alias moves here from the version it named.
    A string is split at commas and spaces, so `!ENV [DOCS_ALIASES, []]` works in CI."""
    default_version = c.Optional(_Name("default_version"))
    """The version or alias `<prefix>/index.html` redirects to (unset: the root redirect is left as it is)."""
    alias_type = _Checked(str, rules.check_alias_type, default="copy")
    """`copy`: alias folders are server-side copies of the version (no bytes sent); `redirect`: small pages
    that send readers to the same page of the version, keeping the path and anchor."""
    history_limit = _Checked(int, lambda v: rules.check_non_negative("history_limit", v), default=20)
    """Deploy records kept per prefix for `history` and `rollback` (the oldest are deleted)."""
    allow_older = c.Type(bool, default=False)
    """Publish even when the live deploy is of a newer commit (the out-of-order guard refuses otherwise)."""
    stable_build_date = c.Type(bool, default=True)
    """When publishing and SOURCE_DATE_EPOCH is unset, set it to the commit time, so themes'
    build-date stamps don't change every page's bytes between rebuilds of one commit."""

    def validate(self) -> tuple[list[tuple[str, Exception]], list[tuple[str, str]]]:
        """MkDocs' per-option checks, then the rules that tie options together (scope_session needs
        role_arn, OIDC options, dotenv needs a URL...), so mkdocs.yml fails at load, not after the build."""
        failed, warnings = super().validate()
        if not failed and self.bucket is not None:
            try:
                self.to_settings()
            except SettingsError as exc:
                failed.append((exc.option, base.ValidationError(exc.rule)))
        return failed, warnings

    def to_settings(self) -> Settings:
        return Settings(
            bucket=self.bucket,
            prefix=self.prefix,
            region=self.region,
            role_arn=self.role_arn,
            external_id=self.external_id,
            role_session_name=self.role_session_name,
            duration_seconds=self.duration_seconds,
            profile=self.profile,
            endpoint_url=self.endpoint_url,
            expected_bucket_owner=self.expected_bucket_owner,
            delete=self.delete,
            max_deletes=self.max_deletes,
            max_delete_share=float(self.max_delete_share),
            content_types=dict(self.content_types),
            dry_run=self.dry_run,
            concurrency=self.concurrency,
            lock=self.lock,
            lock_timeout=self.lock_timeout,
            delete_unmanaged=self.delete_unmanaged,
            keep=tuple(self.keep),
            cache_control=dict(self.cache_control),
            force=self.force,
            gzip=self.gzip if isinstance(self.gzip, bool) else tuple(self.gzip),
            redirects=self.redirects,
            retain_deploys=self.retain_deploys,
            cloudfront_distribution_id=self.cloudfront_distribution_id,
            invalidation_max_paths=self.invalidation_max_paths,
            invalidation_wait=self.invalidation_wait,
            invalidation_timeout=self.invalidation_timeout,
            scope_session=self.scope_session,
            kms_key_arn=self.kms_key_arn,
            web_identity_token_env=self.web_identity_token_env,
            web_identity_token_file=self.web_identity_token_file,
            web_identity_role_arn=self.web_identity_role_arn,
            report_file=self.report_file,
            dotenv_file=self.dotenv_file,
            site_url_template=self.site_url_template,
            version=self.version,
            version_title=self.version_title,
            aliases=tuple(self.aliases),
            default_version=self.default_version,
            alias_type=self.alias_type,
            history_limit=self.history_limit,
            allow_older=self.allow_older,
        )
