"""The fault proxy against a real moto server: transparent when idle, each fault observable."""

from __future__ import annotations

import hashlib
import http.client
import os
import random
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from tests.support.faultproxy import (
    PUT_OBJECT,
    Delay,
    ErrorResponse,
    FaultProxy,
    Match,
    ResetConnection,
    StopServer,
    classify,
    internal_error,
    slow_down,
)
from tests.support.motoserver import DOCS_ACCOUNT_ID, MotoServer, dev_client, docs_client

BUCKET = "proxy-test-bucket"
# What botocore raises when the connection is reset or refused without a response.
CONNECTION_ERRORS = (ConnectionClosedError, EndpointConnectionError)


@pytest.fixture
def bucket(moto: MotoServer, aws_env: None) -> Any:
    """A bucket created directly on moto (not through the proxy); returns a direct client."""
    s3 = dev_client("s3", moto.url)
    s3.create_bucket(Bucket=BUCKET)
    return s3


def stored(direct: Any, key: str) -> bytes | None:
    """Object bytes as moto holds them, read without the proxy."""
    try:
        data: bytes = direct.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise
    return data


def proxy_s3(proxy: FaultProxy, **config: Any) -> Any:
    return dev_client("s3", proxy.url, **config)


def test_round_trip_is_unharmed(fault_proxy: FaultProxy, bucket: Any) -> None:
    s3 = proxy_s3(fault_proxy)
    bodies = {f"dir/file-{i}.txt": os.urandom(1000 * (i + 1)) for i in range(5)}
    bodies["café/crème brûlée+x.html"] = b"<html>unicode key</html>"
    for key, body in bodies.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="text/plain; charset=utf-8")
    for key, body in bodies.items():
        got = s3.get_object(Bucket=BUCKET, Key=key)
        assert got["Body"].read() == body
        assert got["ContentType"] == "text/plain; charset=utf-8"
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(body)
        assert head["ETag"].strip('"') == hashlib.md5(body).hexdigest()
    listed = s3.list_objects_v2(Bucket=BUCKET)
    assert {o["Key"] for o in listed["Contents"]} == set(bodies)
    answer = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": k} for k in bodies]})
    assert {d["Key"] for d in answer["Deleted"]} == set(bodies)
    assert "Contents" not in bucket.list_objects_v2(Bucket=BUCKET)

    assert fault_proxy.errors == []
    assert fault_proxy.counts[("PUT", "object")] == len(bodies)
    assert fault_proxy.counts[("GET", "object")] == len(bodies)
    assert fault_proxy.counts[("HEAD", "object")] == len(bodies)
    assert fault_proxy.counts[("GET", "bucket")] == 1
    assert fault_proxy.counts[("POST", "bucket")] == 1
    assert sum(fault_proxy.faults_injected.values()) == 0
    records = fault_proxy.requests
    assert all(r.outcome == "forwarded" and r.status == 200 for r in records)
    assert {r.key for r in records if r.kind == "object"} == set(bodies)


def test_multipart_upload_with_expected_owner(fault_proxy: FaultProxy, moto: MotoServer, tmp_path: Path) -> None:
    docs_direct = docs_client("s3", moto.url)
    docs_direct.create_bucket(Bucket=BUCKET)
    fault_proxy.enforce_bucket_owner({BUCKET: DOCS_ACCOUNT_ID})
    s3 = docs_client("s3", fault_proxy.url)
    src = tmp_path / "big.bin"
    data = os.urandom(9 * 1024 * 1024 + 123)
    src.write_bytes(data)
    owner = {"ExpectedBucketOwner": DOCS_ACCOUNT_ID}

    s3.upload_file(str(src), BUCKET, "big/file.bin", ExtraArgs=owner)
    dst = tmp_path / "back.bin"
    s3.download_file(BUCKET, "big/file.bin", str(dst), ExtraArgs=owner)

    assert dst.read_bytes() == data
    assert docs_direct.get_object(Bucket=BUCKET, Key="big/file.bin")["Body"].read() == data
    etag = docs_direct.head_object(Bucket=BUCKET, Key="big/file.bin")["ETag"]
    assert etag.endswith('-2"'), "expected a two-part multipart upload"
    assert fault_proxy.count(match=Match(method="POST", kind="object", query=r"(^|&)uploads(=|&|$)")) == 1
    assert fault_proxy.count(match=Match(method="PUT", kind="object", query=r"partNumber=")) == 2
    assert fault_proxy.count(match=Match(method="POST", kind="object", query=r"uploadId=")) == 1
    assert fault_proxy.owner_violations == []
    bucket_requests = [r for r in fault_proxy.requests if r.bucket == BUCKET]
    assert bucket_requests and all(r.header("x-amz-expected-bucket-owner") == DOCS_ACCOUNT_ID for r in bucket_requests)
    assert fault_proxy.errors == []


def test_owner_enforcement(fault_proxy: FaultProxy, bucket: Any) -> None:
    bucket.put_object(Bucket=BUCKET, Key="existing.txt", Body=b"x")
    fault_proxy.enforce_bucket_owner({BUCKET: DOCS_ACCOUNT_ID})
    s3 = proxy_s3(fault_proxy, max_attempts=1)

    with pytest.raises(ClientError) as missing:
        s3.put_object(Bucket=BUCKET, Key="no-header.txt", Body=b"data" * 1000)
    assert missing.value.response["Error"]["Code"] == "AccessDenied"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError) as wrong:
        s3.get_object(Bucket=BUCKET, Key="existing.txt", ExpectedBucketOwner="123456789012")
    assert wrong.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=BUCKET, Key="existing.txt")
    assert head.value.response["Error"]["Code"] == "403"
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=BUCKET)

    assert stored(bucket, "no-header.txt") is None, "a denied PUT must not reach moto"
    reasons = [(v.method, v.reason) for v in fault_proxy.owner_violations]
    assert reasons == [("PUT", "missing"), ("GET", "mismatch"), ("HEAD", "missing"), ("GET", "missing")]
    assert fault_proxy.owner_violations[1].header == "123456789012"

    s3.put_object(Bucket=BUCKET, Key="with-header.txt", Body=b"ok", ExpectedBucketOwner=DOCS_ACCOUNT_ID)
    got = s3.get_object(Bucket=BUCKET, Key="with-header.txt", ExpectedBucketOwner=DOCS_ACCOUNT_ID)
    assert got["Body"].read() == b"ok"
    assert len(fault_proxy.owner_violations) == 4
    # Buckets not in the mapping and non-bucket requests are not checked.
    s3.list_buckets()
    assert len(fault_proxy.owner_violations) == 4


def test_owner_record_only_mode_forwards(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.enforce_bucket_owner({BUCKET: DOCS_ACCOUNT_ID}, reject=False)
    s3 = proxy_s3(fault_proxy)
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    assert stored(bucket, "k") == b"v"
    assert [v.reason for v in fault_proxy.owner_violations] == ["missing"]


def test_owner_enforcement_virtual_host_style(fault_proxy: FaultProxy) -> None:
    fault_proxy.enforce_bucket_owner({"vhost-bucket": DOCS_ACCOUNT_ID})
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=10)
    try:
        conn.request("GET", "/some/key.html", headers={"Host": f"vhost-bucket.localhost:{fault_proxy.port}"})
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 403
    assert b"<Code>AccessDenied</Code>" in body
    (violation,) = fault_proxy.owner_violations
    assert violation.bucket == "vhost-bucket"
    assert fault_proxy.requests[0].key == "some/key.html"


def test_classify() -> None:
    assert classify("GET", "/", {})[2] == "service"
    assert classify("GET", "/b?list-type=2", {})[2:] == ("bucket", None, "b", None)
    assert classify("PUT", "/b/a%20b/c.txt?partNumber=1", {})[2:] == ("object", None, "b", "a b/c.txt")
    sts_auth = {"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/sts/aws4_request, ..."}
    assert classify("POST", "/", sts_auth)[2:4] == ("sts", "sts")
    assert classify("GET", "/k", {"host": "bk.example.test:9"}, ["bk"])[2:] == ("object", None, "bk", "k")
    assert classify("POST", "/moto-api/reset", {})[2] == "moto-api"


def test_503_surfaces_as_slowdown_without_retries(fault_proxy: FaultProxy, bucket: Any) -> None:
    rule = fault_proxy.add_fault(slow_down(), PUT_OBJECT)
    s3 = proxy_s3(fault_proxy, max_attempts=1)
    with pytest.raises(ClientError) as err:
        s3.put_object(Bucket=BUCKET, Key="throttled.txt", Body=b"x" * 5000)
    assert err.value.response["Error"]["Code"] == "SlowDown"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert stored(bucket, "throttled.txt") is None
    assert fault_proxy.faults_injected["SlowDown"] == 1
    assert (rule.seen, rule.injected) == (1, 1)
    # GETs are not matched by the rule.
    bucket.put_object(Bucket=BUCKET, Key="plain.txt", Body=b"p")
    assert s3.get_object(Bucket=BUCKET, Key="plain.txt")["Body"].read() == b"p"


def test_single_500_is_retried_by_standard_retries(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.add_fault(internal_error(), PUT_OBJECT, nth=1)
    s3 = proxy_s3(fault_proxy, retry_mode="standard", max_attempts=3)
    answer = s3.put_object(Bucket=BUCKET, Key="retried.txt", Body=b"payload")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert stored(bucket, "retried.txt") == b"payload"
    puts = [r for r in fault_proxy.requests if r.method == "PUT"]
    assert [(r.status, r.fault) for r in puts] == [(500, "InternalError"), (200, None)]


def test_error_before_body_closes_connection(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.add_fault(ErrorResponse(500, "InternalError", "boom", read_body=False), PUT_OBJECT, nth=1)
    s3 = proxy_s3(fault_proxy, max_attempts=3)
    s3.put_object(Bucket=BUCKET, Key="k.bin", Body=os.urandom(300_000))
    assert fault_proxy.count("PUT", "object") == 2
    assert stored(bucket, "k.bin") is not None


def test_selectors_first_nth_every(fault_proxy: FaultProxy, bucket: Any) -> None:
    bucket.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    s3 = proxy_s3(fault_proxy, max_attempts=1)
    get = Match(method="GET", kind="object")
    rules = {
        "first": fault_proxy.add_fault(ErrorResponse(500, "First"), get, first=2),
        "nth": fault_proxy.add_fault(ErrorResponse(500, "Nth"), get, nth=4),
        "every": fault_proxy.add_fault(ErrorResponse(500, "Every"), get, every=3),
    }
    outcomes = []
    for _ in range(9):
        try:
            s3.get_object(Bucket=BUCKET, Key="k")["Body"].read()
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["First", "First", "Every", "Nth", "ok", "Every", "ok", "ok", "Every"]
    assert all(rule.seen == 9 for rule in rules.values())
    assert (rules["first"].injected, rules["nth"].injected, rules["every"].injected) == (2, 1, 3)


def test_probability_is_seeded_and_reproducible(moto: MotoServer, bucket: Any) -> None:
    bucket.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    expected_rng = random.Random(1234)
    expected = ["SlowDown" if expected_rng.random() < 0.4 else "ok" for _ in range(20)]
    patterns = []
    for _ in range(2):
        with FaultProxy(moto.url) as proxy:
            proxy.add_fault(slow_down(), Match(method="HEAD"), probability=0.4, seed=1234)
            s3 = proxy_s3(proxy, max_attempts=1)
            pattern = []
            for _ in range(20):
                try:
                    s3.head_object(Bucket=BUCKET, Key="k")
                    pattern.append("ok")
                except ClientError as exc:
                    assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 503
                    pattern.append("SlowDown")
            patterns.append(pattern)
    assert patterns[0] == patterns[1] == expected
    assert "ok" in expected and "SlowDown" in expected


@pytest.mark.parametrize("when", ["before_body", "after_body"])
def test_reset_without_response_is_a_connection_error(fault_proxy: FaultProxy, bucket: Any, when: str) -> None:
    fault_proxy.add_fault(ResetConnection(when), PUT_OBJECT)  # type: ignore[arg-type]
    s3 = proxy_s3(fault_proxy, max_attempts=1)
    with pytest.raises(CONNECTION_ERRORS):
        s3.put_object(Bucket=BUCKET, Key="reset.bin", Body=os.urandom(200_000))
    assert stored(bucket, "reset.bin") is None
    assert fault_proxy.faults_injected["reset"] == 1
    (record,) = [r for r in fault_proxy.requests if r.method == "PUT"]
    assert record.status is None and record.fault == "reset"


def test_reset_after_upstream_applies_the_request(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.add_fault(ResetConnection("after_upstream"), PUT_OBJECT, nth=1)
    no_retry = proxy_s3(fault_proxy, max_attempts=1)
    with pytest.raises(CONNECTION_ERRORS):
        no_retry.put_object(Bucket=BUCKET, Key="lost-response.txt", Body=b"applied")
    assert stored(bucket, "lost-response.txt") == b"applied"

    fault_proxy.add_fault(ResetConnection("after_upstream"), PUT_OBJECT, nth=1)
    retrying = proxy_s3(fault_proxy, max_attempts=3)
    answer = retrying.put_object(Bucket=BUCKET, Key="retried.txt", Body=b"again")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1
    assert stored(bucket, "retried.txt") == b"again"
    assert fault_proxy.faults_injected["reset"] == 2


def test_delay_before_and_after_upstream(fault_proxy: FaultProxy, bucket: Any) -> None:
    bucket.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    fault_proxy.add_fault(Delay(0.4), Match(method="GET", kind="object"), nth=1)
    s3 = proxy_s3(fault_proxy)
    start = time.monotonic()
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"v"
    assert time.monotonic() - start >= 0.4

    fault_proxy.add_fault(Delay(6.0), Match(method="GET", kind="object"), nth=1)
    impatient = proxy_s3(fault_proxy, max_attempts=1, read_timeout=0.5)
    start = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        impatient.get_object(Bucket=BUCKET, Key="k")
    assert 0.4 <= time.monotonic() - start < 5.0, "the client should give up before the 6 s delay ends"

    # A slow answer after upstream applied the write: the client times out, the object exists.
    fault_proxy.add_fault(Delay(6.0, after_upstream=True), PUT_OBJECT, nth=1)
    with pytest.raises(ReadTimeoutError):
        impatient.put_object(Bucket=BUCKET, Key="slow-ack.txt", Body=b"written")
    assert stored(bucket, "slow-ack.txt") == b"written"
    assert fault_proxy.faults_injected["delay"] == 3


def test_stop_server_reset_mode_then_resume(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.add_fault(StopServer("reset"), PUT_OBJECT, nth=3)
    s3 = proxy_s3(fault_proxy, max_attempts=1)
    s3.put_object(Bucket=BUCKET, Key="one", Body=b"1")
    s3.put_object(Bucket=BUCKET, Key="two", Body=b"2")
    with pytest.raises(CONNECTION_ERRORS):
        s3.put_object(Bucket=BUCKET, Key="three", Body=b"3")
    assert fault_proxy.stopped
    # Everything fails while stopped, reads and fresh clients included.
    with pytest.raises(CONNECTION_ERRORS):
        proxy_s3(fault_proxy, max_attempts=1).get_object(Bucket=BUCKET, Key="one")
    with pytest.raises(CONNECTION_ERRORS):
        s3.list_objects_v2(Bucket=BUCKET)
    assert stored(bucket, "three") is None

    fault_proxy.resume()
    assert not fault_proxy.stopped
    s3.put_object(Bucket=BUCKET, Key="three", Body=b"3")
    assert stored(bucket, "three") == b"3"
    assert fault_proxy.faults_injected["stop"] == 1


def test_stop_server_refuse_mode_refuses_connections(fault_proxy: FaultProxy, bucket: Any) -> None:
    port = fault_proxy.port
    s3 = proxy_s3(fault_proxy, max_attempts=1, connect_timeout=2)
    s3.put_object(Bucket=BUCKET, Key="before", Body=b"b")
    fault_proxy.stop_now("refuse")
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    with pytest.raises(CONNECTION_ERRORS):
        s3.get_object(Bucket=BUCKET, Key="before")

    fault_proxy.resume()
    assert fault_proxy.port == port
    assert s3.get_object(Bucket=BUCKET, Key="before")["Body"].read() == b"b"


def test_stop_server_refuse_mode_from_a_rule(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.add_fault(StopServer("refuse"), PUT_OBJECT, nth=2)
    s3 = proxy_s3(fault_proxy, max_attempts=1, connect_timeout=2)
    s3.put_object(Bucket=BUCKET, Key="a", Body=b"a")
    with pytest.raises(CONNECTION_ERRORS):
        s3.put_object(Bucket=BUCKET, Key="b", Body=b"b")
    deadline = time.monotonic() + 5
    refused = False
    while not refused and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", fault_proxy.port), timeout=2).close()
        except ConnectionRefusedError:
            refused = True
        except ConnectionResetError:
            pass  # the listener is being closed right now
        time.sleep(0.05)
    assert refused
    fault_proxy.resume()
    s3.put_object(Bucket=BUCKET, Key="b", Body=b"b")
    assert stored(bucket, "b") == b"b"


def test_keep_alive_head_and_expect_continue_raw(fault_proxy: FaultProxy, bucket: Any) -> None:
    # moto answers 403 to unsigned reads of private objects
    bucket.put_object(Bucket=BUCKET, Key="obj.txt", Body=b"hello world", ACL="public-read")
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=10)
    try:
        conn.request("HEAD", f"/{BUCKET}/obj.txt")
        head = conn.getresponse()
        assert head.read() == b""
        assert head.status == 200 and head.getheader("Content-Length") == "11"
        first_socket = conn.sock
        conn.request("GET", f"/{BUCKET}/obj.txt")
        get = conn.getresponse()
        assert get.read() == b"hello world"
        assert conn.sock is first_socket, "the proxy closed a keep-alive connection"
    finally:
        conn.close()

    with socket.create_connection(("127.0.0.1", fault_proxy.port), timeout=10) as sock:
        body = b"sent after 100-continue"
        sock.sendall(
            (
                f"PUT /{BUCKET}/expect.txt HTTP/1.1\r\nHost: 127.0.0.1:{fault_proxy.port}\r\n"
                f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
            ).encode()
        )
        interim = sock.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        final = b""
        while b"\r\n\r\n" not in final:
            final += sock.recv(4096)
        assert final.startswith(b"HTTP/1.1 200")
    assert stored(bucket, "expect.txt") == body


def test_expect_continue_error_answers_before_body(fault_proxy: FaultProxy, bucket: Any) -> None:
    fault_proxy.add_fault(ErrorResponse(503, "SlowDown", "wait", read_body=False), PUT_OBJECT)
    with socket.create_connection(("127.0.0.1", fault_proxy.port), timeout=10) as sock:
        sock.sendall(
            (
                f"PUT /{BUCKET}/never.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n"
                "Expect: 100-continue\r\n\r\n"
            ).encode()
        )
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 503")
    assert b"Connection: close" in answer and b"<Code>SlowDown</Code>" in answer
    assert stored(bucket, "never.txt") is None


def test_chunked_request_bodies_pass_byte_for_byte(fault_proxy: FaultProxy, bucket: Any) -> None:
    import base64
    import zlib

    parts = [bytes([i]) * 300_000 for i in range(7)]
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=30)
    try:
        conn.request("PUT", f"/{BUCKET}/chunked.bin", body=iter(parts), encode_chunked=True)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
        # aws-chunked (unsigned, with a CRC32 trailer) inside Transfer-Encoding: chunked
        payload = b"aws-chunked payload " * 5000
        crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big"))
        aws_body = b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(payload), payload, crc)
        headers = {
            "Content-Encoding": "aws-chunked",
            "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "x-amz-decoded-content-length": str(len(payload)),
            "x-amz-trailer": "x-amz-checksum-crc32",
            "x-amz-sdk-checksum-algorithm": "CRC32",
        }
        conn.request(
            "PUT",
            f"/{BUCKET}/aws-chunked.txt",
            body=iter([aws_body[:777], aws_body[777:]]),
            encode_chunked=True,
            headers=headers,
        )
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200
    finally:
        conn.close()
    assert stored(bucket, "chunked.bin") == b"".join(parts)
    assert stored(bucket, "aws-chunked.txt") == payload
    head = bucket.head_object(Bucket=BUCKET, Key="aws-chunked.txt", ChecksumMode="ENABLED")
    assert head["ChecksumCRC32"] == crc.decode()
    assert fault_proxy.errors == []


def test_fault_only_on_matching_query(fault_proxy: FaultProxy, bucket: Any, tmp_path: Path) -> None:
    create_upload = Match(method="POST", query=r"(^|&)uploads(=|&|$)")
    fault_proxy.add_fault(internal_error(), create_upload)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(9 * 1024 * 1024))
    s3 = proxy_s3(fault_proxy, max_attempts=1)
    with pytest.raises(S3UploadFailedError) as err:
        s3.upload_file(str(src), BUCKET, "big.bin")
    assert "InternalError" in str(err.value)
    s3.put_object(Bucket=BUCKET, Key="small.txt", Body=b"fine")
    assert stored(bucket, "small.txt") == b"fine"
    assert fault_proxy.faults_injected == {"InternalError": 1}


def test_close_is_bounded_with_a_request_in_flight(moto: MotoServer, bucket: Any) -> None:
    bucket.put_object(Bucket=BUCKET, Key="k", Body=b"v")
    proxy = FaultProxy(moto.url).start()
    proxy.add_fault(Delay(60), Match(method="GET"))
    errors: list[BotoCoreError | ClientError] = []

    def slow_get() -> None:
        try:
            proxy_s3(proxy, max_attempts=1).get_object(Bucket=BUCKET, Key="k")
        except (BotoCoreError, ClientError) as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow_get)
    worker.start()
    time.sleep(0.3)
    start = time.monotonic()
    proxy.close()
    worker.join(10)
    assert time.monotonic() - start < 6
    assert not worker.is_alive()
    assert errors, "the in-flight request should fail when the proxy closes"


def test_parallel_uploads_survive_random_throttling(fault_proxy: FaultProxy, bucket: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rule = fault_proxy.add_fault(slow_down(), PUT_OBJECT, probability=0.2, seed=99)
    s3 = proxy_s3(fault_proxy, max_attempts=10, max_pool_connections=8)
    bodies = {f"page-{i:03d}.html": os.urandom(2000 + i) for i in range(60)}

    def upload(item: tuple[str, bytes]) -> int:
        answer = s3.put_object(Bucket=BUCKET, Key=item[0], Body=item[1], ContentType="text/html")
        return int(answer["ResponseMetadata"]["RetryAttempts"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        retries = sum(pool.map(upload, bodies.items()))

    listed = bucket.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert {o["Key"]: o["ETag"].strip('"') for o in listed} == {
        k: hashlib.md5(v).hexdigest() for k, v in bodies.items()
    }
    assert rule.injected == retries == fault_proxy.faults_injected["SlowDown"] > 0
    assert rule.seen == len(bodies) + retries
    assert fault_proxy.errors == []
