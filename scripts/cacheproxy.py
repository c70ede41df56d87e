#!/usr/bin/env python3
"""A caching HTTP/1.1 proxy that plays a CDN in front of S3, for `verify --url` tests.

Forwards every request to --upstream (path and query kept, the request's headers
passed on, `Origin` included, as CloudFront does with an origin request policy
that forwards it) and keeps the 200 answers to GET requests, keyed by --key:

  url     the URL only (method, path and query): the first answer kept for a URL is
          served to every later request, whatever its Origin. This is CloudFront
          whose cache policy does not include Origin (e.g. the managed
          CachingOptimized), even when an origin request policy (e.g. the managed
          CORS-S3Origin) forwards Origin to S3.
  origin  the URL and the Origin header (absent counts as one value): each origin
          gets the answer made for it. CloudFront with a cache policy including
          Origin.
  vary    the URL, then the request headers a kept answer's `Vary` names, as
          RFC 9111 section 4.1 says a shared cache does.

Answers carry `X-Cache: Hit from cacheproxy` or `Miss from cacheproxy` and, when
served from the cache, `Age` (seconds since kept), as CloudFront does; without them
with --no-cache-headers. GET /__cache/stats answers {"hits": N, "misses": N, "kept":
N} as JSON. Upstream requests time out after --upstream-timeout seconds (answered
504).

Prints its URL (http://127.0.0.1:PORT) as the first stdout line, then serves until
its stdin closes (or forever with --no-stdin). Python 3 standard library only.

  cacheproxy.py --upstream http://127.0.0.1:4566 --key url|origin|vary [--port 0]
                [--no-cache-headers] [--upstream-timeout 10] [--no-stdin]
"""

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers that belong to one connection, never passed on (RFC 9110 section 7.6.1).
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


class Cache:
    """Kept answers: per URL, a list of (key headers, status, headers, body, when)."""

    def __init__(self, key):
        self.key = key
        self.lock = threading.Lock()
        self.entries = {}
        self.hits = 0
        self.misses = 0

    def _secondary(self, request_headers, names):
        return tuple((n, request_headers.get(n)) for n in names)

    def lookup(self, url, request_headers):
        with self.lock:
            for names, values, status, headers, body, when in self.entries.get(url, []):
                if self._secondary(request_headers, names) == values:
                    self.hits += 1
                    return status, headers, body, when
            self.misses += 1
            return None

    def keep(self, url, request_headers, status, headers, body):
        if self.key == "url":
            names = ()
        elif self.key == "origin":
            names = ("origin",)
        else:
            vary = ",".join(v for n, v in headers if n.lower() == "vary")
            names = tuple(sorted({n.strip().lower() for n in vary.split(",") if n.strip()}))
        entry = (names, self._secondary(request_headers, names), status, headers, body, time.time())
        with self.lock:
            self.entries.setdefault(url, []).append(entry)

    def stats(self):
        with self.lock:
            kept = sum(len(v) for v in self.entries.values())
            return {"hits": self.hits, "misses": self.misses, "kept": kept}


def make_handler(upstream, cache, cache_headers, timeout):
    parsed = urllib.parse.urlsplit(upstream)
    host = parsed.hostname
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    base = parsed.path.rstrip("/")
    connection = http.client.HTTPSConnection if parsed.scheme == "https" else http.client.HTTPConnection

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass

        def _answer(self, status, headers, body, extra):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            for name, value in extra:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _request_headers(self):
            return {n.lower(): v for n, v in self.headers.items()}

        def _forward(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {n: v for n, v in self.headers.items() if n.lower() not in HOP_BY_HOP}
            conn = connection(host, port, timeout=timeout)
            try:
                conn.request(self.command, base + self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                kept = [(n, v) for n, v in response.getheaders() if n.lower() not in HOP_BY_HOP]
                return response.status, kept, data
            finally:
                conn.close()

        def _handle(self):
            if self.path == "/__cache/stats":
                body = json.dumps(cache.stats()).encode()
                self._answer(200, [("Content-Type", "application/json")], body, [])
                return
            url = (self.command, self.path)
            request_headers = self._request_headers()
            if self.command == "GET":
                found = cache.lookup(url, request_headers)
                if found is not None:
                    status, headers, body, when = found
                    extra = []
                    if cache_headers:
                        extra = [("Age", str(int(time.time() - when))), ("X-Cache", "Hit from cacheproxy")]
                    self._answer(status, headers, body, extra)
                    return
            try:
                status, headers, body = self._forward()
            except (OSError, http.client.HTTPException) as e:
                message = f"cacheproxy: upstream {upstream}: {e!r}".encode()
                self._answer(504, [("Content-Type", "text/plain")], message, [])
                return
            if self.command == "GET" and status == 200:
                cache.keep(url, request_headers, status, headers, body)
            extra = [("X-Cache", "Miss from cacheproxy")] if cache_headers else []
            self._answer(status, headers, body, extra)

        do_GET = _handle
        do_HEAD = _handle
        do_OPTIONS = _handle
        do_PUT = _handle
        do_POST = _handle
        do_DELETE = _handle

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True, help="the server behind, e.g. http://127.0.0.1:4566")
    p.add_argument("--key", required=True, choices=["url", "origin", "vary"], help="what the cache keys on")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--no-cache-headers", action="store_true", help="send no Age or X-Cache")
    p.add_argument("--upstream-timeout", type=float, default=10.0, help="seconds per upstream request")
    p.add_argument("--no-stdin", action="store_true", help="run until killed, not until stdin closes")
    args = p.parse_args()

    cache = Cache(args.key)
    handler = make_handler(args.upstream, cache, not args.no_cache_headers, args.upstream_timeout)
    server = ThreadingHTTPServer((args.host, args.port), handler)
    server.daemon_threads = True
    print(f"http://{args.host}:{server.server_address[1]}", flush=True)
    if not args.no_stdin:

        def until_stdin_closes():
            while sys.stdin.buffer.read(4096):
                pass
            server.shutdown()

        threading.Thread(target=until_stdin_closes, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
