"""Credentials: source chain -> (optionally) the documents-account role, checked.

The source is boto3's default chain (env keys, profile, container/instance role). With
``role_arn`` we assume the role through botocore's own fetcher, wrapped in credentials that
refresh themselves before they expire, so a publish that outlives its session goes on.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    AssumeRoleWithWebIdentityCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    DataNotFoundError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)
from botocore.utils import parse_timestamp

from mkdocs_s3_crossaccount.aws import checksums as checksum_rules
from mkdocs_s3_crossaccount.aws import diagnose, profiles
from mkdocs_s3_crossaccount.config.settings import Settings
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.redact import add_secret

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

DEFAULT_REGION = "us-east-1"
# Retries when neither AWS_RETRY_MODE / AWS_MAX_ATTEMPTS nor the profile's retry_mode / max_attempts say:
# standard mode, 10 attempts in all (the first and 9 retries), so a prefix throttled with 503 SlowDown
# on 30% of requests still publishes (a request then fails with probability 0.3^10, about 6 in a million).
DEFAULT_RETRY_MODE = "standard"
DEFAULT_MAX_ATTEMPTS = 10
RETRY_MODES = ("standard", "adaptive", "legacy")
CHAINED_MAX_SECONDS = 3600  # STS caps a session reached through another role's session at 1 hour
Clock = Callable[[], datetime.datetime]


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


@dataclass(frozen=True)
class Identity:
    """Who a set of credentials is (GetCallerIdentity)."""

    arn: str
    account: str


@dataclass
class AwsContext:
    """What the rest of the pipeline needs: a session acting in the target account."""

    session: boto3.Session
    identity: Identity
    region: str
    owner: str  # ExpectedBucketOwner for every bucket request
    refreshes: list[datetime.datetime]  # when role credentials were (re)fetched, for reports/tests
    retries: dict[str, Any] = field(
        default_factory=lambda: {"mode": DEFAULT_RETRY_MODE, "total_max_attempts": DEFAULT_MAX_ATTEMPTS}
    )  # botocore's retry config (retry_settings)

    def client(
        self,
        service: str,
        max_pool_connections: int = 10,
        endpoint_url: str | None = None,
        checksums: str | None = None,
    ) -> Any:
        """A client of ``service`` on the target-account session, with our timeouts and retries.

        For S3, ``checksums`` is the option of that name (see aws/checksums.py): it sets the
        client's checksum config and, where needed, Content-MD5 on DeleteObjects.
        """
        cfg = Config(
            max_pool_connections=max_pool_connections,
            retries=dict(self.retries),  # type: ignore[arg-type]
            connect_timeout=10,
            read_timeout=60,
            tcp_keepalive=True,
        )
        if checksums is not None:
            extra: dict[str, Any] = checksum_rules.client_checksum_config(checksums, endpoint_url, os.environ)
            cfg = cfg.merge(Config(**extra))
        make: Any = self.session.client  # boto3-stubs overloads want a literal service name
        client = make(service, region_name=self.region, endpoint_url=endpoint_url, config=cfg)
        if checksums is not None and checksum_rules.delete_needs_content_md5(checksums, endpoint_url, os.environ):
            checksum_rules.install_content_md5(client)
        return client


def retry_settings(source: botocore.session.Session, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """botocore's retry config: AWS_RETRY_MODE / AWS_MAX_ATTEMPTS, else the profile's retry_mode /
    max_attempts (of ``profile:``, which the role session does not see), else our defaults.

    ``max_attempts`` counts every attempt (the first included), as the AWS CLI and SDKs read it.
    """
    env = os.environ if environ is None else environ
    try:
        scoped = source.get_scoped_config()
    except ProfileNotFound:
        scoped = {}
    mode_from = "AWS_RETRY_MODE" if env.get("AWS_RETRY_MODE") else "retry_mode in the AWS profile"
    mode = str(env.get("AWS_RETRY_MODE") or scoped.get("retry_mode") or DEFAULT_RETRY_MODE).strip().lower()
    if mode not in RETRY_MODES:
        raise PublishError(
            f"{mode_from} is {mode!r}; botocore knows {', '.join(RETRY_MODES)}.",
            f"Set {mode_from.split()[0]} to standard or adaptive, or unset it (default: {DEFAULT_RETRY_MODE}).",
        )
    attempts_from = "AWS_MAX_ATTEMPTS" if env.get("AWS_MAX_ATTEMPTS") else "max_attempts in the AWS profile"
    raw = env.get("AWS_MAX_ATTEMPTS") or scoped.get("max_attempts") or DEFAULT_MAX_ATTEMPTS
    try:
        attempts = int(str(raw).strip())
    except ValueError:
        attempts = 0
    if attempts < 1:
        raise PublishError(
            f"{attempts_from} is {str(raw)!r}; it must be a whole number of attempts, 1 or more.",
            f"Fix {attempts_from.split()[0]}, or unset it (default: {DEFAULT_MAX_ATTEMPTS}).",
        )
    return {"mode": mode, "total_max_attempts": attempts}


_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")


def fast_timestamp(value: str) -> datetime.datetime:
    """ISO 8601 timestamps (every LastModified of a listing) without dateutil's general parser.

    botocore parses each listed object's LastModified with dateutil, which costs more than the
    rest of the listing. S3 sends milliseconds, other stores up to nanoseconds (cut to
    microseconds here); anything else (HTTP dates in headers) still goes to botocore.
    """
    m = _ISO.match(value) if isinstance(value, str) else None
    if m is None:
        return parse_timestamp(value)
    base, fraction, zone = m.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z") else zone
    return datetime.datetime.fromisoformat(f"{base}.{micro}{offset}")


class _RoleCredentials(DeferredRefreshableCredentials):
    """Refresh windows scaled to the session length.

    botocore's defaults (advisory 15 min, mandatory 10 min before expiry) would make a
    15-minute session refresh on every request; a third and a sixth of the duration,
    capped at botocore's values, keep refreshes rare and always ahead of expiry.
    """

    def __init__(
        self, refresh_using: Callable[[], dict[str, Any]], duration: int, clock: Clock, method: str = "assume-role"
    ) -> None:
        super().__init__(refresh_using=refresh_using, method=method, time_fetcher=clock)
        self._advisory_refresh_timeout = min(15 * 60, duration // 3)
        self._mandatory_refresh_timeout = min(10 * 60, duration // 6)
        self.assumed: _NoCache | None = None  # the fetcher's cache: it saw who STS says the session is


class _NoCache(dict[str, Any]):
    """The fetcher's own cache judges expiry by the wall clock; _RoleCredentials already decides
    when to refresh, so every refresh it asks for is a real AssumeRole.

    It keeps one thing of each reply the fetcher writes to it: the session's ARN
    (``AssumedRoleUser.Arn``), so the identity needs no GetCallerIdentity round trip.
    The credentials in the reply are not kept.
    """

    assumed_arn: str | None = None

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: Any) -> None:
        user = value.get("AssumedRoleUser") if isinstance(value, dict) else None
        arn = user.get("Arn") if isinstance(user, dict) else None
        self.assumed_arn = arn if isinstance(arn, str) else None


class _FixedProvider(CredentialProvider):
    METHOD = "mkdocs-s3-crossaccount"
    CANONICAL_NAME = "mkdocs-s3-crossaccount"

    def __init__(self, creds: Credentials) -> None:
        self._creds = creds

    def load(self) -> Credentials:
        return self._creds


def _register(creds: Credentials) -> None:
    frozen = creds.get_frozen_credentials()
    add_secret(frozen.secret_key)
    add_secret(frozen.token)


class _Services(Sequence[str]):
    """The services botocore has models of one type for, answering ``in`` without listing them all.

    botocore checks ``name in loader.list_available_services(type)`` before loading a model, and
    builds that list by listing every service folder it ships (about 400) for every model type:
    some 1,400 ``listdir`` calls, a tenth of a second of a no-op publish. Membership here looks
    in the one service's folder (botocore's own ``determine_latest_version``: the same answer);
    iterating, for a message or any other caller, lists them all as botocore does.
    """

    def __init__(self, loader: botocore.loaders.Loader, type_name: str) -> None:
        self._loader = loader
        self._type_name = type_name
        self._everything: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self._loader.determine_latest_version(name, self._type_name)
        except DataNotFoundError:
            return False
        return True

    def _all(self) -> list[str]:
        if self._everything is None:
            self._everything = list(botocore.loaders.Loader.list_available_services(self._loader, self._type_name))
        return self._everything

    def __getitem__(self, index: Any) -> Any:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())


class _QuickLoader(botocore.loaders.Loader):
    """botocore's model loader, with the service check of :class:`_Services`."""

    def list_available_services(self, type_name: str) -> Any:
        return _Services(self, type_name)


def _quick_loader(session: botocore.session.Session) -> _QuickLoader:
    """The loader botocore would make for ``session`` (AWS_DATA_PATH included), as a _QuickLoader."""
    data_path = session.get_config_variable("data_path")
    extra = [os.path.expanduser(os.path.expandvars(p)) for p in data_path.split(os.pathsep)] if data_path else None
    return _QuickLoader(extra_search_paths=extra)


def _source_session(settings: Settings) -> botocore.session.Session:
    session = botocore.session.Session(profile=settings.profile)
    profiles.check(session, settings.profile)  # a missing profile or source_profile: named, with where it was looked
    session.register_component("data_loader", _quick_loader(session))
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
    return session


def _caller(session: boto3.Session, region: str) -> Identity:
    sts = session.client("sts", region_name=region)
    ident = sts.get_caller_identity()
    return Identity(str(ident["Arn"]), str(ident["Account"]))


_ENDPOINT_VARS = re.compile(r"^AWS_ENDPOINT_URL(_[A-Z0-9_]+)?$")


def check_endpoint_variables(environ: Mapping[str, str] | None = None) -> None:
    """Each AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> set is an http(s) URL, or one clear error naming it.

    botocore would raise a bare ValueError ("Invalid endpoint") from deep inside client creation.
    """
    env = os.environ if environ is None else environ
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() == "true":
        return
    for name in sorted(n for n in env if _ENDPOINT_VARS.match(n)):
        value = env[name]
        try:
            parts = urlsplit(value)
            _ = parts.port  # raises ValueError for a port that is not a number
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # e.g. a port that is not a number
            ok = False
        if not ok or any(c.isspace() for c in value):
            raise PublishError(
                f"The environment variable {name}={value[:200]!r} is not an endpoint URL.",
                f"Set {name} to an http:// or https:// URL (e.g. https://s3.eu-west-1.amazonaws.com, "
                f"http://127.0.0.1:9000), or unset it to use AWS's endpoints.",
            )


def sts_endpoint(session: botocore.session.Session, region: str) -> tuple[str, str]:
    """The STS endpoint botocore sends to, and what set it (for messages about a misrouted STS)."""
    try:
        url = str(session.create_client("sts", region_name=region).meta.endpoint_url)
    except Exception:  # only for a message: never let it hide the real failure
        url = "(unknown)"
    if os.environ.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        for name in ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"):
            if os.environ.get(name):
                return url, f"the environment variable {name}"
    if "amazonaws.com" not in url:
        return url, "the profile's endpoint_url / services setting in the AWS config file"
    return url, "botocore's default (no AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL set)"


def _misrouted(exc: BaseException, session: botocore.session.Session, region: str, what: str) -> PublishError:
    endpoint, set_by = sts_endpoint(session, region)
    return diagnose.sts_misrouted(exc, what, endpoint, set_by)


class TokenLoader:
    """Reads the OIDC token on every (re)fetch, from an environment variable or a file.

    The token itself never reaches a message: errors name only the variable or the path.
    """

    def __init__(self, env: str | None = None, path: str | None = None) -> None:
        self.env = env
        self.path = path

    @property
    def source(self) -> str:
        """Where the token comes from, for messages (never the token)."""
        return f"${self.env}" if self.env else f"the file {self.path!r}"

    def __call__(self) -> str:
        if self.env:
            token = os.environ.get(self.env, "")
            if not token.strip():
                raise PublishError(
                    f"The OIDC token variable ${self.env} is {'empty' if self.env in os.environ else 'not set'}.",
                    f"In .gitlab-ci.yml, give the publish job `id_tokens: {{{self.env}: {{aud: <audience>}}}}` "
                    "(the audience your IAM OIDC provider lists), or fix web_identity_token_env.",
                )
            add_secret(token.strip())
            return token.strip()
        assert self.path is not None
        try:
            with open(self.path, encoding="utf-8") as fh:
                token = fh.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise PublishError(
                f"Cannot read the OIDC token file {self.path!r}: {reason}.",
                "Check web_identity_token_file: the job must write the id_token there before publishing.",
            ) from None
        if not token:
            raise PublishError(
                f"The OIDC token file {self.path!r} is empty.",
                "Check web_identity_token_file: the job must write the id_token there before publishing.",
            )
        add_secret(token)
        return token


@dataclass(frozen=True)
class _Source:
    """Where role sessions come from: the source session, its region, the clock, the refresh log."""

    session: botocore.session.Session
    region: str
    clock: Clock
    refreshes: list[datetime.datetime]


def _web_identity_credentials(
    src: _Source, loader: TokenLoader, role_arn: str, session_name: str, duration: int, track: bool = True
) -> _RoleCredentials:
    """Refreshing credentials of ``role_arn``, entered with the OIDC token (AssumeRoleWithWebIdentity).

    ``track``: count its fetches in ``src.refreshes`` (the role the publish acts as)."""
    source, region, clock = src.session, src.region, src.clock
    refreshes = src.refreshes if track else None
    cache = _NoCache()
    fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
        client_creator=lambda service, **kw: source.create_client(service, region_name=region, **kw),
        web_identity_token_loader=loader,
        role_arn=role_arn,
        extra_args={"RoleSessionName": session_name, "DurationSeconds": duration},
        cache=cache,
    )
    creds = _refreshing(fetcher, role_arn, duration, clock, refreshes, "assume-role-with-web-identity")
    creds.assumed = cache
    return creds


def _refreshing(
    fetcher: Any,
    role_arn: str,
    duration: int,
    clock: Clock,
    refreshes: list[datetime.datetime] | None,
    method: str = "assume-role",
) -> _RoleCredentials:
    """Self-refreshing credentials from an STS fetcher; each fetch registers its secrets for masking."""

    def fetch() -> dict[str, Any]:
        creds: dict[str, Any] = fetcher.fetch_credentials()
        add_secret(creds.get("secret_key"))
        add_secret(creds.get("token"))
        if refreshes is not None:
            refreshes.append(clock())
            if len(refreshes) > 1:
                log.info("Refreshed the role session for %s", role_arn)
        return creds

    return _RoleCredentials(fetch, duration, clock, method=method)


def _first_hop(creds: _RoleCredentials, role_arn: str, src: _Source) -> None:
    """Fetch the web-identity hop now, so a failure names the role it failed for."""
    what = f"entering {role_arn} with the OIDC token"
    try:
        creds.get_frozen_credentials()
    except (ClientError, KeyError) as exc:
        if diagnose.not_sts(exc):
            raise _misrouted(exc, src.session, src.region, what) from exc
        raise diagnose.assume_role_failed(exc, role_arn, None, False) from exc
    except BotoCoreError as exc:
        raise diagnose.unexpected(exc, f"entering {role_arn} with the OIDC token") from exc


def source_identity(settings: Settings) -> Identity:
    """Who the source credentials are (GetCallerIdentity), with the same translations as connect()."""
    check_endpoint_variables()
    source = _source_session(settings)
    region = settings.region or source.get_config_variable("region") or DEFAULT_REGION
    return _source_caller(boto3.Session(botocore_session=source, region_name=region), region)


def _source_caller(session: boto3.Session, region: str) -> Identity:
    try:
        return _caller(session, region)
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise diagnose.no_credentials(exc) from exc
    except (ClientError, KeyError) as exc:
        if diagnose.not_sts(exc):
            what = "checking the identity (sts:GetCallerIdentity)"
            raise _misrouted(exc, session._session, region, what) from exc
        raise diagnose.source_identity_failed(exc) from exc
    except BotoCoreError as exc:
        raise diagnose.unexpected(exc, "checking the identity with sts:GetCallerIdentity") from exc


def connect(settings: Settings, clock: Clock = _utcnow) -> AwsContext:
    """Credentials for the target account, verified to be in it (the AssumeRole reply, else GetCallerIdentity)."""
    add_secret(settings.external_id)
    check_endpoint_variables()
    source = _source_session(settings)
    retry_settings(source)  # a bad AWS_RETRY_MODE / AWS_MAX_ATTEMPTS is one clear error, before any request
    region = settings.region or source.get_config_variable("region") or DEFAULT_REGION
    source_boto = boto3.Session(botocore_session=source, region_name=region)
    refreshes: list[datetime.datetime] = []

    if not settings.role_arn:
        identity = _source_caller(source_boto, region)
        creds = source.get_credentials()
        if creds is not None:
            _register(creds)
        owner = settings.expected_bucket_owner or identity.account
        log.info("Publishing as %s (account %s), no role_arn set", identity.arn, identity.account)
        return AwsContext(source_boto, identity, region, owner, refreshes, retry_settings(source))

    src = _Source(source, region, clock, refreshes)
    duration = settings.duration_seconds
    loader = (
        TokenLoader(settings.web_identity_token_env, settings.web_identity_token_file)
        if settings.uses_web_identity
        else None
    )
    caller_hint: str | None = None
    source_creds: Credentials | None
    if loader is not None:
        loader()  # an empty or unreadable token is one clear error, before any request
    if loader is not None and not settings.web_identity_role_arn:
        log.info("Entering %s with the OIDC token from %s", settings.role_arn, loader.source)
        role_creds = _web_identity_credentials(src, loader, settings.role_arn, settings.session_name, duration)
        _first_hop(role_creds, settings.role_arn, src)
        return _checked_context(role_creds, settings, src, None, None)

    if loader is not None and settings.web_identity_role_arn:
        log.info(
            "Entering %s with the OIDC token from %s, then %s",
            settings.web_identity_role_arn,
            loader.source,
            settings.role_arn,
        )
        if duration > CHAINED_MAX_SECONDS:
            log.info(
                "duration_seconds %d lowered to %d: a session reached through another role (role chaining) "
                "lasts at most 1 hour; it refreshes itself before it expires",
                duration,
                CHAINED_MAX_SECONDS,
            )
            duration = CHAINED_MAX_SECONDS
        hop = _web_identity_credentials(
            src, loader, settings.web_identity_role_arn, settings.session_name, duration, track=False
        )
        _first_hop(hop, settings.web_identity_role_arn, src)
        source_creds = hop
        caller_hint = settings.web_identity_role_arn
    else:
        source_creds = source.get_credentials()
    if source_creds is None:
        raise diagnose.no_credentials(NoCredentialsError())
    _register(source_creds)
    extra: dict[str, Any] = {
        "RoleSessionName": settings.session_name,
        "DurationSeconds": duration,
    }
    if settings.external_id:
        extra["ExternalId"] = settings.external_id
    policy = settings.session_policy()
    if policy:
        extra["Policy"] = policy  # scope_session: limits this session to the bucket/prefix

    def sts_client(service: str, **kwargs: Any) -> Any:
        return source.create_client(service, region_name=region, **kwargs)

    cache = _NoCache()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_client,
        source_credentials=source_creds,
        role_arn=settings.role_arn,
        extra_args=extra,
        cache=cache,
    )
    role_creds = _refreshing(fetcher, settings.role_arn, duration, clock, refreshes)
    role_creds.assumed = cache
    return _checked_context(role_creds, settings, src, source_boto, caller_hint)


def _assumed_identity(role_creds: _RoleCredentials) -> Identity | None:
    """Who the role session is, from STS's own AssumeRole reply (fetching it now); None: ask GetCallerIdentity.

    The reply names the session (``arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION``), the same
    ARN GetCallerIdentity would return, so this saves a client and a round trip.
    """
    role_creds.get_frozen_credentials()
    arn = role_creds.assumed.assumed_arn if role_creds.assumed is not None else None
    parts = arn.split(":", 5) if arn else []
    if len(parts) < 6 or parts[0] != "arn" or not parts[4].isdigit():
        return None
    assert arn is not None
    return Identity(arn, parts[4])


def _checked_context(
    role_creds: _RoleCredentials,
    settings: Settings,
    src: _Source,
    source_boto: boto3.Session | None,
    caller_hint: str | None,
) -> AwsContext:
    """A session on ``role_creds``, verified to act in the role's account (by STS's AssumeRole reply)."""
    assert settings.role_arn is not None
    source, region, refreshes = src.session, src.region, src.refreshes
    target = botocore.session.Session()
    # the source session has read the STS model and endpoint rules already: share its loader's cache
    target.register_component("data_loader", source.get_component("data_loader"))
    target.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=fast_timestamp)
    target.register_component("credential_provider", CredentialResolver([_FixedProvider(role_creds)]))
    target_boto = boto3.Session(botocore_session=target, region_name=region)

    try:
        identity = _assumed_identity(role_creds) or _caller(target_boto, region)
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise diagnose.no_credentials(exc) from exc
    except (ClientError, KeyError) as exc:
        if diagnose.not_sts(exc):
            raise _misrouted(exc, source, region, f"assuming {settings.role_arn}") from exc
        caller = caller_hint
        if caller is None and source_boto is not None:
            with contextlib.suppress(ClientError, BotoCoreError):
                caller = _caller(source_boto, region).arn
        raise diagnose.assume_role_failed(exc, settings.role_arn, caller, bool(settings.external_id)) from exc
    except BotoCoreError as exc:
        raise diagnose.unexpected(exc, f"assuming {settings.role_arn}") from exc

    role_account = settings.role_account or identity.account
    if identity.account != role_account:
        raise diagnose.wrong_account(identity.arn, identity.account, role_account, settings.role_arn)
    owner = settings.expected_bucket_owner or role_account
    log.info("Assumed %s (account %s)", identity.arn, identity.account)
    return AwsContext(target_boto, identity, region, owner, refreshes, retry_settings(source))
