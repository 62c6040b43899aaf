"""A fault-injecting HTTP proxy that sits between a client under test and moto.

The proxy listens on ``127.0.0.1`` (a free port), runs in background threads of
the test process and forwards every request to an upstream server (a moto
server URL). Tests reconfigure it at run time::

    with FaultProxy(moto.url) as proxy:
        proxy.add_fault(slow_down(), Match(method="PUT", kind="object"), first=1)
        s3 = dev_client("s3", proxy.url)        # point the client at proxy.url
        ...
        assert proxy.faults_injected["SlowDown"] == 1

Faults (see :meth:`FaultProxy.add_fault`): :class:`ErrorResponse` (S3 XML error
such as 500 ``InternalError`` or 503 ``SlowDown``), :class:`ResetConnection`
(TCP RST without a response, before or after the request body, or after the
upstream already applied the request), :class:`Delay` and :class:`StopServer`
("the server died": everything is reset or refused until :meth:`FaultProxy.resume`).

Each fault rule has a :class:`Match` (method / path regex / query regex /
request kind / bucket) and a selector: every matching request (default),
``nth=N`` (only the Nth), ``every=K`` (K-th, 2K-th, ...), ``first=N`` (the first
N, then pass), ``after=N`` (the Nth and all later), optionally combined with
``probability=P`` drawn from ``random.Random(seed)``. Every rule counts every
matching request it sees (independently of other rules); when several rules
fire for one request, the one added first wins.

:meth:`FaultProxy.enforce_bucket_owner` emulates S3's ``ExpectedBucketOwner``
check (moto ignores it): requests to a listed bucket without the
``x-amz-expected-bucket-owner`` header or with another account get 403
``AccessDenied``; every such request is recorded in
:attr:`FaultProxy.owner_violations`.

Request kinds: ``"service"`` (S3 ``GET /``), ``"bucket"`` (``/BUCKET`` with or
without a query), ``"object"`` (``/BUCKET/KEY``, multipart parts included),
``"moto-api"``, or the signing service name of non-S3 requests (``"sts"``,
``"iam"``...). Buckets are found path-style; virtual-host style is recognised
for ``BUCKET.localhost`` hosts and for buckets passed to
:meth:`FaultProxy.enforce_bucket_owner`.

HTTP handling: HTTP/1.1 keep-alive towards the client, ``Expect: 100-continue``
(the proxy answers ``100 Continue`` itself when it starts reading the body, so
a fault can answer before the body is sent), ``Content-Length`` and
``Transfer-Encoding: chunked`` request bodies (re-chunked upstream, trailers
kept, so ``aws-chunked`` payloads pass byte for byte), streamed bodies in both
directions, HEAD/204/304 without bodies. One upstream connection per request
(``Connection: close``); the ``Host`` header is passed unchanged so SigV4
signatures stay valid.
"""

from __future__ import annotations

import collections
import contextlib
import http.client
import random
import re
import socket
import struct
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from typing_extensions import Self

HOST = "127.0.0.1"
_COPY_SIZE = 64 * 1024
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)
_RESPONSE_HOP_BY_HOP = _HOP_BY_HOP | {"trailer"}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")

# --- configuration objects -------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Which requests a fault rule applies to. ``None`` fields match anything.

    ``method``: one method or a tuple of methods (case-insensitive).
    ``path``: regex searched (``re.search``) in the request path as sent
    (percent-encoded, without the query). ``query``: regex searched in the raw
    query string (``""`` if none), e.g. ``r"(^|&)uploads(=|&|$)"``. ``kind``:
    one request kind or a tuple. ``bucket``: exact bucket name.
    """

    method: str | tuple[str, ...] | None = None
    path: str | None = None
    query: str | None = None
    kind: str | tuple[str, ...] | None = None
    bucket: str | None = None

    def matches(self, request: RequestRecord) -> bool:
        if self.method is not None:
            methods = (self.method,) if isinstance(self.method, str) else self.method
            if request.method.upper() not in {m.upper() for m in methods}:
                return False
        if self.kind is not None:
            kinds = (self.kind,) if isinstance(self.kind, str) else self.kind
            if request.kind not in kinds:
                return False
        if self.bucket is not None and request.bucket != self.bucket:
            return False
        if self.path is not None and not re.search(self.path, request.path):
            return False
        return self.query is None or re.search(self.query, request.query) is not None


#: PutObject and UploadPart requests.
PUT_OBJECT = Match(method="PUT", kind="object")
#: Every request that addresses a bucket or an object in it.
ANY_BUCKET_REQUEST = Match(kind=("bucket", "object"))


@dataclass(frozen=True)
class ErrorResponse:
    """Answer with an S3 XML error instead of forwarding.

    With ``read_body=True`` the request body is read (and dropped) first and
    the connection stays open; with ``False`` the error is sent before the body
    (no ``100 Continue``) and the connection is closed afterwards. ``style``
    ``"query"`` sends the body STS and IAM use (``<ErrorResponse><Error>…``);
    ``"raw"`` sends ``message`` itself as the body (any status, 200 included:
    a server that answers something else than what the client asked for).
    """

    status: int = 500
    code: str = "InternalError"
    message: str = "We encountered an internal error. Please try again."
    read_body: bool = True
    style: Literal["s3", "query", "raw"] = "s3"

    @property
    def label(self) -> str:
        return self.code


def internal_error(*, read_body: bool = True) -> ErrorResponse:
    """500 ``InternalError``."""
    return ErrorResponse(500, "InternalError", read_body=read_body)


def slow_down(*, read_body: bool = True) -> ErrorResponse:
    """503 ``SlowDown`` (S3's throttling error)."""
    return ErrorResponse(503, "SlowDown", "Please reduce your request rate.", read_body=read_body)


@dataclass(frozen=True)
class ResetConnection:
    """Close the client connection with a TCP RST and no response.

    ``when``: ``"before_body"`` (nothing read, nothing forwarded),
    ``"after_body"`` (body read, not forwarded) or ``"after_upstream"`` (the
    request was forwarded and applied by upstream; only the response is lost).
    """

    when: Literal["before_body", "after_body", "after_upstream"] = "before_body"

    @property
    def label(self) -> str:
        return "reset"


@dataclass(frozen=True)
class Delay:
    """Wait ``seconds`` before forwarding (default) or, with
    ``after_upstream=True``, after upstream answered and before the response
    goes back to the client. Waits end early when the proxy is closed."""

    seconds: float
    after_upstream: bool = False

    @property
    def label(self) -> str:
        return "delay"


@dataclass(frozen=True)
class StopServer:
    """From this request on the "server is down" until :meth:`FaultProxy.resume`.

    ``mode="reset"``: connections are accepted and reset at once (open
    keep-alive connections are shut down too). ``mode="refuse"``: additionally
    the listening socket is closed so new connections are refused; ``resume``
    listens on the same port again.
    """

    mode: Literal["reset", "refuse"] = "reset"

    @property
    def label(self) -> str:
        return "stop"


@dataclass(frozen=True)
class Act:
    """Run ``action`` when the request's headers have arrived, then forward it unchanged: something
    happening elsewhere while a request is on the wire, whatever client sends it."""

    action: Callable[[], None]

    @property
    def label(self) -> str:
        return "act"


Fault = ErrorResponse | ResetConnection | Delay | StopServer | Act


class Rule:
    """A fault plus a :class:`Match` and a selector; returned by ``add_fault``.

    ``seen`` counts matching requests, ``injected`` the times the fault fired
    (as the winning rule).
    """

    def __init__(
        self,
        fault: Fault,
        match: Match | None = None,
        *,
        nth: int | None = None,
        every: int | None = None,
        first: int | None = None,
        after: int | None = None,
        probability: float | None = None,
        seed: int = 0,
    ) -> None:
        selectors = [s for s in (nth, every, first, after) if s is not None]
        if len(selectors) > 1:
            raise ValueError("use at most one of nth, every, first, after")
        if any(s < 1 for s in selectors):
            raise ValueError("nth/every/first/after count from 1")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        self.fault = fault
        self.match = match or Match()
        self.nth = nth
        self.every = every
        self.first = first
        self.after = after
        self.probability = probability
        self._rng = random.Random(seed)
        self.seen = 0
        self.injected = 0

    def __repr__(self) -> str:
        return (
            f"Rule({self.fault!r}, {self.match!r}, nth={self.nth}, every={self.every}, "
            f"first={self.first}, after={self.after}, probability={self.probability}, "
            f"seen={self.seen}, injected={self.injected})"
        )

    def _observe(self, request: RequestRecord) -> bool:
        """Count ``request`` if it matches; return whether the fault fires."""
        if not self.match.matches(request):
            return False
        self.seen += 1
        n = self.seen
        if self.nth is not None:
            fire = n == self.nth
        elif self.every is not None:
            fire = n % self.every == 0
        elif self.first is not None:
            fire = n <= self.first
        elif self.after is not None:
            fire = n >= self.after
        else:
            fire = True
        if fire and self.probability is not None:
            fire = self._rng.random() < self.probability
        return fire


# --- records ---------------------------------------------------------------


@dataclass
class RequestRecord:
    """One request as the proxy saw it. ``status`` is the status sent to the
    client (``None`` if the connection was reset); ``outcome`` is one of
    ``"forwarded"``, ``"fault"``, ``"owner-denied"``, ``"refused"`` (server
    stopped), ``"upstream-error"``, ``"client-gone"``."""

    seq: int
    method: str
    target: str
    path: str
    query: str
    kind: str
    service: str | None
    bucket: str | None
    key: str | None
    headers: tuple[tuple[str, str], ...]
    time: float
    fault: str | None = None
    status: int | None = None
    outcome: str = "pending"

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    @property
    def query_params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)


@dataclass(frozen=True)
class OwnerViolation:
    """A request to an enforced bucket without the right expected-owner header."""

    seq: int
    method: str
    target: str
    bucket: str
    expected: str
    header: str | None

    @property
    def reason(self) -> Literal["missing", "mismatch"]:
        return "missing" if self.header is None else "mismatch"


def s3_error_xml(code: str, message: str, resource: str = "") -> bytes:
    request_id = uuid.uuid4().hex[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId>"
        f"<HostId>faultproxy</HostId></Error>"
    ).encode()


def query_error_xml(code: str, message: str) -> bytes:
    """An error body as STS and IAM (the AWS query protocol) send it."""
    request_id = str(uuid.uuid4())
    return (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def classify(
    method: str, target: str, headers: Mapping[str, str], host_buckets: Iterable[str] = ()
) -> tuple[str, str, str, str | None, str | None, str | None]:
    """Return ``(path, query, kind, service, bucket, key)`` for a request."""
    parts = urlsplit(target)
    path, query = parts.path or "/", parts.query
    auth = headers.get("authorization") or ""
    scope = _CREDENTIAL_SCOPE.search(auth)
    if scope is None:
        scope = _CREDENTIAL_SCOPE.search("Credential=" + unquote(_query_value(query, "X-Amz-Credential")))
    service = scope.group(1) if scope else None
    if path.startswith("/moto-api"):
        return path, query, "moto-api", service, None, None
    if service is not None and service != "s3":
        return path, query, service, service, None, None
    hostname = (headers.get("host") or "").rsplit(":", 1)[0].lower()
    vhost_bucket: str | None = None
    if hostname.endswith(".localhost"):
        vhost_bucket = hostname[: -len(".localhost")]
    else:
        for name in host_buckets:
            if hostname.startswith(name.lower() + "."):
                vhost_bucket = name
                break
    if vhost_bucket:
        vkey = unquote(path[1:])
        return path, query, ("object" if vkey else "bucket"), service, vhost_bucket, vkey or None
    segments = path[1:].split("/", 1)
    if not segments[0]:
        return path, query, "service", service, None, None
    bucket = unquote(segments[0])
    key = unquote(segments[1]) if len(segments) > 1 and segments[1] else None
    return path, query, ("object" if key else "bucket"), service, bucket, key


def _query_value(query: str, name: str) -> str:
    for part in query.split("&"):
        k, _, v = part.partition("=")
        if k == name:
            return v
    return ""


# --- server ----------------------------------------------------------------


class _Aborted(Exception):
    """The client connection has been reset on purpose."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], proxy: FaultProxy) -> None:
        self.proxy = proxy
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        self.proxy._note_error(f"unhandled error for {client_address}:\n{traceback.format_exc()}")

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        if request.fileno() == -1:  # already closed by an abort
            return
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120.0
    server: _Server

    # -- plumbing --
    def setup(self) -> None:
        super().setup()
        self.proxy = self.server.proxy
        self.proxy._register(self)
        self._continue_sent = False
        self._body_done = True
        self._trailers = b""

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.proxy._unregister(self)

    def handle(self) -> None:
        try:
            if self.proxy._stopped is not None:
                self._abort()
            super().handle()
        except _Aborted:
            pass
        except (ConnectionError, TimeoutError, OSError) as exc:
            self.proxy._note_client_gone(exc)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass

    def handle_expect_100(self) -> bool:
        # Defer "100 Continue" until the body is actually read, so a fault can
        # answer (or reset) before the client sends the body.
        return True

    def _abort(self) -> None:
        """Reset the client connection: RST, no response."""
        self.close_connection = True
        conn = self.connection
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            self.rfile.close()
        conn.close()
        raise _Aborted

    # -- request body --
    def _expects_continue(self) -> bool:
        return (self.headers.get("Expect") or "").lower() == "100-continue"

    def _has_body(self) -> bool:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        return "chunked" in te or int(self.headers.get("Content-Length") or 0) > 0

    def _is_chunked(self) -> bool:
        return "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()

    def _body(self) -> Iterator[bytes]:
        """Yield the request body (de-chunked), sending 100 Continue first."""
        if not self._has_body():
            self._body_done = True
            return
        if self._expects_continue() and not self._continue_sent:
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._continue_sent = True
        if self._is_chunked():
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("client closed inside a chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    trailers = []
                    while True:
                        tline = self.rfile.readline(65537)
                        if tline in (b"\r\n", b"\n", b""):
                            break
                        trailers.append(tline)
                    self._trailers = b"".join(trailers)
                    break
                remaining = size
                while remaining:
                    data = self.rfile.read(min(_COPY_SIZE, remaining))
                    if not data:
                        raise ConnectionError("client closed inside a chunk")
                    remaining -= len(data)
                    yield data
                self.rfile.readline(65537)  # CRLF after the chunk
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                data = self.rfile.read(min(_COPY_SIZE, remaining))
                if not data:
                    raise ConnectionError("client closed inside the body")
                remaining -= len(data)
                yield data
        self._body_done = True

    def _drain_body(self) -> None:
        for _ in self._body():
            pass

    # -- responses --
    def _write_head(self, status: int, reason: str, headers: Iterable[tuple[str, str]]) -> None:
        lines = [f"HTTP/1.1 {status} {reason}\r\n"]
        lines.extend(f"{k}: {v}\r\n" for k, v in headers)
        if self.close_connection:
            lines.append("Connection: close\r\n")
        lines.append("\r\n")
        self.wfile.write("".join(lines).encode("latin-1"))

    def _send_simple(self, status: int, body: bytes, content_type: str = "application/xml") -> None:
        if not self._body_done:
            self.close_connection = True
        reason = http.client.responses.get(status, "Error")
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("x-amz-request-id", uuid.uuid4().hex[:16].upper()),
            ("Date", self.date_time_string()),
            ("Server", "faultproxy"),
        ]
        self._write_head(status, reason, headers)
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    # -- the proxying --
    def do_GET(self) -> None:
        self._proxy()

    do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = do_PATCH = do_GET

    def _proxy(self) -> None:
        proxy = self.proxy
        self._body_done = not self._has_body()
        self._continue_sent = False
        self._trailers = b""
        record, fault, violation = proxy._admit(self, self.command, self.path, self.headers.items())
        if fault is None and proxy._stopped is not None:
            record.outcome = "refused"
            self._abort()

        if isinstance(fault, StopServer):
            self._abort()
        if isinstance(fault, ResetConnection) and fault.when == "before_body":
            self._abort()
        if isinstance(fault, Act):
            fault.action()
        if isinstance(fault, Delay) and not fault.after_upstream:
            proxy._sleep(fault.seconds)
            if proxy._closing.is_set():
                self._abort()
        if isinstance(fault, ErrorResponse):
            if fault.read_body:
                self._drain_body()
            else:
                self.close_connection = True
            record.status = fault.status
            if fault.style == "raw":
                body = fault.message.encode()
            elif fault.style == "query":
                body = query_error_xml(fault.code, fault.message)
            else:
                body = s3_error_xml(fault.code, fault.message, record.path)
            self._send_simple(fault.status, body)
            return
        if isinstance(fault, ResetConnection) and fault.when == "after_body":
            self._drain_body()
            self._abort()
        if violation is not None and proxy._owner_reject:
            record.outcome = "owner-denied"
            record.status = 403
            self.close_connection = self.close_connection or not self._body_done
            message = "Access Denied"
            self._send_simple(403, s3_error_xml("AccessDenied", message, record.path))
            return

        response, upstream = self._forward(record)
        if response is None or upstream is None:
            return
        try:
            if isinstance(fault, ResetConnection):  # after_upstream
                response.read()
                self._abort()
            if isinstance(fault, Delay) and fault.after_upstream:
                proxy._sleep(fault.seconds)
                if proxy._closing.is_set():
                    self._abort()
            self._relay(response, record)
        finally:
            upstream.close()

    def _forward(
        self, record: RequestRecord
    ) -> tuple[http.client.HTTPResponse | None, http.client.HTTPConnection | None]:
        proxy = self.proxy
        upstream = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=proxy.upstream_timeout)
        chunked = self._is_chunked()
        try:
            upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            has_host = False
            for name, value in self.headers.items():
                lname = name.lower()
                if lname in _HOP_BY_HOP or (chunked and lname == "content-length"):
                    continue
                has_host = has_host or lname == "host"
                upstream.putheader(name, value)
            if not has_host:
                upstream.putheader("Host", f"{proxy.upstream_host}:{proxy.upstream_port}")
            if chunked:
                upstream.putheader("Transfer-Encoding", "chunked")
            upstream.putheader("Connection", "close")
            upstream.endheaders()
        except OSError as exc:
            upstream.close()
            record.outcome = "upstream-error"
            record.status = 502
            proxy._note_error(f"cannot reach upstream: {exc!r}")
            self.close_connection = True
            self._send_simple(502, f"upstream unreachable: {exc}".encode(), "text/plain")
            return None, None
        try:
            for data in self._body():
                if chunked:
                    upstream.send(b"%x\r\n%s\r\n" % (len(data), data))
                else:
                    upstream.send(data)
            if chunked:
                upstream.send(b"0\r\n" + self._trailers + b"\r\n")
            return upstream.getresponse(), upstream
        except (OSError, http.client.HTTPException) as exc:
            upstream.close()
            if not self._body_done:  # the client went away mid-body
                record.outcome = "client-gone"
                raise
            record.outcome = "upstream-error"
            proxy._note_error(f"upstream failed during {record.method} {record.target}: {exc!r}")
            self._abort()
            raise  # not reached: _abort raises

    def _relay(self, response: http.client.HTTPResponse, record: RequestRecord) -> None:
        client_http10 = self.request_version == "HTTP/1.0"
        no_body = self.command == "HEAD" or response.status in (204, 304) or response.status < 200
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in _RESPONSE_HOP_BY_HOP]
        record.status = response.status
        record.outcome = record.outcome if record.outcome != "pending" else "forwarded"
        if no_body:
            self._write_head(response.status, response.reason, headers)
            return
        if response.chunked and not client_http10:
            self._write_head(response.status, response.reason, [*headers, ("Transfer-Encoding", "chunked")])
            while data := response.read1(_COPY_SIZE):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
            return
        if response.length is None:  # chunked for an HTTP/1.0 client, or close-delimited
            body = response.read()
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
            self._write_head(response.status, response.reason, headers)
            self.wfile.write(body)
            return
        self._write_head(response.status, response.reason, headers)
        while data := response.read(_COPY_SIZE):
            self.wfile.write(data)


class FaultProxy:
    """See the module docstring. Start with :meth:`start` or ``with``."""

    def __init__(self, upstream: str, *, upstream_timeout: float = 60.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, got {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.upstream_host: str = parts.hostname
        self.upstream_port: int = parts.port or 80
        self.upstream_timeout = upstream_timeout
        self.port = 0
        self._lock = threading.RLock()
        self._closing = threading.Event()
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None
        self._closer: threading.Thread | None = None
        self._handlers: set[_Handler] = set()
        self._rules: list[Rule] = []
        self._stopped: Literal["reset", "refuse"] | None = None
        self._owners: dict[str, str] = {}
        self._owner_reject = True
        self._seq = 0
        self._requests: list[RequestRecord] = []
        self._violations: list[OwnerViolation] = []
        self._errors: list[str] = []
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()
        self.faults_injected: collections.Counter[str] = collections.Counter()
        self.client_disconnects = 0

    # -- lifecycle --
    @property
    def url(self) -> str:
        if not self.port:
            raise RuntimeError("proxy not started")
        return f"http://{HOST}:{self.port}"

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("already started")
        self._closing.clear()
        self._listen(0)
        return self

    def _listen(self, port: int) -> None:
        server = _Server((HOST, port), self)
        self.port = server.server_address[1]
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"faultproxy-{self.port}",
            daemon=True,
        )
        self._server, self._serve_thread = server, thread
        thread.start()

    def _close_listener(self) -> None:
        server, thread = self._server, self._serve_thread
        self._server = self._serve_thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)

    def close(self, timeout: float = 5.0) -> None:
        """Stop listening, reset open connections, wake delays; bounded."""
        self._closing.set()
        if self._closer is not None:
            self._closer.join(timeout)
            self._closer = None
        self._close_listener()
        self._shutdown_connections()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._handlers:
                    break
            time.sleep(0.02)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _register(self, handler: _Handler) -> None:
        with self._lock:
            self._handlers.add(handler)

    def _unregister(self, handler: _Handler) -> None:
        with self._lock:
            self._handlers.discard(handler)

    def _shutdown_connections(self, keep: _Handler | None = None) -> None:
        with self._lock:
            handlers = [h for h in self._handlers if h is not keep]
        for handler in handlers:
            with contextlib.suppress(OSError):
                handler.connection.shutdown(socket.SHUT_RDWR)

    def _sleep(self, seconds: float) -> None:
        self._closing.wait(seconds)

    def _note_error(self, message: str) -> None:
        with self._lock:
            self._errors.append(message)

    def _note_client_gone(self, exc: BaseException) -> None:
        with self._lock:
            self.client_disconnects += 1

    # -- faults --
    def add_fault(
        self,
        fault: Fault,
        match: Match | None = None,
        *,
        nth: int | None = None,
        every: int | None = None,
        first: int | None = None,
        after: int | None = None,
        probability: float | None = None,
        seed: int = 0,
    ) -> Rule:
        """Inject ``fault`` into requests selected by ``match`` and the selector."""
        rule = Rule(
            fault,
            match,
            nth=nth,
            every=every,
            first=first,
            after=after,
            probability=probability,
            seed=seed,
        )
        with self._lock:
            self._rules.append(rule)
        return rule

    def remove_fault(self, rule: Rule) -> None:
        with self._lock:
            self._rules.remove(rule)

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    @property
    def stopped(self) -> bool:
        return self._stopped is not None

    def stop_now(self, mode: Literal["reset", "refuse"] = "reset") -> None:
        """Enter "server is down" mode immediately (see :class:`StopServer`)."""
        with self._lock:
            self._enter_stopped(mode, keep=None)
        if self._closer is not None:
            self._closer.join(5)

    def _enter_stopped(self, mode: Literal["reset", "refuse"], keep: _Handler | None) -> None:
        if self._stopped is not None:
            return
        self._stopped = mode
        self._shutdown_connections(keep=keep)
        if mode == "refuse":
            # A handler thread may be the caller: close the listener elsewhere.
            self._closer = threading.Thread(target=self._close_listener, daemon=True)
            self._closer.start()

    def resume(self) -> None:
        """Leave "server is down" mode; listen again on the same port if needed."""
        with self._lock:
            mode, closer = self._stopped, self._closer
        if closer is not None:
            closer.join(10)
        with self._lock:
            self._closer = None
            if mode == "refuse" and self._server is None and not self._closing.is_set():
                self._listen(self.port)
            self._stopped = None

    # -- owner enforcement --
    def enforce_bucket_owner(self, owners: Mapping[str, str], *, reject: bool = True) -> None:
        """Require ``x-amz-expected-bucket-owner: owners[bucket]`` on requests to
        those buckets. Violations are recorded; with ``reject`` they are
        answered 403 AccessDenied without forwarding. ``{}`` turns it off.

        Only bucket and object requests are checked, all of them (CreateBucket
        included, which takes no expected owner on AWS): create buckets
        directly on moto or before enabling this."""
        with self._lock:
            self._owners = dict(owners)
            self._owner_reject = reject

    @property
    def owner_violations(self) -> list[OwnerViolation]:
        with self._lock:
            return list(self._violations)

    # -- observation --
    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._requests)

    @property
    def errors(self) -> list[str]:
        """Unexpected proxy-side problems (upstream unreachable, handler crashes)."""
        with self._lock:
            return list(self._errors)

    def count(self, method: str | None = None, kind: str | None = None, *, match: Match | None = None) -> int:
        """Number of requests seen with ``method``/``kind`` (or matching ``match``)."""
        m = match or Match(method=method, kind=kind)
        return sum(1 for r in self.requests if m.matches(r))

    def reset_stats(self) -> None:
        """Forget recorded requests, counters and violations (rules keep theirs)."""
        with self._lock:
            self._requests.clear()
            self._violations.clear()
            self._errors.clear()
            self.counts.clear()
            self.faults_injected.clear()
            self.client_disconnects = 0

    def _admit(
        self, handler: _Handler | None, method: str, target: str, headers: Iterable[tuple[str, str]]
    ) -> tuple[RequestRecord, Fault | None, OwnerViolation | None]:
        with self._lock:
            owners = dict(self._owners)
        header_list = tuple(headers)
        lower = {k.lower(): v for k, v in header_list}
        path, query, kind, service, bucket, key = classify(method, target, lower, owners)
        with self._lock:
            self._seq += 1
            record = RequestRecord(
                seq=self._seq,
                method=method,
                target=target,
                path=path,
                query=query,
                kind=kind,
                service=service,
                bucket=bucket,
                key=key,
                headers=header_list,
                time=time.monotonic(),
            )
            self._requests.append(record)
            self.counts[(method, kind)] += 1
            if self._stopped is not None:
                return record, None, None
            fault: Fault | None = None
            for rule in self._rules:
                if rule._observe(record) and fault is None:
                    fault = rule.fault
                    rule.injected += 1
            if fault is not None:
                record.fault = fault.label
                record.outcome = "fault"
                self.faults_injected[fault.label] += 1
                if isinstance(fault, StopServer):
                    record.outcome = "refused"
                    self._enter_stopped(fault.mode, keep=handler)
            violation = None
            if bucket is not None and bucket in owners and kind in ("bucket", "object"):
                got = lower.get("x-amz-expected-bucket-owner")
                if got != owners[bucket]:
                    violation = OwnerViolation(record.seq, method, target, bucket, owners[bucket], got)
                    self._violations.append(violation)
            return record, fault, violation
