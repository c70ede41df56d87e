"""A local stand-in for GitHub's REST issue-comment endpoints, for
tests/it/action.rs to run scripts/action/comment.py against.

  github_api.py STATE_FILE TOKEN PAGE_SIZE

Serves, on a free loopback port (printed as the first stdout line):
  GET   /repos/OWNER/NAME/issues/N/comments?page=P   (Link: rel="next" paging)
  POST  /repos/OWNER/NAME/issues/N/comments         {"body": ...}
  PATCH /repos/OWNER/NAME/issues/comments/ID        {"body": ...}
with GitHub's status codes: 401 without `Authorization: Bearer TOKEN`, 403 for a
write with the token `read-only` (what a fork's pull request gets), 404 for
an unknown comment, 422 for a body that is not a string. STATE_FILE holds
{"comments": [{"id", "issue", "body", "user"}], "requests": ["METHOD PATH"]}: read
at start, written after every request. Stops when its stdin closes.
"""

import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

STATE_FILE, TOKEN, PAGE_SIZE = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(STATE_FILE, encoding="utf-8") as f:
    STATE = json.load(f)
STATE.setdefault("comments", [])
STATE.setdefault("requests", [])
LOCK = threading.Lock()


def save():
    """Writes STATE whole or not at all (a new file renamed over the old), so the
    test, reading the file at any moment, never sees it half written."""
    tmp = STATE_FILE + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(STATE, f, indent=1)
    os.replace(tmp, STATE_FILE)


save()

LIST = re.compile(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
ONE = re.compile(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, payload, headers=()):
        # Sent by handle_any once the state is saved: a client that has its answer
        # finds the state file already up to date.
        self.pending = (status, payload, headers)

    def send_answer(self, status, payload, headers):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def public(self, c):
        repo = c.get("repo", "o/r")
        return {
            "id": c["id"],
            "body": c["body"],
            "user": {"login": c.get("user", "github-actions[bot]")},
            "html_url": f"https://github.com/{repo}/pull/{c['issue']}#issuecomment-{c['id']}",
        }

    def handle_any(self, method):
        url = urlsplit(self.path)
        self.pending = None
        with LOCK:
            STATE["requests"].append(f"{method} {url.path}")
            try:
                self.route(method, url)
            finally:
                save()
        if self.pending is not None:
            self.send_answer(*self.pending)

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(length) or b"{}")

    def route(self, method, url):
        auth = self.headers.get("Authorization")
        # A read-only token (a fork's pull request) may read, not write.
        if auth == "Bearer read-only" and method != "GET":
            return self.answer(
                403, {"message": "Resource not accessible by integration"}
            )
        if auth not in (f"Bearer {TOKEN}", "Bearer read-only"):
            return self.answer(401, {"message": "Bad credentials"})
        m = LIST.match(url.path)
        if m and method == "GET":
            issue = int(m.group(2))
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            mine = [c for c in STATE["comments"] if c["issue"] == issue]
            chunk = mine[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            headers = []
            if page * PAGE_SIZE < len(mine):
                host = self.headers.get("Host")
                nxt = f"http://{host}{url.path}?per_page={PAGE_SIZE}&page={page + 1}"
                headers.append(("Link", f'<{nxt}>; rel="next"'))
            return self.answer(200, [self.public(c) for c in chunk], headers)
        if m and method == "POST":
            body = self.body().get("body")
            if not isinstance(body, str):
                return self.answer(422, {"message": "body is missing"})
            new_id = max([c["id"] for c in STATE["comments"]] + [1000]) + 1
            c = {
                "id": new_id,
                "issue": int(m.group(2)),
                "body": body,
                "repo": m.group(1),
            }
            STATE["comments"].append(c)
            return self.answer(201, self.public(c))
        m = ONE.match(url.path)
        if m and method == "PATCH":
            body = self.body().get("body")
            if not isinstance(body, str):
                return self.answer(422, {"message": "body is missing"})
            for c in STATE["comments"]:
                if c["id"] == int(m.group(2)):
                    c["body"] = body
                    return self.answer(200, self.public(c))
            return self.answer(404, {"message": "Not Found"})
        return self.answer(404, {"message": "Not Found"})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
sys.stdin.read()
server.shutdown()
