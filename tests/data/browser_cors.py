"""Run `fetch()` cases in headless Chromium and report what the browser did.

Used by tests/it/browser.rs. Standard library only: it speaks the W3C WebDriver
protocol over HTTP to Debian's chromedriver, which starts Chromium.

    python3 browser_cors.py CASES.json

CASES.json: {"chromium": PATH, "chromedriver": PATH, "cases": [{"name", "page" (the
page URL, whose origin makes the request), "url", "init" (fetch's init object)}]}.

Prints one JSON object: {"results": [{"name", "ok" (fetch resolved), "status",
"error" (the rejection), "console" (the page's console messages naming the
URL)}], "seconds": N}. Every wait is bounded; a failure exits non-zero with the
reason on stderr.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HTTP_TIMEOUT = 60
SCRIPT_TIMEOUT_MS = 15000
DRIVER_START_TIMEOUT = 30

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

FETCH = """
const [url, init, done] = arguments;
fetch(url, init).then(
  (r) => done({ok: true, status: r.status, error: null}),
  (e) => done({ok: false, status: null, error: String(e)}),
);
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self, base):
        self.base = base
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise SystemExit(
                f"chromedriver {method} {path}: {e.code} {e.read()[:2000]!r}"
            ) from e

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)


def wait_ready(base, proc):
    deadline = time.monotonic() + DRIVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chromedriver exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/status", timeout=2) as r:
                if json.loads(r.read())["value"].get("ready"):
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit(f"chromedriver not ready within {DRIVER_START_TIMEOUT} s")


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    started = time.monotonic()
    profile = tempfile.mkdtemp(prefix="s3cors-chromium-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(os.path.join(profile, "chromedriver.log"), "w")
    proc = subprocess.Popen(
        [spec["chromedriver"], f"--port={port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    driver = Driver(base)
    results = []
    failed = True
    try:
        wait_ready(base, proc)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": spec["chromium"],
                        "args": FLAGS + [f"--user-data-dir={profile}/profile"],
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                    "timeouts": {"script": SCRIPT_TIMEOUT_MS, "pageLoad": 30000},
                }
            }
        }
        value = driver.call("POST", "/session", caps)
        driver.session = value["sessionId"]
        page = None
        for case in spec["cases"]:
            if case["page"] != page:
                driver.s("POST", "/url", {"url": case["page"]})
                page = case["page"]
            outcome = driver.s(
                "POST",
                "/execute/async",
                {"script": FETCH, "args": [case["url"], case["init"]]},
            )
            logs = driver.s("POST", "/se/log", {"type": "browser"}) or []
            console = [
                e.get("message", "")
                for e in logs
                if case["url"] in e.get("message", "")
            ]
            results.append({"name": case["name"], **outcome, "console": console})
        failed = False
    finally:
        if driver.session:
            try:
                driver.call("DELETE", f"/session/{driver.session}")
            except (SystemExit, OSError):
                pass
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        if failed:
            with open(os.path.join(profile, "chromedriver.log")) as f:
                sys.stderr.write(
                    "chromedriver's log, last lines:\n" + "".join(f.readlines()[-40:])
                )
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(
        {"results": results, "seconds": round(time.monotonic() - started, 1)},
        sys.stdout,
    )


if __name__ == "__main__":
    main()
