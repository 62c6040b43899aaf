"""A tiny static-website front for a bucket: the demo serves the published site with it, the
browser tests read pages through it (``tests/support/webfront.py`` imports it from here).

Serves ``GET``/``HEAD`` on ``127.0.0.1`` (free port) from an S3 endpoint
through a boto3 client: ``/`` and directory URLs (``/a/b/``) map to
``index.html`` under them, ``/a/b`` redirects to ``/a/b/`` when only
``a/b/index.html`` exists (as S3 website hosting does), and the object's
``Content-Type`` and ``Content-Encoding`` are passed through exactly as S3
returns them (absent stays absent), together with ``Content-Length``, ``ETag``,
``Last-Modified`` and ``Cache-Control``. The body is streamed unmodified
(gzip stays gzip; the browser decodes it). No caching. A missing key answers
404 with the site's own ``404.html`` (under the prefix) when there is one, as
an S3 website's error document would.

::

    with WebFront(docs_s3, "example-docs", prefix="docs/") as front:
        browser.open(front.url + "guide/")
        assert browser.title == "Guide"
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

HOST = "127.0.0.1"
PASSED_HEADERS = (
    "content-type",
    "content-encoding",
    "content-length",
    "content-language",
    "content-disposition",
    "cache-control",
    "etag",
    "last-modified",
)


@dataclass(frozen=True)
class FrontRequest:
    """One request the front answered: method, URL path, object key, status."""

    method: str
    path: str
    key: str
    status: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, front: WebFront) -> None:
        self.front = front
        super().__init__((HOST, front.port), _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60.0
    server: _Server

    def setup(self) -> None:
        """Track the connection, so :meth:`WebFront.close` can end idle keep-alive ones."""
        super().setup()
        self.server.front._track(self.connection, add=True)

    def finish(self) -> None:
        """Untrack the connection; a client that hung up is no error."""
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.front._track(self.connection, add=False)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the demo and the tests print their own lines."""
        pass

    def do_GET(self) -> None:
        """Serve the object for the URL, with its headers and body."""
        self._serve()

    def do_HEAD(self) -> None:
        """Serve the object's headers only."""
        self._serve()

    def _plain(self, status: int, text: str, extra: tuple[tuple[str, str], ...] = ()) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self) -> None:
        front = self.server.front
        path = urlsplit(self.path).path or "/"
        rel = unquote(path, encoding="utf-8", errors="strict")[1:]
        key = front.key_for(rel)
        try:
            obj = front.get(key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("NoSuchKey", "404"):
                front._note(self.command, path, key, 502)
                self._plain(502, f"S3 error {code} for {key}")
                return
            if rel and not rel.endswith("/") and front.exists(front.key_for(rel + "/")):
                front._note(self.command, path, key, 302)
                self._plain(302, "moved", (("Location", path + "/"),))
                return
            front._note(self.command, path, key, 404)
            error_page = front.error_document()
            if error_page is None:
                self._plain(404, f"not found: {key}")
            else:
                self._stream(404, error_page)
            return
        front._note(self.command, path, key, 200)
        self._stream(200, obj)

    def _stream(self, status: int, obj: dict[str, Any]) -> None:
        raw = obj["ResponseMetadata"].get("HTTPHeaders", {})
        body = obj["Body"]
        try:
            self.send_response(status)
            for name in PASSED_HEADERS:
                if name in raw:
                    self.send_header(name.title(), raw[name])
            if "content-length" not in raw:
                self.send_header("Content-Length", str(obj["ContentLength"]))
            self.end_headers()
            if self.command != "HEAD":
                for chunk in body.iter_chunks(64 * 1024):
                    self.wfile.write(chunk)
        finally:
            body.close()


class WebFront:
    """Serve ``bucket`` (under ``prefix``) through ``s3`` (a boto3 S3 client)."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        *,
        prefix: str = "",
        error_document: str | None = "404.html",
        expected_bucket_owner: str | None = None,
        port: int = 0,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.index = "index.html"
        self.error_document_key = error_document
        self.port = port
        self.expected_bucket_owner = expected_bucket_owner
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[FrontRequest] = []
        self._connections: set[socket.socket] = set()

    @property
    def url(self) -> str:
        """Base URL, ending in ``/``."""
        if self._server is None:
            raise RuntimeError("webfront not started")
        return f"http://{HOST}:{self._server.server_address[1]}/"

    def key_for(self, rel: str) -> str:
        """Object key for a decoded URL path without its leading ``/``."""
        if rel == "" or rel.endswith("/"):
            rel += self.index
        return self.prefix + rel

    def _owner_kwargs(self) -> dict[str, str]:
        return {"ExpectedBucketOwner": self.expected_bucket_owner} if self.expected_bucket_owner else {}

    def get(self, key: str) -> dict[str, Any]:
        """GetObject of ``key`` (with the expected owner when set)."""
        answer: dict[str, Any] = self.s3.get_object(Bucket=self.bucket, Key=key, **self._owner_kwargs())
        return answer

    def error_document(self) -> dict[str, Any] | None:
        """The ``404.html`` object under the prefix, or ``None``."""
        if not self.error_document_key:
            return None
        try:
            return self.get(self.prefix + self.error_document_key)
        except ClientError:
            return None

    def exists(self, key: str) -> bool:
        """Whether ``key`` exists (HeadObject)."""
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key, **self._owner_kwargs())
        except ClientError:
            return False
        return True

    @property
    def requests(self) -> list[FrontRequest]:
        """Every request answered so far, in order."""
        with self._lock:
            return list(self._requests)

    def _note(self, method: str, path: str, key: str, status: int) -> None:
        with self._lock:
            self._requests.append(FrontRequest(method, path, key, status))

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def start(self) -> WebFront:
        """Listen on 127.0.0.1 and serve in a daemon thread; returns ``self``."""
        if self._server is not None:
            raise RuntimeError("already started")
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and close the socket and idle connections."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections of the browser
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> WebFront:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
