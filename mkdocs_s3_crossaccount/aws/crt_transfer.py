"""The native transfer path: PutObjects through the AWS Common Runtime's S3 client (awscrt).

The CRT client (the engine of the AWS CLI v2 and ``boto3[crt]``) signs, sends and retries
requests on its own event-loop threads in C: no GIL per request, no ``Expect: 100-continue``
round trip, files read natively (``send_filepath``). We drive it directly rather than through
s3transfer's CRT manager, which fails on plain-http endpoints and exposes no ETags.

What goes through the CRT: every upload below the multipart threshold (nearly all of a docs
site), one PutObject each, with our headers (Content-Type, Cache-Control, Content-Encoding,
website redirect, SSE-KMS) and ExpectedBucketOwner; the ETag of each comes from the
response's headers. Files at or above the threshold go through the fallback transfer
(botocore/s3transfer): some S3-compatible servers (rclone's) answer CreateMultipartUpload in
a form the CRT client does not parse, and s3transfer's part size is what our manifests'
multipart ETags are computed with.

Credentials: a delegate provider reads the botocore credentials object on every signing, so
the refreshing role session keeps working when it is refreshed mid-publish. The URL (scheme,
host, path-style or virtual-hosted addressing, custom endpoint) is the one botocore resolves
for the bucket: one presigned URL, built locally, gives it.

``transfer: auto`` uses this path when awscrt is importable; the first upload is the probe:
if the server refuses the CRT's request for a reason botocore would not meet (a signature or
protocol mismatch, a transport failure), that upload and the rest of the publish go through
the fallback instead, and the reason is logged.
"""

from __future__ import annotations

import heapq
import logging
import os
import queue
import random
import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from mkdocs_s3_crossaccount.aws.transfer import Transfer
from mkdocs_s3_crossaccount.core.destination import Batch, Progress
from mkdocs_s3_crossaccount.core.errors import PublishError
from mkdocs_s3_crossaccount.core.headers import Body
from mkdocs_s3_crossaccount.core.inventory import MULTIPART_CHUNKSIZE, MULTIPART_THRESHOLD, gzipped_body
from mkdocs_s3_crossaccount.core.model import clean_etag
from mkdocs_s3_crossaccount.core.plan import Upload

if TYPE_CHECKING:
    from mkdocs_s3_crossaccount.aws.destination import S3Destination

log = logging.getLogger("mkdocs.plugins.s3_crossaccount")

# What ``transfer: auto`` picks, when set (crt or botocore): the test suite runs every test on
# one path with it; users normally set the ``transfer`` option instead.
TRANSFER_ENV = "MKDOCS_S3_CROSSACCOUNT_TRANSFER"
TRANSFER_CHOICES = ("auto", "crt", "botocore")

# botocore parameter name -> HTTP header; every header an upload may carry must be here
_HTTP_HEADERS = {
    "ContentType": "Content-Type",
    "CacheControl": "Cache-Control",
    "ContentEncoding": "Content-Encoding",
    "WebsiteRedirectLocation": "x-amz-website-redirect-location",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
}
# Error codes that mean "this server does not take the CRT's request", not "you may not":
# with ``auto`` the upload is retried through botocore and the publish continues there.
_INCOMPATIBLE_CODES = frozenset(
    {
        "SignatureDoesNotMatch",
        "XAmzContentSHA256Mismatch",
        "NotImplemented",
        "InvalidRequest",
        "InvalidArgument",
        "MissingContentLength",
        "AuthorizationHeaderMalformed",
        "InvalidDigest",
        "BadDigest",
    }
)
# CRT errors that stand for a server answer after the CRT's retries ran out (no status is kept)
_CRT_SERVER_ERRORS = {
    "AWS_ERROR_S3_INTERNAL_ERROR": ("InternalError", 500, "We encountered an internal error. Please try again."),
    "AWS_ERROR_S3_SLOW_DOWN": ("SlowDown", 503, "Please reduce your request rate."),
}
RETRIES = 5  # the CRT's own retries, only with an awscrt too old to hand retries to us (no S3RetryMode)
# What is retried (our retry loop, the same classes as botocore's standard mode): HTTP statuses and
# S3 error codes of throttling and transient faults; a request that got no answer (status None) too.
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "BandwidthLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "InternalError",
    }
)
MAX_BACKOFF = 20.0  # seconds, botocore's cap
_PROBE_REL = ".mkdocs-s3-crossaccount/endpoint-probe"  # presigned only, never sent


def available() -> bool:
    """awscrt is installed. Cheap (no import: loading the native library costs ~0.1 s, which a
    publish with nothing to upload should not pay); whether it loads is found at the first upload."""
    import importlib.util

    try:
        return importlib.util.find_spec("awscrt") is not None
    except (ImportError, ValueError):
        return False


def choose(mode: str) -> str:
    """The transfer path a publish uses: ``crt`` or ``botocore`` (``auto`` resolved)."""
    forced = os.environ.get(TRANSFER_ENV, "").strip().lower()  # a test/diagnostic override of any mode
    if forced in ("crt", "botocore"):
        mode = forced
    if mode == "botocore":
        return "botocore"
    if mode == "crt":
        if not available():
            raise PublishError(
                "transfer: crt needs the AWS Common Runtime (awscrt), which is not installed or does not load.",
                "Install it (pip install awscrt), or set transfer: auto (or botocore).",
            )
        return "crt"
    return "crt" if available() else "botocore"


@dataclass(frozen=True)
class Endpoint:
    """Where requests for the bucket go, as botocore resolves it."""

    scheme: str  # http or https
    host: str  # Host header: name[:port]
    base_path: str  # "/bucket/" (path-style) or "/" (virtual-hosted)

    def path(self, key: str) -> str:
        """The request path of ``key``, percent-encoded as botocore encodes it."""
        return self.base_path + quote(key, safe="/~")


def resolve_endpoint(s3: Any, bucket: str, key: str) -> Endpoint:
    """Scheme, host and addressing style for ``bucket``, from one URL presigned locally (no request)
    for ``key``, a key under the destination's prefix (so even the presign stays inside what a
    least-privilege policy allows)."""
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=60)
    parts = urlsplit(url)
    tail = quote(key, safe="/~")
    if not parts.path.endswith(tail):
        raise PublishError(f"Cannot tell the request path for s3://{bucket} from the endpoint ({parts.netloc}).")
    return Endpoint(parts.scheme, parts.netloc, parts.path[: -len(tail)])


class _Outcome:
    """What one CRT request ended with (filled on a CRT thread, read on ours)."""

    __slots__ = ("error", "error_body", "etag", "request", "status", "upload", "version_id")

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        self.etag = ""
        self.version_id = ""  # x-amz-version-id, when bucket versioning is on (rollback needs it)
        self.status: int | None = None
        self.error: BaseException | None = None
        self.error_body: bytes | None = None
        self.request: Any = None


class CrtTransfer:
    """Uploads small files through awscrt's S3 client; big ones through ``fallback``.

    Nothing native is created until the first upload: a publish with nothing to upload
    pays nothing for this path.
    """

    name = "crt"

    def __init__(
        self,
        dest: S3Destination,
        *,
        credentials: Any,
        region: str,
        concurrency: int,
        fallback: Transfer,
        probe: bool = False,
    ) -> None:
        """``dest`` gives the botocore client (its endpoint and addressing are used), the bucket,
        owner and error translation; ``credentials`` is the botocore credentials object
        (refreshing); ``probe``: fall back to ``fallback`` for the rest of the publish if the
        first request shows the server does not take the CRT's.
        """
        self.dest = dest
        self.concurrency = concurrency
        self.fallback = fallback
        self._credentials = credentials
        self._region = region
        self._probe = probe
        self._switched = False
        self._client: Any = None
        self._endpoint: Endpoint | None = None
        self._own_retries = False  # set when the native client is made: retries are ours (counted)
        self.max_attempts = dest.max_attempts  # AWS_MAX_ATTEMPTS / the profile's / our default, as botocore
        self.sleep = time.sleep

    @property
    def endpoint(self) -> Endpoint:
        """Where the requests go (resolved once, on first use)."""
        if self._endpoint is None:
            self._endpoint = resolve_endpoint(self.dest.client, self.dest.bucket, self.dest.key(_PROBE_REL))
        return self._endpoint

    def _native(self) -> Any:
        """The CRT S3 client, made on first use."""
        if self._client is not None:
            return self._client
        import awscrt.s3
        from awscrt.auth import AwsCredentials, AwsCredentialsProvider
        from awscrt.io import ClientBootstrap, DefaultHostResolver, EventLoopGroup
        from awscrt.s3 import S3Client, S3RequestTlsMode, S3RetryConfig, create_default_s3_signing_config

        credentials = self._credentials

        def current_credentials() -> AwsCredentials:
            # botocore refreshes the role session here when it is near expiry
            frozen = credentials.get_frozen_credentials()
            return AwsCredentials(frozen.access_key, frozen.secret_key, frozen.token)

        provider = AwsCredentialsProvider.new_delegate(current_credentials)
        elg = EventLoopGroup(num_threads=min(2, os.cpu_count() or 1))
        bootstrap = ClientBootstrap(elg, DefaultHostResolver(elg))
        tls = S3RequestTlsMode.ENABLED if self.endpoint.scheme == "https" else S3RequestTlsMode.DISABLED
        make_client: Any = S3Client  # the installed stubs may predate connect_timeout_ms
        retry_mode: Any = getattr(awscrt.s3, "S3RetryMode", None)
        if retry_mode is not None:  # we retry, so that retries are counted and max_attempts is honoured
            retry_config: Any = S3RetryConfig(retry_mode=retry_mode.NONE)
            self._own_retries = True
        else:
            retry_config = S3RetryConfig(max_retries=RETRIES)
        self._client = make_client(
            bootstrap=bootstrap,
            region=self._region,
            signing_config=create_default_s3_signing_config(region=self._region, credential_provider=provider),
            tls_mode=tls,
            part_size=MULTIPART_CHUNKSIZE,
            multipart_upload_threshold=MULTIPART_THRESHOLD,
            max_active_connections_override=self.concurrency,
            retry_config=retry_config,
            connect_timeout_ms=10_000,
        )
        return self._client

    # -- the protocol ---------------------------------------------------------------------
    def upload_many(self, uploads: Sequence[Upload], on_done: Progress) -> Batch:
        small = [u for u in uploads if u.file.upload_size < MULTIPART_THRESHOLD]
        big = [u for u in uploads if u.file.upload_size >= MULTIPART_THRESHOLD]
        batch = Batch()
        if big:  # started first, as before: a large file should not start last and hold the phase up
            _merge(batch, self.fallback.upload_many(big, on_done))
            if batch.errors:
                return batch
        if small and not self._switched:
            try:
                self._native()
            except (ImportError, OSError) as exc:  # installed but does not load (e.g. a broken wheel)
                if not self._probe:
                    err = PublishError(
                        f"transfer: crt cannot load the AWS Common Runtime (awscrt): {type(exc).__name__}: {exc}",
                        "Reinstall awscrt (pip install --force-reinstall awscrt), or set transfer: auto or botocore.",
                    )
                    batch.errors.append((small[0], err))
                    return batch
                self._switched, self._probe, self.name = True, False, "botocore"
                log.info("The AWS Common Runtime (awscrt) does not load (%s); uploading with botocore", exc)
        if self._switched:
            _merge(batch, self.fallback.upload_many(small, on_done))
            return batch
        if self._probe and small:
            first, small = small[0], small[1:]
            outcome = self._run([first], on_done, batch, probing=True)
            if outcome is not None:  # the server does not take the CRT's request: botocore from here on
                self._switch(outcome)
                _merge(batch, self.fallback.upload_many([first, *small], on_done))
                return batch
            self._probe = False
            if batch.errors:
                return batch
        self._run(small, on_done, batch, probing=False)
        return batch

    def close(self) -> None:
        self._client = None  # the native client shuts down when the last reference goes
        self.fallback.close()

    # -- internals --------------------------------------------------------------------------
    def _switch(self, outcome: _Outcome) -> None:
        self._switched = True
        self._probe = False
        self.name = "botocore"  # what reports name from here on
        log.info(
            "The server did not accept the AWS Common Runtime's upload of %s (%s); uploading with botocore instead "
            "(set transfer: botocore to skip the attempt).",
            outcome.upload.file.key,
            _describe(outcome),
        )

    def _run(self, uploads: Sequence[Upload], on_done: Progress, batch: Batch, *, probing: bool) -> _Outcome | None:
        """Send ``uploads``; a bounded number in flight, throttled and transient failures retried
        (counted in ``batch.retries``) after a backoff, up to ``max_attempts`` in all. With
        ``probing``, an incompatible failure is returned (not recorded) so the caller can switch paths."""
        finished: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()
        in_flight = 0
        limit = 2 * self.concurrency
        failed = False
        pending = iter(uploads)
        attempts: dict[str, int] = {}
        waiting: list[tuple[float, int, Upload]] = []  # (when, tie-break, upload): retries due later

        def settle(outcome: _Outcome) -> _Outcome | None:
            nonlocal failed
            outcome.request = None  # release the finished request (its native buffers) now
            up = outcome.upload
            if outcome.error is None and outcome.status is not None and 200 <= outcome.status < 300:
                batch.done.append(up)
                if outcome.etag:
                    batch.etags[up.file.key] = outcome.etag
                if outcome.version_id:
                    batch.version_ids[up.file.key] = outcome.version_id
                on_done(up)
                return None
            if probing and _incompatible(outcome):
                return outcome
            tried = attempts.get(up.file.key, 1)
            if self._own_retries and _retryable(outcome) and tried < self.max_attempts:
                attempts[up.file.key] = tried + 1
                batch.retries += 1
                heapq.heappush(waiting, (time.monotonic() + backoff(tried), len(attempts) + batch.retries, up))
                return None
            failed = True
            waiting.clear()  # the batch has failed: what waits for a retry is not sent again
            batch.errors.append((up, self._translate(outcome)))
            return None

        def start(up: Upload) -> bool:
            nonlocal failed, in_flight
            try:
                self._start(up, finished)
            except Exception as exc:  # a local failure (unreadable gzip source, bad header)
                failed = True
                waiting.clear()
                batch.errors.append((up, self.dest.translate(exc, up, "upload to")))
                return False
            in_flight += 1
            return True

        incompatible: _Outcome | None = None
        exhausted = False
        while True:
            while not failed and waiting and waiting[0][0] <= time.monotonic() and in_flight < limit:
                start(heapq.heappop(waiting)[2])
            while not failed and not exhausted and in_flight < limit:
                up = next(pending, None)
                if up is None:
                    exhausted = True
                    break
                if not start(up):
                    break
            if in_flight == 0:
                if failed or not waiting:
                    break
                self.sleep(max(0.0, waiting[0][0] - time.monotonic()))
                continue
            timeout = max(0.0, waiting[0][0] - time.monotonic()) if waiting else None
            try:
                got_outcome = finished.get(timeout=timeout)
            except queue.Empty:
                continue
            in_flight -= 1
            got = settle(got_outcome)
            if got is not None:
                incompatible = got
        return incompatible

    def _start(self, up: Upload, finished: queue.SimpleQueue[_Outcome]) -> None:
        from awscrt.http import HttpHeaders, HttpRequest
        from awscrt.s3 import S3RequestType

        outcome = _Outcome(up)
        headers = HttpHeaders()
        headers.add("Host", self.endpoint.host)
        for name, value in up.file.headers:
            http_name = _HTTP_HEADERS.get(name)
            if http_name is None:
                raise ValueError(f"header {name} has no HTTP mapping in the CRT transfer")
            headers.add(http_name, value)
        headers.add("x-amz-expected-bucket-owner", self.dest.owner)
        send_filepath: str | None = None
        body: Any = None
        if up.file.body == Body.GZIP:
            with gzipped_body(up.file.path) as spool:
                data = spool.read()
            headers.add("Content-Length", str(len(data)))
            import io

            body = io.BytesIO(data)
        elif up.file.body == Body.EMPTY:
            headers.add("Content-Length", "0")
            import io

            body = io.BytesIO(b"")
        else:
            headers.add("Content-Length", str(up.file.size))
            send_filepath = up.file.path
        request = HttpRequest("PUT", self.endpoint.path(up.file.key), headers, body)

        def on_headers(status_code: int, headers: list[tuple[str, str]], **kwargs: Any) -> None:
            outcome.status = status_code
            for name, value in headers:
                if name.lower() == "etag":
                    outcome.etag = clean_etag(value)
                elif name.lower() == "x-amz-version-id" and value != "null":
                    outcome.version_id = value

        def on_done(
            error: BaseException | None = None,
            error_body: bytes | None = None,
            status_code: int | None = None,
            **kwargs: Any,
        ) -> None:
            outcome.error = error
            outcome.error_body = error_body
            if status_code is not None:
                outcome.status = status_code
            finished.put(outcome)

        make_request: Any = self._native().make_request
        outcome.request = make_request(
            type=S3RequestType.PUT_OBJECT,
            request=request,
            send_filepath=send_filepath,
            on_headers=on_headers,
            on_done=on_done,
        )

    def _translate(self, outcome: _Outcome) -> PublishError:
        return self.dest.translate(_as_botocore(outcome, self.endpoint), outcome.upload, "upload to")


def _merge(into: Batch, other: Batch) -> None:
    into.done.extend(other.done)
    into.etags.update(other.etags)
    into.version_ids.update(other.version_ids)
    into.errors.extend(other.errors)
    into.retries += other.retries


def _error_code(outcome: _Outcome) -> tuple[str, str]:
    """Code and message of an S3 error body (XML), or ('', '')."""
    if not outcome.error_body:
        return "", ""
    try:
        root = ET.fromstring(outcome.error_body)
    except ET.ParseError:
        return "", ""
    return (root.findtext("Code") or "").strip(), (root.findtext("Message") or "").strip()


def _server_error(outcome: _Outcome) -> tuple[str, int, str] | None:
    return _CRT_SERVER_ERRORS.get(str(getattr(outcome.error, "name", "")))


def _retryable(outcome: _Outcome) -> bool:
    """A throttled or transient failure, or no answer at all: worth another attempt."""
    if _server_error(outcome) is not None or outcome.status is None:
        return True
    code, _ = _error_code(outcome)
    return outcome.status in _RETRY_STATUSES or code in _RETRY_CODES


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): full jitter up to 2^(attempt-1) s, at most 20 s
    (botocore's standard mode)."""
    return random.random() * min(MAX_BACKOFF, 2.0 ** (attempt - 1))


def _incompatible(outcome: _Outcome) -> bool:
    if _server_error(outcome) is not None:
        return False
    if outcome.status is None:  # no HTTP answer: a transport failure; botocore may do better
        return True
    code, _ = _error_code(outcome)
    if code in _INCOMPATIBLE_CODES:
        return True
    return not code and outcome.status >= 400 and outcome.status not in (403, 404)


def _describe(outcome: _Outcome) -> str:
    code, message = _error_code(outcome)
    if code:
        return f"HTTP {outcome.status} {code}: {message}".rstrip(": ")
    if outcome.status is not None:
        return f"HTTP {outcome.status}"
    return f"{type(outcome.error).__name__}: {outcome.error}"


def _as_botocore(outcome: _Outcome, endpoint: Endpoint) -> BaseException:
    """The CRT's failure as the botocore exception ``diagnose`` knows (same messages both paths)."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    server = _server_error(outcome)
    if server is not None:
        code, status, message = server
        answer: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return ClientError(answer, "PutObject")
    if outcome.status is None:
        detail = getattr(outcome.error, "name", None) or type(outcome.error).__name__
        return EndpointConnectionError(endpoint_url=f"{endpoint.scheme}://{endpoint.host} ({detail})")
    code, message = _error_code(outcome)
    response: Any = {
        "Error": {"Code": code or str(outcome.status), "Message": message or f"HTTP {outcome.status}"},
        "ResponseMetadata": {"HTTPStatusCode": outcome.status},
    }
    return ClientError(response, "PutObject")


def attach(dest: S3Destination, mode: str, *, credentials: Any, region: str, concurrency: int) -> str:
    """Give ``dest`` the transfer path ``mode`` (auto, crt, botocore) resolves to; returns its name."""
    if choose(mode) != "crt":
        return "botocore"
    from mkdocs_s3_crossaccount.aws.botocore_transfer import BotocoreTransfer

    dest.use_transfer(
        CrtTransfer(
            dest,
            credentials=credentials,
            region=region,
            concurrency=concurrency,
            fallback=BotocoreTransfer(dest, concurrency),
            probe=mode == "auto" and not os.environ.get(TRANSFER_ENV),
        )
    )
    return "crt"
