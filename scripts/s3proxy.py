#!/usr/bin/env python3
"""A fault-injecting, delaying, counting HTTP/1.1 proxy for S3 tests and benchmarks.

Sits between an S3 client and an S3-compatible server (moto) and can:
  * add latency to every request (--delay-ms), as a distant region would;
  * answer S3's throttling errors (503 SlowDown, or 429) to the first N requests per
    (method, path+query) (--throttle-first) and/or a random share (--throttle-rate);
  * throttle like a server with a request-rate limit: SlowDown for requests above
    --rate-limit per second (a token bucket holding a tenth of a second's worth);
  * answer 500 InternalError to the first N requests per (method, path+query)
    (--fail-first), a failure that is not throttling;
  * play S3's regions from one endpoint: for a bucket in --region-map whose SigV4
    credential scope names another region, answer as S3 does (301 PermanentRedirect
    with x-amz-bucket-region, or 400 AuthorizationHeaderMalformed naming the region);
    --list-regions adds <BucketRegion> to ListBuckets answers, as AWS does;
  * count requests per S3 operation, per bucket, and what the proxy answered itself:
    GET /__proxy/stats (JSON), POST /__proxy/reset;
  * with --upstream stub, answer bucket CORS calls itself (no server behind), to
    measure a client against pure latency (--stub-forward sends STS and
    Organizations calls on to a real server, so roles still work);
  * inject one fault (--fault MODE) into chosen calls: only --fault-ops operations
    (e.g. GetBucketCors,PutBucketCors; default every operation), only --fault-buckets
    buckets (default every bucket), and only the first --fault-first N calls per
    (operation, bucket) (default 0: every call). Counted in stats["faulted"]. Modes:
      status        answer --fault-status (default 500) with an S3 XML error body
                    (<Code> --fault-code, default by status; <Message> --fault-message);
                    the request never reaches the server
      reset         close the connection with a TCP reset, answering nothing
      hang          accept the request and never answer (until the client hangs up)
      lost-reset    forward the request (the server acts on it: a write takes effect),
                    then reset the connection instead of relaying the answer
      lost-hang     forward the request, then never answer
      truncate      forward, then relay the first half of the answer's body with a
                    Content-Length that matches the cut (only the XML shows the loss)
      short-body    forward, then send the original Content-Length but only the first
                    half of the body, and close the connection (the framing shows it)
      oversize      forward, then pad a 2xx body to --fault-size bytes (default 1 MiB)
                    with whitespace before its last closing tag, sent chunked (no
                    Content-Length announces it)
      html-message  answer --fault-status (default 500) with an S3 XML error whose
                    <Message> holds HTML and terminal control characters (ESC, BEL, CR)
      no-origins    forward, then drop every <AllowedOrigin> element from the answer
    The fault can also be set while running: POST /__proxy/fault?mode=hang&ops=
    PutBucketCors&first=1&buckets=b1,b2&status=503&code=SlowDown&message=...&size=N
    (query values as the flags; no mode, or mode=none, clears it). Resetting the stats
    also restarts the --fault-first counts.

Path-style addressing only (http://host:port/bucket?cors). Python 3 standard library
only. Prints its URL (http://127.0.0.1:PORT) as the first stdout line, then serves
until its stdin closes (or forever with --no-stdin).

  s3proxy.py --upstream http://127.0.0.1:5000 [--port 0] [--delay-ms 50]
             [--throttle-first N] [--throttle-rate P] [--throttle-status 503|429]
             [--throttle-ops GetBucketCors,...] [--seed S] [--fail-first N]
             [--rate-limit R]
             [--region-map bucket=region,...] [--default-region us-east-1]
             [--wrong-region-answer redirect|malformed] [--list-regions]
             [--fault MODE] [--fault-ops OPS] [--fault-buckets B,...]
             [--fault-first N] [--fault-status CODE] [--fault-code CODE]
             [--fault-message TEXT] [--fault-size BYTES]
"""

import argparse
import asyncio
import json
import os
import random
import re
import socket
import struct
import sys
import urllib.parse
import uuid
from collections import Counter, defaultdict

MAX_HEAD = 1 << 20

# (method, sub-resource) -> S3 operation name, for bucket-level requests.
BUCKET_OPS = {
    ("GET", "cors"): "GetBucketCors",
    ("PUT", "cors"): "PutBucketCors",
    ("DELETE", "cors"): "DeleteBucketCors",
    ("GET", "tagging"): "GetBucketTagging",
    ("PUT", "tagging"): "PutBucketTagging",
    ("DELETE", "tagging"): "DeleteBucketTagging",
    ("GET", "location"): "GetBucketLocation",
    ("HEAD", ""): "HeadBucket",
    ("PUT", ""): "CreateBucket",
    ("DELETE", ""): "DeleteBucket",
    ("GET", ""): "ListObjects",
    ("GET", "list-type"): "ListObjectsV2",
}

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/s3/aws4_request")

DEFAULT_STUB_CORS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>'
    "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>https://app.example.com</AllowedOrigin>"
    "<MaxAgeSeconds>3600</MaxAgeSeconds></CORSRule></CORSConfiguration>"
)


FAULT_MODES = (
    "none", "status", "reset", "hang", "lost-reset", "lost-hang", "truncate",
    "short-body", "oversize", "html-message", "no-origins",
)

# Modes that forward the request and then spoil the answer.
AFTER_FORWARD = ("lost-reset", "lost-hang", "truncate", "short-body", "oversize", "no-origins")

# The S3 error code and reason phrase sent for a --fault-status, unless --fault-code.
STATUS_CODES = {
    400: ("InvalidRequest", "Bad Request"),
    403: ("AccessDenied", "Forbidden"),
    404: ("NoSuchBucket", "Not Found"),
    409: ("OperationAborted", "Conflict"),
    429: ("TooManyRequests", "Too Many Requests"),
    500: ("InternalError", "Internal Server Error"),
    502: ("BadGateway", "Bad Gateway"),
    503: ("SlowDown", "Slow Down"),
}

HOSTILE_MESSAGE = (
    "<html><body><h1>Internal error</h1><script>alert(1)</script></body></html>"
    "\x1b[31mRED\x1b[0m\x07 bell\rcarriage-return \x1b]0;title\x07"
)


class Fault:
    """Which calls get which fault (see the module docstring)."""

    def __init__(self, mode="none", ops="", buckets="", first=0, status=None, code=None,
                 message=None, size=1 << 20):
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r} (one of {', '.join(FAULT_MODES)})")
        self.mode = mode
        self.ops = set(filter(None, ops.split(",")))
        self.buckets = set(filter(None, buckets.split(",")))
        self.first = int(first)
        self.status = int(status) if status else 500
        default_code, self.reason = STATUS_CODES.get(self.status, ("InternalError", "Error"))
        self.code = code or default_code
        self.message = message
        self.size = int(size)

    def applies(self, op, bucket, counts):
        """Whether this call gets the fault (and count it when it could)."""
        if self.mode == "none":
            return False
        if self.ops and op not in self.ops:
            return False
        if self.buckets and bucket not in self.buckets:
            return False
        counts[(op, bucket)] += 1
        return self.first == 0 or counts[(op, bucket)] <= self.first

    def error_answer(self, head_only):
        if self.mode == "html-message":
            body = error_xml(self.code, HOSTILE_MESSAGE.replace("<", "&lt;").replace(">", "&gt;"))
        else:
            body = error_xml(self.code, self.message or f"Injected fault: {self.code}.")
        return response_bytes(self.status, self.reason, body, [("Content-Type", "application/xml")], head_only)


def classify(method, target):
    """(operation, bucket or None) for a path-style S3 request target."""
    path, _, query = target.partition("?")
    parts = [p for p in path.split("/") if p]
    bucket = urllib.parse.unquote(parts[0]) if parts else None
    if bucket is None:
        return ("ListBuckets" if method == "GET" else f"{method} /"), None
    if len(parts) > 1:
        return f"{method}Object", bucket
    keys = [kv.partition("=")[0] for kv in query.split("&") if kv]
    sub = next((k for k in keys if (method, k) in BUCKET_OPS), "")
    if not sub and keys and (method, keys[0]) not in BUCKET_OPS:
        return f"{method} ?{keys[0]}", bucket
    return BUCKET_OPS.get((method, sub), f"{method} bucket"), bucket


# Calls to STS and Organizations (the operations `classify_post` names), which
# --stub-forward sends on instead of stubbing.
NOT_S3 = {"AssumeRole", "GetCallerIdentity", "ListAccounts", "DescribeOrganization"}


def classify_post(head, body):
    """(operation, subject) of a POST to `/` from STS or Organizations, which share
    the endpoint with S3 on a local server: AssumeRole's subject is its RoleArn, so
    --fault-buckets can name the role whose assumption fails."""
    amz_target = head.get("X-Amz-Target") or ""
    if amz_target:
        return amz_target.rpartition(".")[2], None
    form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
    if form.get("Action"):
        return form["Action"], form.get("RoleArn")
    return "POST /", None


def error_xml(code, message, **extra):
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId></Error>"
    ).encode()


def response_bytes(status, reason, body=b"", headers=(), head_only=False):
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append(f"x-amz-request-id: {uuid.uuid4().hex[:16].upper()}")
    lines.append(f"Content-Length: {0 if head_only else len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (b"" if head_only else body)


class Head:
    """A parsed message head: the first line and the header lines as sent."""

    def __init__(self, raw):
        text = raw.decode("latin-1")
        lines = text.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            self.headers.append((name.strip(), value.strip()))

    def get(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def without(self, *names):
        drop = {n.lower() for n in names}
        self.headers = [(k, v) for k, v in self.headers if k.lower() not in drop]
        return self

    def encode(self):
        lines = [self.first] + [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def read_head(reader):
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if e.partial.strip():
            raise ConnectionError("connection closed inside a message head") from e
        return None


async def read_body(reader, head, raw):
    """The body exactly as framed on the wire (chunked bodies keep their framing)."""
    te = (head.get("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        parts = []
        while True:
            line = await reader.readuntil(b"\r\n")
            parts.append(line)
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = await reader.readuntil(b"\r\n")
                    parts.append(trailer)
                    if trailer == b"\r\n":
                        break
                break
            parts.append(await reader.readexactly(size + 2))
        body = b"".join(parts)
        return body if raw else dechunk(body)
    length = head.get("Content-Length")
    if length is not None:
        return await reader.readexactly(int(length))
    return b""


class Sink:
    """Collects what `Proxy.forward` would have written to the client."""

    def __init__(self):
        self.data = b""

    def write(self, data):
        self.data += data


def reset(writer):
    """Close the client connection with a TCP reset (RST), not a clean FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def dechunk(framed):
    out, i = [], 0
    while True:
        j = framed.index(b"\r\n", i)
        size = int(framed[i:j].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return b"".join(out)
        out.append(framed[j + 2 : j + 2 + size])
        i = j + 2 + size + 2


class Stats:
    def __init__(self):
        self.reset()

    def reset(self):
        self.requests = Counter()  # every request received, by operation
        self.forwarded = Counter()  # sent on to the upstream
        self.throttled = Counter()  # answered with a throttling error
        self.redirected = Counter()  # answered with a wrong-region error
        self.failed = Counter()  # answered 500 InternalError (--fail-first)
        self.faulted = Counter()  # given the --fault, by operation
        self.fault_counts = Counter()  # (operation, bucket) -> calls the fault matched
        self.by_bucket = defaultdict(Counter)
        self.redirected_buckets = Counter()
        self.signed_regions = Counter()
        self.attempts = Counter()  # (method, target) -> count, for --throttle-first

    def json(self):
        return {
            "total": sum(self.requests.values()),
            "requests": dict(self.requests),
            "forwarded": dict(self.forwarded),
            "throttled": dict(self.throttled),
            "redirected": dict(self.redirected),
            "failed": dict(self.failed),
            "faulted": dict(self.faulted),
            "redirected_buckets": dict(self.redirected_buckets),
            "signed_regions": dict(self.signed_regions),
            "by_bucket": {b: dict(c) for b, c in self.by_bucket.items()},
        }


class Proxy:
    def __init__(self, args):
        self.args = args
        self.stats = Stats()
        self.rng = random.Random(args.seed)
        self.region_map = {}
        items = (args.region_map or "").split(",")
        if args.region_map_file:
            with open(args.region_map_file) as f:
                items += f.read().split()
        for item in filter(None, items):
            bucket, _, region = item.partition("=")
            if not bucket or not region:
                sys.exit(f"s3proxy: --region-map wants bucket=region, got {item!r}")
            self.region_map[bucket.strip()] = region.strip()
        self.throttle_ops = set(filter(None, (args.throttle_ops or "").split(",")))
        if args.upstream != "stub" or args.stub_forward:
            url = urllib.parse.urlsplit(args.stub_forward if args.upstream == "stub" else args.upstream)
            if url.scheme != "http" or not url.hostname:
                sys.exit(f"s3proxy: --upstream wants http://HOST:PORT or stub, got {args.upstream!r}")
            self.up_host, self.up_port = url.hostname, url.port or 80
        self.stub_cors = DEFAULT_STUB_CORS.encode()
        if args.stub_cors:
            with open(args.stub_cors, "rb") as f:
                self.stub_cors = f.read()
        self.stub_cors_deleted = set()
        self.tokens = max(1.0, args.rate_limit / 10)
        try:
            self.fault = Fault(args.fault, args.fault_ops, args.fault_buckets, args.fault_first,
                               args.fault_status, args.fault_code, args.fault_message, args.fault_size)
        except ValueError as e:
            sys.exit(f"s3proxy: {e}")
        self.tokens_at = None

    # --- one client connection -------------------------------------------------

    async def serve(self, reader, writer):
        upstream = None
        try:
            while True:
                raw_head = await read_head(reader)
                if raw_head is None:
                    break
                head = Head(raw_head)
                method, target, _ = (head.first.split(" ", 2) + ["", ""])[:3]
                if (head.get("Expect") or "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    head.without("Expect")
                body = await read_body(reader, head, raw=True)
                close = (head.get("Connection") or "").lower() == "close"
                if target.startswith("/__proxy/"):
                    writer.write(self.control(method, target))
                else:
                    answer = await self.handle(method, target, head, body)
                    if isinstance(answer, str):  # a fault mode that acts on the connection
                        if answer in AFTER_FORWARD:
                            sink = Sink()
                            upstream, _ = await self.forward(upstream, raw_head, head, body, method, target, sink)
                            answer = self.spoil(answer, method, sink.data)
                        if answer in ("reset", "lost-reset"):
                            reset(writer)
                            return
                        if answer in ("hang", "lost-hang"):
                            await reader.read()  # until the client gives up and hangs up
                            break
                        writer.write(answer[0])
                        close = close or answer[1]
                    elif answer is not None:
                        writer.write(answer)
                    else:
                        upstream, keep = await self.forward(upstream, raw_head, head, body, method, target, writer)
                        close = close or not keep
                await writer.drain()
                if close:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            print(f"s3proxy: connection dropped: {e!r}", file=sys.stderr)
        finally:
            if upstream is not None:
                upstream[1].close()
            writer.close()

    def control(self, method, target):
        path = target.partition("?")[0]
        if path == "/__proxy/stats" and method == "GET":
            body = json.dumps(self.stats.json(), sort_keys=True).encode()
            return response_bytes(200, "OK", body, [("Content-Type", "application/json")])
        if path == "/__proxy/reset" and method == "POST":
            self.stats.reset()
            return response_bytes(200, "OK", b"{}", [("Content-Type", "application/json")])
        if path == "/__proxy/fault" and method == "POST":
            query = dict(urllib.parse.parse_qsl(target.partition("?")[2]))
            try:
                self.fault = Fault(query.get("mode", "none"), query.get("ops", ""), query.get("buckets", ""),
                                   query.get("first", 0), query.get("status"), query.get("code"),
                                   query.get("message"), query.get("size", 1 << 20))
            except ValueError as e:
                return response_bytes(400, "Bad Request", f"{e}\n".encode())
            self.stats.fault_counts.clear()
            return response_bytes(200, "OK", b"{}", [("Content-Type", "application/json")])
        return response_bytes(404, "Not Found", b"unknown proxy control path\n")

    async def handle(self, method, target, head, body=b""):
        """Count the request, wait, and answer it here when a fault applies."""
        op, bucket = classify(method, target)
        if op == "POST /":
            op, bucket = classify_post(head, body)
        stats = self.stats
        stats.requests[op] += 1
        if bucket:
            stats.by_bucket[bucket][op] += 1
        auth = head.get("Authorization") or ""
        signed = CREDENTIAL_SCOPE.search(auth)
        signed_region = signed.group(1) if signed else None
        if signed_region:
            stats.signed_regions[signed_region] += 1
        if self.args.delay_ms:
            await asyncio.sleep(self.args.delay_ms / 1000)
        head_only = method == "HEAD"

        if self.fault.applies(op, bucket, stats.fault_counts):
            stats.faulted[op] += 1
            if self.fault.mode in ("status", "html-message"):
                return self.fault.error_answer(head_only)
            if self.fault.mode in AFTER_FORWARD:
                stats.forwarded[op] += 1
            return self.fault.mode

        if not self.throttle_ops or op in self.throttle_ops:
            key = (method, target)
            stats.attempts[key] += 1
            if stats.attempts[key] <= self.args.fail_first:
                stats.failed[op] += 1
                body = error_xml("InternalError", "We encountered an internal error. Please try again.")
                return response_bytes(500, "Internal Server Error", body, [("Content-Type", "application/xml")], head_only)
            first = stats.attempts[key] <= self.args.fail_first + self.args.throttle_first
            if first or (self.args.throttle_rate and self.rng.random() < self.args.throttle_rate) or self.over_rate():
                stats.throttled[op] += 1
                if self.args.throttle_status == 429:
                    body = error_xml("TooManyRequests", "Too many requests; slow down.")
                    return response_bytes(429, "Too Many Requests", body, [("Content-Type", "application/xml")], head_only)
                body = error_xml("SlowDown", "Please reduce your request rate.")
                return response_bytes(503, "Slow Down", body, [("Content-Type", "application/xml")], head_only)

        actual = self.region_map.get(bucket) if bucket else None
        if actual and signed_region and signed_region != actual and op != "CreateBucket":
            stats.redirected[op] += 1
            stats.redirected_buckets[bucket] += 1
            headers = [("Content-Type", "application/xml"), ("x-amz-bucket-region", actual)]
            if self.args.wrong_region_answer == "malformed" and not head_only:
                body = error_xml(
                    "AuthorizationHeaderMalformed",
                    f"The authorization header is malformed; the region '{signed_region}' "
                    f"is wrong; expecting '{actual}'",
                    Region=actual,
                )
                return response_bytes(400, "Bad Request", body, headers)
            body = error_xml(
                "PermanentRedirect",
                "The bucket you are attempting to access must be addressed using the "
                "specified endpoint. Please send all future requests to this endpoint.",
                Endpoint=f"{bucket}.s3.{actual}.amazonaws.com",
                Bucket=bucket,
            )
            return response_bytes(301, "Moved Permanently", body, headers, head_only)

        if self.args.upstream == "stub" and not (self.args.stub_forward and op in NOT_S3):
            stats.forwarded[op] += 1
            return self.stub(op, bucket, head_only)
        stats.forwarded[op] += 1
        return None

    def spoil(self, mode, method, data):
        """The upstream answer `data` spoiled by `mode`: a mode name for the
        connection-level faults, else (bytes to send, close the connection after)."""
        if mode in ("lost-reset", "lost-hang"):
            return mode
        raw_head, _, rest = data.partition(b"\r\n\r\n")
        resp = Head(raw_head)
        chunked = "chunked" in (resp.get("Transfer-Encoding") or "").lower()
        body = dechunk(rest) if chunked else rest
        resp.without("Transfer-Encoding", "Content-Length")
        status = int((resp.first.split(" ", 2) + ["0"])[1])
        if method == "HEAD" or not body:
            resp.headers.append(("Content-Length", str(len(body))))
            return resp.encode() + body, False
        if mode == "truncate":
            cut = body[: len(body) // 2]
            resp.headers.append(("Content-Length", str(len(cut))))
            return resp.encode() + cut, False
        if mode == "short-body":
            resp.headers.append(("Content-Length", str(len(body))))
            return resp.encode() + body[: len(body) // 2], True
        if mode == "oversize" and 200 <= status < 300:
            at = body.rfind(b"</")
            at = at if at >= 0 else len(body)
            body = body[:at] + b" " * max(0, self.fault.size - len(body)) + body[at:]
            resp.headers.append(("Transfer-Encoding", "chunked"))
            step = 64 * 1024
            framed = b"".join(b"%x\r\n%s\r\n" % (len(body[i : i + step]), body[i : i + step])
                              for i in range(0, len(body), step))
            return resp.encode() + framed + b"0\r\n\r\n", False
        if mode == "no-origins":
            body = re.sub(rb"<AllowedOrigin>[^<]*</AllowedOrigin>", b"", body)
        resp.headers.append(("Content-Length", str(len(body))))
        return resp.encode() + body, False

    def over_rate(self):
        """Whether this request exceeds --rate-limit (and so is throttled)."""
        rate = self.args.rate_limit
        if not rate:
            return False
        now = asyncio.get_running_loop().time()
        if self.tokens_at is not None:
            self.tokens = min(max(1.0, rate / 10), self.tokens + (now - self.tokens_at) * rate)
        self.tokens_at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return False
        return True

    def stub(self, op, bucket, head_only):
        region = self.region_map.get(bucket, self.args.default_region) if bucket else None
        xml = [("Content-Type", "application/xml")]
        if op == "GetBucketCors":
            if bucket in self.stub_cors_deleted:
                return response_bytes(404, "Not Found", error_xml("NoSuchCORSConfiguration", "The CORS configuration does not exist"), xml)
            return response_bytes(200, "OK", self.stub_cors, xml)
        if op == "PutBucketCors":
            self.stub_cors_deleted.discard(bucket)
            return response_bytes(200, "OK")
        if op == "DeleteBucketCors":
            self.stub_cors_deleted.add(bucket)
            return response_bytes(204, "No Content")
        if op == "HeadBucket":
            return response_bytes(200, "OK", headers=[("x-amz-bucket-region", region)], head_only=True)
        if op == "GetBucketTagging":
            return response_bytes(404, "Not Found", error_xml("NoSuchTagSet", "The TagSet does not exist"), xml, head_only)
        if op == "ListBuckets":
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?><ListAllMyBucketsResult>'
                b"<Owner><ID>stub</ID></Owner><Buckets></Buckets></ListAllMyBucketsResult>"
            )
            return response_bytes(200, "OK", body, xml)
        return response_bytes(501, "Not Implemented", error_xml("NotImplemented", f"{op} is not stubbed"), xml, head_only)

    # --- the upstream side -------------------------------------------------------

    async def forward(self, upstream, raw_head, head, body, method, target, writer):
        """Send one request upstream (reconnecting once if a kept-alive connection
        went stale) and relay the answer. Returns (connection or None, keep-alive)."""
        for attempt in range(2):
            if upstream is None:
                upstream = await asyncio.open_connection(self.up_host, self.up_port, limit=MAX_HEAD)
            up_reader, up_writer = upstream
            try:
                up_writer.write(head.encode() + body)
                await up_writer.drain()
                raw = await read_head(up_reader)
                while raw is not None and raw.startswith(b"HTTP/1.1 1") and not raw.startswith(b"HTTP/1.1 101"):
                    raw = await read_head(up_reader)  # 100 Continue and friends
                if raw is None:
                    raise ConnectionError("upstream closed the connection")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                up_writer.close()
                upstream = None
                if attempt == 1:
                    writer.write(response_bytes(502, "Bad Gateway", b"upstream closed the connection\n"))
                    return None, False
        resp = Head(raw)
        status = int(resp.first.split(" ", 2)[1])
        keep = (resp.get("Connection") or "").lower() != "close"
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        op, _ = classify(method, target)
        if no_body:
            resp_body = b""
        elif resp.get("Transfer-Encoding") or resp.get("Content-Length") is not None:
            rewrite = self.args.list_regions and op == "ListBuckets" and status == 200
            resp_body = await read_body(up_reader, resp, raw=not rewrite)
            if rewrite:
                resp_body = self.add_bucket_regions(resp_body)
                resp.without("Transfer-Encoding", "Content-Length").headers.append(("Content-Length", str(len(resp_body))))
        else:
            # Delimited by the end of the connection: the client's ends with it.
            resp_body = await up_reader.read()
            writer.write(resp.encode() + resp_body)
            up_writer.close()
            return None, False
        writer.write(resp.encode() + resp_body)
        if not keep:
            up_writer.close()
            return None, True
        return upstream, True

    def add_bucket_regions(self, body):
        text = body.decode("utf-8")

        def add(match):
            bucket = match.group(0)
            if "<BucketRegion>" in bucket:
                return bucket
            name = re.search(r"<Name>([^<]*)</Name>", bucket)
            region = self.region_map.get(name.group(1) if name else "", self.args.default_region)
            return bucket.replace("</Bucket>", f"<BucketRegion>{region}</BucketRegion></Bucket>")

        return re.sub(r"<Bucket>.*?</Bucket>", add, text, flags=re.DOTALL).encode("utf-8")


async def main():
    p = argparse.ArgumentParser(prog="s3proxy.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="http://HOST:PORT of the S3 server, or 'stub'")
    p.add_argument("--stub-forward", default="",
                   help="with --upstream stub: http://HOST:PORT of a server (moto) for the STS and "
                        "Organizations calls, so roles can be assumed while S3 is stubbed")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--delay-ms", type=float, default=0, help="latency added to every request")
    p.add_argument("--throttle-first", type=int, default=0, metavar="N",
                   help="throttle the first N requests per (method, path+query)")
    p.add_argument("--throttle-rate", type=float, default=0, metavar="P",
                   help="also throttle each request with probability P")
    p.add_argument("--rate-limit", type=float, default=0, metavar="R",
                   help="throttle requests above R per second (token bucket, R/10 burst)")
    p.add_argument("--throttle-status", type=int, choices=(503, 429), default=503)
    p.add_argument("--throttle-ops", default="",
                   help="throttle (and fail) only these operations (e.g. GetBucketCors)")
    p.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="answer 500 InternalError to the first N requests per (method, path+query), "
                   "before any --throttle-first ones")
    p.add_argument("--seed", type=int, default=1, help="seed for --throttle-rate")
    p.add_argument("--region-map", default="", help="bucket=region,... : where buckets live")
    p.add_argument("--default-region", default="us-east-1", help="region of unmapped buckets")
    p.add_argument("--wrong-region-answer", choices=("redirect", "malformed"), default="redirect",
                   help="301 PermanentRedirect, or 400 AuthorizationHeaderMalformed with <Region>")
    p.add_argument("--list-regions", action="store_true", help="add <BucketRegion> to ListBuckets")
    p.add_argument("--region-map-file", help="more bucket=region pairs, one per line (for fleets too big for argv)")
    p.add_argument("--stub-cors", help="with --upstream stub: the CORS XML GetBucketCors answers")
    p.add_argument("--fault", choices=FAULT_MODES, default="none",
                   help="inject this fault into the calls the --fault-* options select (see above)")
    p.add_argument("--fault-ops", default="", help="only these operations (e.g. GetBucketCors,PutBucketCors)")
    p.add_argument("--fault-buckets", default="", help="only these buckets (comma-separated)")
    p.add_argument("--fault-first", type=int, default=0, metavar="N",
                   help="only the first N calls per (operation, bucket); 0: every call")
    p.add_argument("--fault-status", type=int, default=None, help="HTTP status of status/html-message (500)")
    p.add_argument("--fault-code", default=None, help="S3 error <Code> of status/html-message")
    p.add_argument("--fault-message", default=None, help="S3 error <Message> of status")
    p.add_argument("--fault-size", type=int, default=1 << 20, metavar="BYTES", help="body size for oversize")
    p.add_argument("--no-stdin", action="store_true", help="run until killed, not until stdin closes")
    args = p.parse_args()

    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.serve, args.host, args.port, limit=MAX_HEAD, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"http://{args.host}:{port}", flush=True)

    stop = asyncio.get_running_loop().create_future()
    if not args.no_stdin:
        loop = asyncio.get_running_loop()

        def on_stdin():
            try:
                data = os.read(0, 65536)
            except OSError:
                data = b""
            if not data and not stop.done():
                stop.set_result(None)

        loop.add_reader(0, on_stdin)
    async with server:
        await stop


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
