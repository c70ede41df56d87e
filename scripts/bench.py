#!/usr/bin/env python3
"""The benchmark driver behind scripts/bench (run that, not this).

For each fleet size N it starts a fresh moto server, seeds N buckets with CORS
(half of them drifted from the policy), then measures in the same run:
  a. the server's ceiling: an unsigned keep-alive HTTP load generator (asyncio, raw
     sockets) doing GetBucketCors on every bucket with the same concurrency;
  b. `s3cors plan` and `s3cors apply --auto-approve` (release build): wall time,
     CPU time (user+sys), peak RSS;
  c. peers: a boto3 script with a 16-thread pool doing the same reads, and an AWS
     CLI `get-bucket-cors` loop over a sample, scaled to N;
  d. (for the latency size) a 50 ms delaying proxy (scripts/s3proxy.py) in front of
     moto, and in front of a stub that answers at once, with `s3cors plan` through
     each, against the limit N x 50 ms / parallelism.
Servers run on the first CPU and clients on the others (--no-pin: no pinning).
Then it writes BENCHMARKS.md.
"""

import argparse
import asyncio
import base64
import datetime
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOTO_PY = ROOT / ".venv/moto/bin/python"
BENCH_PY = ROOT / ".venv/bench/bin/python"
AWS_CLI = ROOT / ".venv/bench/bin/aws"
S3CORS = Path(os.environ.get("S3CORS_BIN") or ROOT / "target/release/s3cors")
REGION = "us-east-1"

POLICY_RULE = {
    "AllowedOrigins": ["https://app.example.com"],
    "AllowedMethods": ["GET", "HEAD"],
    "AllowedHeaders": ["*"],
    "ExposeHeaders": ["ETag"],
    "MaxAgeSeconds": 3600,
}
DRIFTED_ORIGIN = "https://old.example.com"


def log(msg):
    print(f"scripts/bench: {msg}", file=sys.stderr, flush=True)


def cors_xml(origin):
    return (
        '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>'
        "<AllowedHeader>*</AllowedHeader>"
        "<AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>"
        f"<AllowedOrigin>{origin}</AllowedOrigin>"
        "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3600</MaxAgeSeconds>"
        "</CORSRule></CORSConfiguration>"
    ).encode()


def bucket_names(n):
    return [f"bench-{i:05d}" for i in range(n)]


def aws_env():
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("AWS_"):
            del env[k]
    env.update(
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        AWS_EC2_METADATA_DISABLED="true",
    )
    return env


# --- processes that serve --------------------------------------------------------


# CPU pinning (on by default with 2 or more CPUs): the servers (moto, the proxy) on
# SERVER_CPUS, this script and every client it starts (its load generator, s3cors,
# boto3, the AWS CLI) on CLIENT_CPUS. Left to the scheduler, clients and server
# share the cores differently from one run to the next (about 15% run-to-run spread
# in the ceiling here); pinned, each side has its own and the spread is about 3%.
SERVER_CPUS = None
CLIENT_CPUS = None


def pin(server_cpus, client_cpus):
    global SERVER_CPUS, CLIENT_CPUS
    SERVER_CPUS, CLIENT_CPUS = server_cpus, client_cpus
    os.sched_setaffinity(0, client_cpus)


def on_server_cpus():
    if SERVER_CPUS is not None:
        os.sched_setaffinity(0, SERVER_CPUS)


class Served:
    """A child that prints its URL first and stops when its stdin closes."""

    def __init__(self, argv, name):
        self.name = name
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=on_server_cpus,
        )
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http"):
            err = self.proc.stderr.read()
            raise SystemExit(f"scripts/bench: {name} did not start:\n{err}")

    def stop(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_moto():
    return Served(["bash", str(ROOT / "scripts/servers"), "run", "moto"], "moto")


def start_proxy(upstream, *args):
    return Served([str(MOTO_PY), str(ROOT / "scripts/s3proxy.py"), "--upstream", upstream, *args], "s3proxy")


def proxy_stats(url):
    return json.loads(raw_get(url, "/__proxy/stats"))


def raw_get(url, path):
    import http.client

    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("GET", path)
    body = conn.getresponse().read()
    conn.close()
    return body


# --- the raw load generator --------------------------------------------------------


# The headers an AWS SDK sends with a SigV4-signed GET (moto does not check the
# signature, but it does parse these): for a ceiling that costs the server what a
# real client's requests cost it.
SIGNED_SHAPE = (
    "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
    "Signature=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\r\n"
    "x-amz-date: 20260101T000000Z\r\n"
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\r\n"
    "user-agent: bench/1 os/linux\r\n"
    "amz-sdk-invocation-id: 00000000-0000-0000-0000-000000000000\r\n"
    "amz-sdk-request: attempt=1; max=10\r\n"
)


async def run_requests(url, requests, concurrency, extra_headers=""):
    """Send (method, path, body) requests over `concurrency` keep-alive connections
    (reconnecting whenever the server closes one); a request may carry a fourth
    item, its own headers instead of `extra_headers`. Returns (seconds, statuses)."""
    u = urllib.parse.urlsplit(url)
    host, port = u.hostname, u.port
    queue = list(reversed(requests))
    statuses = Counter()

    async def worker():
        reader = writer = None
        while queue:
            method, path, body, *own = queue.pop()
            headers_out = own[0] if own else extra_headers
            for attempt in range(3):
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{headers_out}"
                if body is not None:
                    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
                    head += f"Content-Type: application/xml\r\nContent-MD5: {md5}\r\nContent-Length: {len(body)}\r\n"
                try:
                    writer.write(head.encode() + b"\r\n" + (body or b""))
                    await writer.drain()
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (ConnectionError, asyncio.IncompleteReadError):
                    writer.close()
                    reader = writer = None
                    if attempt == 2:
                        raise
                    continue
                break
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            if method != "HEAD" and "content-length" in headers:
                await reader.readexactly(int(headers["content-length"]))
            elif method != "HEAD" and "chunked" in headers.get("transfer-encoding", ""):
                while True:
                    size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            statuses[status] += 1
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - t0, statuses


def load(url, requests, concurrency, extra_headers=""):
    return asyncio.run(run_requests(url, requests, concurrency, extra_headers))


def seed(url, names, concurrency):
    """Create the buckets and give each a CORS configuration: even ones as the
    policy wants, odd ones drifted."""
    t, st = load(url, [("PUT", f"/{b}", None) for b in names], concurrency)
    if set(st) != {200}:
        raise SystemExit(f"scripts/bench: CreateBucket answers {dict(st)}")
    t2 = redrift(url, names, concurrency, all_buckets=True)
    return t + t2


def redrift(url, names, concurrency, all_buckets=False):
    good, bad = cors_xml(POLICY_RULE["AllowedOrigins"][0]), cors_xml(DRIFTED_ORIGIN)
    reqs = [
        ("PUT", f"/{b}?cors", bad if i % 2 else good)
        for i, b in enumerate(names)
        if all_buckets or i % 2
    ]
    t, st = load(url, reqs, concurrency)
    if set(st) != {200}:
        raise SystemExit(f"scripts/bench: PutBucketCors answers {dict(st)}")
    return t


def ceiling(url, names, concurrency, extra_headers="", cpu=None):
    before = resource.getrusage(resource.RUSAGE_SELF)
    t, st = load(url, [("GET", f"/{b}?cors", None) for b in names], concurrency, extra_headers)
    after = resource.getrusage(resource.RUSAGE_SELF)
    if set(st) != {200}:
        raise SystemExit(f"scripts/bench: GetBucketCors answers {dict(st)}")
    if cpu is not None:
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return t


# --- timed commands ----------------------------------------------------------------


def timed(argv, env=None, check_json=None, cwd=None, ok=(0, 2)):
    """Run argv under /usr/bin/time; wall (perf_counter), user+sys CPU, peak RSS.
    s3cors runs in the bench's scratch folder (apply records its runs in .s3cors/)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-o", tf.name, "-f", "%U %S %M", *argv],
            cwd=cwd or ROOT,
            env=env or aws_env(),
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        user, sys_, rss = tf.read().strip().splitlines()[-1].split()
    if proc.returncode not in ok:
        raise SystemExit(f"scripts/bench: {' '.join(map(str, argv))} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    if check_json:
        check_json(json.loads(proc.stdout))
    return {"wall": wall, "cpu": float(user) + float(sys_), "rss_mb": int(rss) / 1024, "stdout": proc.stdout}


def s3cors_args(url, parallelism):
    return [str(S3CORS), "--endpoint-url", url, "--path-style", "--region", REGION, "--parallelism", str(parallelism)]


def write_policy(path, names):
    with open(path, "w") as f:
        f.write("# Generated by scripts/bench: one entry per bucket, region declared.\nversion: 1\nbuckets:\n")
        rule = json.dumps(POLICY_RULE)
        for b in names:
            f.write(f"  - name: {b}\n    region: {REGION}\n    rules: [{rule}]\n")


BOTO3_READS = r"""
import sys, time
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
url, n, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s3 = boto3.client("s3", endpoint_url=url, config=Config(
    s3={"addressing_style": "path"}, max_pool_connections=threads,
    retries={"mode": "adaptive", "max_attempts": 10}))
names = [f"bench-{i:05d}" for i in range(n)]
def read(b):
    try:
        return len(s3.get_bucket_cors(Bucket=b)["CORSRules"]) == 1
    except ClientError:
        return False
t0 = time.perf_counter()
with ThreadPoolExecutor(threads) as pool:
    ok = sum(pool.map(read, names))
print(time.perf_counter() - t0, n - ok)
"""


def boto3_reads(url, n):
    b = timed([str(BENCH_PY), "-c", BOTO3_READS, url, str(n), "16"])
    loop, failed = b["stdout"].split()
    b["loop"], b["failed"] = float(loop), int(failed)
    return b


THROTTLE_RUNS = 5

# Buckets in the constant-SlowDown scenario (every GetBucketCors answered SlowDown).
SLOWDOWN_N = 100


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


# --- one fleet size --------------------------------------------------------------


def bench_size(n, args, results):
    names = bucket_names(n)
    work = Path(tempfile.mkdtemp(prefix=f"s3cors-bench-{n}-"))
    moto = start_moto()
    log(f"N={n}: moto at {moto.url}; seeding {n} buckets ...")
    try:
        seconds = seed(moto.url, names, 32)
        log(f"N={n}: seeded in {seconds:.1f} s")
        policies = work / "policies"
        policies.mkdir()
        write_policy(policies / "fleet.yaml", names)
        repeat = args.repeat or (5 if n <= 2000 else 1)
        row = {"n": n, "repeat": repeat}

        def plan_ok(report):
            s = report["summary"]
            if (s["update"], s["unchanged"], s["errors"]) != (n // 2, n - n // 2, 0):
                raise SystemExit(f"scripts/bench: unexpected plan summary {s}")

        def apply_ok(report):
            s = report["summary"]
            if s.get("updated") != n // 2 or s.get("failed") or s.get("stale"):
                raise SystemExit(f"scripts/bench: unexpected apply summary {s}")

        ceil, ceil_signed, ceil_cpu, plans, boto, applies = [], [], [], [], [], []
        for r in range(repeat):
            log(f"N={n} run {r + 1}/{repeat}: ceiling (raw GetBucketCors, concurrency {args.parallelism}) ...")
            ceil.append(ceiling(moto.url, names, args.parallelism, cpu=ceil_cpu))
            ceil_signed.append(ceiling(moto.url, names, args.parallelism, SIGNED_SHAPE))
            log(f"N={n} run {r + 1}/{repeat}: s3cors plan ...")
            plans.append(
                timed([*s3cors_args(moto.url, args.parallelism), "plan", str(policies), "--format", "json"], check_json=plan_ok, cwd=work)
            )
            log(f"N={n} run {r + 1}/{repeat}: boto3, 16 threads ...")
            b = boto3_reads(moto.url, n)
            if b["failed"]:
                raise SystemExit(f"scripts/bench: boto3 failed {b['failed']} reads")
            boto.append(b)
            log(f"N={n} run {r + 1}/{repeat}: s3cors apply --auto-approve ...")
            applies.append(
                timed(
                    [*s3cors_args(moto.url, args.parallelism), "--format", "json", "apply", "--policies", str(policies), "--auto-approve"],
                    check_json=apply_ok,
                    cwd=work,
                )
            )
            redrift(moto.url, names, 32)

        sample = names[: args.cli_sample]
        log(f"N={n}: AWS CLI get-bucket-cors loop over {len(sample)} buckets ...")
        t0 = time.perf_counter()
        for b in sample:
            subprocess.run(
                [str(AWS_CLI), "s3api", "get-bucket-cors", "--bucket", b, "--endpoint-url", moto.url],
                env=aws_env(),
                check=True,
                capture_output=True,
            )
        cli = time.perf_counter() - t0

        row.update(
            ceiling_s=statistics.median(ceil),
            # Ratios of back-to-back runs, which share the machine's background load.
            plan_vs_ceiling=statistics.median(c / p["wall"] for c, p in zip(ceil, plans, strict=True)),
            plan_vs_signed=statistics.median(c / p["wall"] for c, p in zip(ceil_signed, plans, strict=True)),
            boto3_vs_plan=statistics.median(b["wall"] / p["wall"] for b, p in zip(boto, plans, strict=True)),
            ceiling_signed_s=statistics.median(ceil_signed),
            ceiling_cpu=statistics.median(ceil_cpu),
            plan_s=median_of(plans, "wall"),
            plan_cpu=median_of(plans, "cpu"),
            plan_rss=max(p["rss_mb"] for p in plans),
            apply_s=median_of(applies, "wall"),
            apply_cpu=median_of(applies, "cpu"),
            apply_rss=max(a["rss_mb"] for a in applies),
            boto3_s=median_of(boto, "wall"),
            boto3_loop_s=median_of(boto, "loop"),
            boto3_cpu=median_of(boto, "cpu"),
            cli_sample=len(sample),
            cli_sample_s=cli,
            cli_scaled_s=cli / len(sample) * n,
        )
        results["sizes"].append(row)

        if n == args.latency_n:
            bench_latency(n, names, policies, moto, args, results)
    finally:
        moto.stop()
        shutil.rmtree(work, ignore_errors=True)


def bench_latency(n, names, policies, moto, args, results):
    limit = n * args.delay_ms / 1000 / args.parallelism
    out = {"n": n, "delay_ms": args.delay_ms, "parallelism": args.parallelism, "limit_s": limit}
    for label, upstream in (("moto", moto.url), ("stub", "stub")):
        proxy = start_proxy(upstream, "--delay-ms", str(args.delay_ms))
        try:
            log(f"latency via {label}: raw GetBucketCors through a {args.delay_ms} ms proxy ...")
            t, st = load(proxy.url, [("GET", f"/{b}?cors", None) for b in names], args.parallelism)
            if set(st) != {200}:
                raise SystemExit(f"scripts/bench: through the proxy: {dict(st)}")
            reset(proxy.url)
            log(f"latency via {label}: s3cors plan through a {args.delay_ms} ms proxy ...")
            p = timed([*s3cors_args(proxy.url, args.parallelism), "plan", str(policies), "--format", "json"], cwd=policies.parent)
            stats = proxy_stats(proxy.url)
            log(f"latency via {label}: boto3, 16 threads, through a {args.delay_ms} ms proxy ...")
            b = boto3_reads(proxy.url, n)
            out[label] = {
                "raw_s": t,
                "plan_s": p["wall"],
                "plan_cpu": p["cpu"],
                "calls": stats["requests"],
                "boto3_s": b["wall"],
                "boto3_loop_s": b["loop"],
            }
        finally:
            proxy.stop()
    results["latency"] = out

    rate = args.rate_limit
    proxy = start_proxy(moto.url, "--rate-limit", str(rate))
    plans, botos = [], []
    try:
        # Several runs each: how soon a rate limiter settles can depend on how many
        # SlowDowns land in the first burst (the SDKs' adaptive mode: bimodal runs).
        for r in range(THROTTLE_RUNS):
            reset(proxy.url)
            log(f"throttling run {r + 1}/{THROTTLE_RUNS}: s3cors plan through a proxy that throttles above {rate:g} requests/s ...")
            p = timed([*s3cors_args(proxy.url, args.parallelism), "plan", str(policies), "--format", "json"], cwd=policies.parent)
            stats = proxy_stats(proxy.url)
            plans.append({
                "wall": p["wall"],
                "errors": json.loads(p["stdout"])["summary"]["errors"],
                "throttled": stats["throttled"].get("GetBucketCors", 0),
            })
            reset(proxy.url)
            log(f"throttling run {r + 1}/{THROTTLE_RUNS}: boto3 (adaptive retry), 16 threads, through the same proxy ...")
            b = boto3_reads(proxy.url, n)
            stats = proxy_stats(proxy.url)
            botos.append({
                "wall": b["wall"],
                "errors": b["failed"],
                "throttled": stats["throttled"].get("GetBucketCors", 0),
            })
    finally:
        proxy.stop()
    results["throttling"] = {"n": n, "rate": rate, "limit_s": n / rate, "plan": plans, "boto3": botos}

    # Constant SlowDown: every bucket must fail, within the per-call budget.
    few = policies.parent / "policies-slowdown"
    few.mkdir(exist_ok=True)
    write_policy(few / "fleet.yaml", names[:SLOWDOWN_N])
    proxy = start_proxy(moto.url, "--throttle-rate", "1", "--throttle-ops", "GetBucketCors")
    try:
        log(f"constant SlowDown: s3cors plan of {SLOWDOWN_N} buckets, every read throttled ...")
        p = timed([*s3cors_args(proxy.url, args.parallelism), "plan", str(few), "--format", "json"], cwd=few.parent, ok=(1,))
        stats = proxy_stats(proxy.url)
        results["slowdown"] = {
            "n": SLOWDOWN_N,
            "wall": p["wall"],
            "errors": json.loads(p["stdout"])["summary"]["errors"],
            "requests": stats["requests"].get("GetBucketCors", 0),
        }
    finally:
        proxy.stop()


def reset(url):
    import http.client

    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    conn.request("POST", "/__proxy/reset", body=b"")
    conn.getresponse().read()
    conn.close()


# --- the report ----------------------------------------------------------------------


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    versions = {}
    for name, argv in {
        "s3cors": [str(S3CORS), "--version"],
        "rustc": ["rustc", "--version"],
        "moto": [str(MOTO_PY), "-c", "import moto; print(moto.__version__)"],
        "boto3": [str(BENCH_PY), "-c", "import boto3; print(boto3.__version__)"],
        "aws-cli": [str(AWS_CLI), "--version"],
        "python": [str(MOTO_PY), "--version"],
    }.items():
        try:
            v = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            versions[name] = (v.stdout or v.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            versions[name] = "unknown"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem, "kernel": platform.release(), "versions": versions}


def verdict(ok):
    return "met" if ok else "**missed**"


def pinning_text(pinning):
    if not pinning:
        return "none (`--no-pin`, or one CPU): servers and clients share the cores as the scheduler decides"
    def cpus(ids):
        return ", ".join(map(str, ids))

    return (
        f"moto and the proxy on CPU {cpus(pinning['server'])}; the load generator, s3cors, boto3 and the "
        f"AWS CLI on CPU {cpus(pinning['clients'])} (`sched_setaffinity`; `--no-pin` turns it off)"
    )


def report(results, args):
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Fleet-scale reads and writes of bucket CORS, measured side by side in one run by",
        "`scripts/bench` against a local moto server (the targets are under Targets below).",
        "",
        "## How to reproduce",
        "",
        "```sh",
        f"scripts/bench --sizes {','.join(map(str, args.sizes))}   # about {results['elapsed_min']:.0f} minutes here",
        "```",
        "",
        "It installs moto (`scripts/servers install moto`) and boto3 + AWS CLI v1 into",
        "`.venv/bench`, builds `target/release/s3cors`, then for each N starts a fresh moto,",
        "creates N buckets `bench-00000`... with CORS (odd ones drifted from the policy:",
        f"another origin), writes one policy file with N exact entries (`region: {REGION}`),",
        "and measures, in this order:",
        "",
        f"- **ceiling**: `scripts/bench.py`'s asyncio load generator, {args.parallelism} keep-alive",
        "  connections, unsigned `GET /bucket?cors` for every bucket: what the server itself can answer;",
        "  and again with the headers of a SigV4-signed request (moto parses but does not check them),",
        "  which cost moto a few percent more per request;",
        f"- **s3cors plan**: `s3cors --endpoint-url URL --path-style --region {REGION} --parallelism {args.parallelism} plan policies --format json`",
        "  (must report N/2 to update, N/2 unchanged);",
        "- **boto3**: one shared client, `ThreadPoolExecutor(16)`, `get_bucket_cors` on every bucket",
        "  (adaptive retry); wall time of the whole process, and of the read loop alone;",
        "- **s3cors apply**: `s3cors ... --format json apply --policies policies --auto-approve`:",
        "  plan, then per drifted bucket re-read, PutBucketCors and read back until equal",
        "  (must report N/2 updated); the drift is then restored for the next repetition;",
        "- **AWS CLI**: `aws s3api get-bucket-cors --bucket B --endpoint-url URL`, one process per",
        f"  bucket, in a loop over the first {args.cli_sample} buckets; scaled to N;",
        f"- **latency** (N = {args.latency_n}): `scripts/s3proxy.py --delay-ms {args.delay_ms:g}` in front of moto",
        "  and in front of its stub upstream (answers GetBucketCors at once, so only the added",
        "  latency is left), with the load generator, `s3cors plan` and the boto3 script through each;",
        f"  the limit is N x {args.delay_ms:g} ms / {args.parallelism};",
        f"- **throttling** (N = {args.latency_n}): `scripts/s3proxy.py --rate-limit {args.rate_limit:g}` in front of moto",
        "  answers SlowDown above that rate, as S3 does; `s3cors plan` and the boto3 script through it,",
        f"  {THROTTLE_RUNS} runs each.",
        "- **constant SlowDown**: `scripts/s3proxy.py --throttle-rate 1` answers every GetBucketCors of",
        f"  a {SLOWDOWN_N}-bucket plan SlowDown; every bucket must fail, within the per-call budget.",
        "",
        "Servers and clients run on separate CPUs unless `--no-pin` (see Machine), so a",
        "client's CPU time does not slow the server it measures and runs repeat closely.",
        "Times are wall-clock seconds (median of the repetitions); ratios are medians over",
        "back-to-back pairs of runs; CPU is user + system time of the process; RSS is the peak",
        "resident set (`/usr/bin/time`). Other work on the machine shows up as noise (see the",
        "load averages).",
        "",
        "## Machine",
        "",
        f"- Date: {results['date']}",
        f"- CPU: {m['cpu']}, {m['nproc']} cores (`nproc`); RAM {m['ram']}; Linux {m['kernel']}",
        f"- Load average (1 min) at the start and the end of the run: {results['load'][0]:.2f}, {results['load'][1]:.2f}",
        "- Pinning: " + pinning_text(results.get("pinning")),
    ]
    lines += [f"- {k}: {v}" for k, v in m["versions"].items()]
    lines += [
        "",
        "## Results",
        "",
        "| N | runs | ceiling | ceiling, SigV4-shaped headers | s3cors plan | plan CPU | plan RSS | s3cors apply | apply CPU | apply RSS | boto3 16 threads (loop) | AWS CLI (scaled) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results["sizes"]:
        n = r["n"]
        lines.append(
            f"| {n:,} | {r['repeat']} | {r['ceiling_s']:.2f} s ({n / r['ceiling_s']:.0f}/s) "
            f"| {r['ceiling_signed_s']:.2f} s ({n / r['ceiling_signed_s']:.0f}/s) "
            f"| {r['plan_s']:.2f} s ({n / r['plan_s']:.0f}/s) | {r['plan_cpu']:.2f} s | {r['plan_rss']:.0f} MB "
            f"| {r['apply_s']:.2f} s | {r['apply_cpu']:.2f} s | {r['apply_rss']:.0f} MB "
            f"| {r['boto3_s']:.2f} s ({r['boto3_loop_s']:.2f} s) | {r['cli_scaled_s']:.0f} s ({r['cli_sample']} in {r['cli_sample_s']:.1f} s) |"
        )
    lines += [
        "",
        "Ratios (higher is better for s3cors):",
        "",
        "| N | plan throughput / ceiling | ... / SigV4-shaped ceiling | boto3 time / plan time | AWS CLI time / plan time | plan CPU per bucket | apply CPU per bucket | load generator CPU per request |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results["sizes"]:
        n = r["n"]
        lines.append(
            f"| {n:,} | {r['plan_vs_ceiling']:.0%} | {r['plan_vs_signed']:.0%} | {r['boto3_vs_plan']:.2f}x "
            f"| {r['cli_scaled_s'] / r['plan_s']:.0f}x | {r['plan_cpu'] / n * 1000:.3f} ms | {r['apply_cpu'] / n * 1000:.3f} ms "
            f"| {r['ceiling_cpu'] / n * 1000:.3f} ms |"
        )
    lat = results.get("latency")
    if lat:
        lines += [
            "",
            f"Latency: N = {lat['n']:,}, {lat['delay_ms']:g} ms added to every request, parallelism "
            f"{lat['parallelism']}; limit N x {lat['delay_ms']:g} ms / {lat['parallelism']} = {lat['limit_s']:.2f} s.",
            "",
            "| behind the proxy | load generator | s3cors plan | plan / limit | boto3 16 threads (loop) | boto3 / plan | S3 calls by s3cors plan |",
            "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for label in ("stub", "moto"):
            x = lat[label]
            calls = ", ".join(f"{k} {v}" for k, v in sorted(x["calls"].items()))
            lines.append(
                f"| {label} | {x['raw_s']:.2f} s | {x['plan_s']:.2f} s | {x['plan_s'] / lat['limit_s']:.2f}x "
                f"| {x['boto3_s']:.2f} s ({x['boto3_loop_s']:.2f} s) | {x['boto3_s'] / x['plan_s']:.2f}x | {calls} |"
            )
    thr = results.get("throttling")
    if thr:
        lines += [
            "",
            f"Throttling: N = {thr['n']:,} through `scripts/s3proxy.py --rate-limit {thr['rate']:g}` (SlowDown for",
            f"requests above {thr['rate']:g} per second) in front of moto; limit N / {thr['rate']:g} = {thr['limit_s']:.2f} s.",
            "",
            f"| client | wall (median of {len(thr['plan'])}) | / limit | each run | SlowDown answers per run | buckets failed |",
            "| --- | ---: | ---: | --- | --- | ---: |",
        ]
        for label, runs in (
            (f"s3cors plan (parallelism {args.parallelism}, paced retry)", thr["plan"]),
            ("boto3, 16 threads, adaptive retry", thr["boto3"]),
        ):
            wall = median_of(runs, "wall")
            each = ", ".join(f"{r['wall']:.2f} s" for r in runs)
            throttled = ", ".join(str(r["throttled"]) for r in runs)
            failed = sum(r["errors"] for r in runs)
            lines.append(f"| {label} | {wall:.2f} s | {wall / thr['limit_s']:.2f}x | {each} | {throttled} | {failed} |")
    slow = results.get("slowdown")
    if slow:
        lines += [
            "",
            f"Constant SlowDown: {slow['n']} buckets through `scripts/s3proxy.py --throttle-rate 1` (every",
            "GetBucketCors answered SlowDown); every bucket must fail, each call within its",
            "budget (10 attempts, 3 x --timeout = 90 s).",
            "",
            "| client | wall | buckets failed | GetBucketCors requests |",
            "| --- | ---: | ---: | ---: |",
            f"| s3cors plan (parallelism {args.parallelism}) | {slow['wall']:.1f} s | {slow['errors']} | {slow['requests']} |",
        ]
    lines += ["", "## Targets", ""]
    big = max(results["sizes"], key=lambda r: r["n"])
    rows = [
        ("plan throughput >= 90% of the ceiling", all(r["plan_vs_ceiling"] >= 0.9 for r in results["sizes"]),
         ", ".join(f"{r['plan_vs_ceiling']:.1%} at {r['n']:,}" for r in results["sizes"])),
        (">= 2x the boto3 thread pool (against moto)", all(r["boto3_vs_plan"] >= 2 for r in results["sizes"]),
         ", ".join(f"{r['boto3_vs_plan']:.2f}x at {r['n']:,}" for r in results["sizes"])),
        (">= 50x the AWS CLI loop", all(r["cli_scaled_s"] / r["plan_s"] >= 50 for r in results["sizes"]),
         ", ".join(f"{r['cli_scaled_s'] / r['plan_s']:.0f}x at {r['n']:,}" for r in results["sizes"])),
        (f"peak RSS < 100 MB at N = {big['n']:,}", max(big["plan_rss"], big["apply_rss"]) < 100,
         f"plan {big['plan_rss']:.0f} MB, apply {big['apply_rss']:.0f} MB"),
        ("CPU time per bucket < 1 ms", all(max(r["plan_cpu"], r["apply_cpu"]) / r["n"] < 0.001 for r in results["sizes"]),
         ", ".join(f"plan {r['plan_cpu'] / r['n'] * 1000:.2f} ms, apply {r['apply_cpu'] / r['n'] * 1000:.2f} ms at {r['n']:,}" for r in results["sizes"])),
    ]
    if lat:
        rows.append(
            (f">= 2x the boto3 thread pool (through the {lat['delay_ms']:g} ms proxy, stub behind it)",
             lat["stub"]["boto3_s"] / lat["stub"]["plan_s"] >= 2,
             f"{lat['stub']['boto3_s'] / lat['stub']['plan_s']:.2f}x at {lat['n']:,}")
        )
        rows.append(
            (f"through the {lat['delay_ms']:g} ms proxy: within 1.3x of the limit", lat["stub"]["plan_s"] / lat["limit_s"] <= 1.3,
             f"{lat['stub']['plan_s'] / lat['limit_s']:.2f}x with the stub behind it; "
             f"{lat['moto']['plan_s'] / lat['limit_s']:.2f}x with moto behind it (moto's own ceiling is "
             f"{lat['n'] / results['sizes'][[r['n'] for r in results['sizes']].index(lat['n'])]['ceiling_s']:.0f} requests/s)")
        )
    if thr:
        worst = max(r["wall"] for r in thr["plan"])
        rows.append(
            (f"throttled at {thr['rate']:g}/s: every run within 1.5x of N / {thr['rate']:g}",
             worst <= 1.5 * thr["limit_s"],
             f"worst of {len(thr['plan'])} runs {worst:.2f} s = {worst / thr['limit_s']:.2f}x "
             f"(limit {1.5 * thr['limit_s']:.2f} s)")
        )
    if slow:
        rows.append(
            (f"constant SlowDown: {slow['n']} buckets all fail within one call budget (90 s)",
             slow["errors"] == slow["n"] and slow["wall"] <= 90,
             f"{slow['errors']} failed in {slow['wall']:.1f} s")
        )
    lines += ["| target | result | measured |", "| --- | --- | --- |"]
    lines += [f"| {target} | {verdict(ok)} | {measured} |" for target, ok, measured in rows]
    notes = Path(__file__).with_name("bench-notes.md")
    if notes.exists():
        lines += ["", notes.read_text().rstrip()]
    return "\n".join(lines).rstrip() + "\n"


def write_section(out, text, begin, end):
    """Writes `text` (which starts with `begin` and ends with `end`) into `out`
    in place of what stands between those markers, or at the end."""
    path = Path(out)
    old = path.read_text() if path.exists() else ""
    if begin in old and end in old:
        head, rest = old.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def with_scale_section(out, text):
    """`text` with the sections `scripts/bench --scale` and `--watch` wrote to
    `out` (between their markers) kept at the end: the runs write one file."""
    path = Path(out)
    old = path.read_text() if path.exists() else ""
    for begin, end in (("<!-- scale:begin -->", "<!-- scale:end -->"), ("<!-- watch:begin -->", "<!-- watch:end -->")):
        if begin in old and end in old:
            kept = begin + old.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
            text = text.rstrip("\n") + "\n\n" + kept
    return text



# --- memory mode (`scripts/bench memory`) -------------------------------------

MEMORY_BEGIN = "<!-- scripts/bench memory: begin -->"
MEMORY_END = "<!-- scripts/bench memory: end -->"


def write_fleet_policy(path, names, shape, match=None, ruleset_decl=True):
    """A policy file for `names`: `inline` gives every entry its own copy of the rule,
    `ruleset` makes every entry reference one ruleset (the case sharing is for)."""
    rule = json.dumps(POLICY_RULE)
    with open(path, "w") as f:
        f.write(f"# Generated by scripts/bench memory: {len(names)} entries, rules {shape}.\nversion: 1\n")
        if shape == "ruleset" and ruleset_decl:
            f.write(f"rulesets:\n  web:\n    - {rule}\n")
        f.write("buckets:\n")
        body = "[{ruleset: web}]" if shape == "ruleset" else f"[{rule}]"
        for b in names:
            f.write(f"  - name: {b}\n    region: {REGION}\n    rules: {body}\n")
        if match:
            f.write(f"  - match: \"{match}\"\n    region: {REGION}\n    rules: {body}\n")


def fleet_dir(root, n, shape, seeded_match=None):
    """N entries split over files of at most 40,000 entries (files are capped at 16 MiB)."""
    d = Path(root) / f"{shape}-{n}"
    d.mkdir(parents=True, exist_ok=True)
    names = [f"absent-{i:06d}" for i in range(n)]
    chunks = [names[i:i + 40_000] for i in range(0, n, 40_000)] or [[]]
    for k, chunk in enumerate(chunks):
        last = k == len(chunks) - 1
        write_fleet_policy(d / f"fleet-{k:02d}.yaml", chunk, shape,
                           match=seeded_match if last else None, ruleset_decl=k == 0)
    return d


def memory_run(binary, argv, env=None, cwd=None):
    r = timed([str(binary), *argv], env=env, cwd=cwd, ok=(0, 1, 2))
    return {"wall": r["wall"], "cpu": r["cpu"], "rss_mb": r["rss_mb"]}


def bench_memory(args):
    """Peak RSS and CPU of `validate` on one big file and of `plan` over a 100,000-bucket
    policy against moto, for the release binary (and --baseline BIN, for before/after)."""
    binaries = [("this build", S3CORS)]
    if args.baseline:
        binaries.insert(0, (f"baseline ({Path(args.baseline).name})", Path(args.baseline)))
    scratch = Path(tempfile.mkdtemp(prefix="s3cors-bench-memory-"))
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "validate_n": args.validate_n,
        "plan_n": args.plan_n,
        "seeded": args.seeded,
        "validate": [],
        "plan": [],
    }
    try:
        for shape in ("inline", "ruleset"):
            path = scratch / f"validate-{shape}.yaml"
            write_fleet_policy(path, [f"bench-{i:06d}" for i in range(args.validate_n)], shape)
            size = path.stat().st_size
            for label, binary in binaries:
                runs = [memory_run(binary, ["validate", str(path)]) for _ in range(args.memory_repeat)]
                best = min(runs, key=lambda r: r["rss_mb"])
                log(f"validate {shape} {args.validate_n}: {label}: {best['rss_mb']:.0f} MB, {best['cpu']:.2f} s CPU")
                results["validate"].append({"shape": shape, "bytes": size, "binary": label,
                                            "rss_mb": [r["rss_mb"] for r in runs], "cpu": [r["cpu"] for r in runs]})
        if args.plan_n:
            moto = start_moto()
            try:
                seeded = [f"seeded-{i:05d}" for i in range(args.seeded)]
                seed(moto.url, seeded, args.parallelism)
                absent = args.plan_n - args.seeded
                for shape in args.plan_shapes.split(","):
                    d = fleet_dir(scratch, absent, shape, seeded_match="seeded-*")
                    for label, binary in binaries:
                        t = timed([str(binary), *s3cors_args(moto.url, args.parallelism)[1:], "plan",
                                   "--format", "json", str(d)], cwd=scratch, ok=(0, 1, 2))
                        summary = json.loads(t["stdout"])["summary"]
                        # Every bucket is in the plan: the seeded ones to create or update, the others missing.
                        if sum(v for v in summary.values() if isinstance(v, int)) < args.plan_n:
                            raise SystemExit(f"scripts/bench: plan of {args.plan_n} buckets: summary {summary}")
                        r = {"wall": t["wall"], "cpu": t["cpu"], "rss_mb": t["rss_mb"], "summary": summary}
                        log(f"plan {shape} {args.plan_n}: {label}: {r['rss_mb']:.0f} MB, "
                            f"{r['wall']:.1f} s, {r['cpu']:.2f} s CPU; {summary}")
                        results["plan"].append({"shape": shape, "binary": label, **r})
            finally:
                moto.stop()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n")
    write_memory_section(Path(args.out), memory_report(results))
    log(f"wrote the memory section of {args.out}")


def memory_report(r):
    m = r["machine"]
    lines = [
        MEMORY_BEGIN,
        "## Memory at fleet scale (`scripts/bench memory`)",
        "",
        f"Run {r['date']} on {m['nproc']} CPUs ({m['cpu']}, {m['ram']}, Linux {m['kernel']}); "
        f"{m['versions'].get('s3cors', '')}. Peak RSS is `/usr/bin/time`'s maximum resident set size "
        "(VmHWM) of the s3cors process; CPU is user + system time.",
        "",
        f"`validate` of one file of {r['validate_n']:,} entries (each `name:`, `region:` and one rule: its own "
        "copy inline, or a reference to one ruleset); best of the runs:",
        "",
        "| rules | file | binary | peak RSS | CPU |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for v in r["validate"]:
        lines.append(f"| {v['shape']} | {v['bytes'] / 1e6:.1f} MB | {v['binary']} | {min(v['rss_mb']):.0f} MB "
                     f"| {min(v['cpu']):.2f} s |")
    if r["plan"]:
        lines += [
            "",
            f"`plan` of {r['plan_n']:,} managed buckets against moto: {r['plan_n'] - r['seeded']:,} exact-name "
            f"entries whose buckets do not exist (each read answers NoSuchBucket: the plan counts them as errors) "
            f"and one `match:` entry over {r['seeded']:,} seeded buckets with CORS; policy split "
            "into files of 40,000 entries:",
            "",
            "| rules | binary | peak RSS | wall | CPU |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for p in r["plan"]:
            lines.append(f"| {p['shape']} | {p['binary']} | {p['rss_mb']:.0f} MB | {p['wall']:.1f} s | {p['cpu']:.2f} s |")
    mine = [v for v in r["validate"] if v["binary"] == "this build"]
    plans = [p for p in r["plan"] if p["binary"] == "this build"]
    lines += ["", "| target | result | measured |", "| --- | --- | --- |"]
    if mine:
        worst = max(min(v["rss_mb"]) for v in mine)
        measured = ", ".join("{} {:.0f} MB".format(v["shape"], min(v["rss_mb"])) for v in mine)
        lines.append(f"| validate of {r['validate_n']:,} entries: peak RSS <= 60 MB | {verdict(worst <= 60)} | {measured} |")
    if plans:
        worst = max(p["rss_mb"] for p in plans)
        measured = ", ".join("{} {:.0f} MB".format(p["shape"], p["rss_mb"]) for p in plans)
        lines.append(f"| plan at {r['plan_n']:,} buckets: peak RSS <= 300 MB | {verdict(worst <= 300)} | {measured} |")
    lines.append(MEMORY_END)
    return "\n".join(lines) + "\n"


def memory_section(path):
    try:
        text = Path(path).read_text()
    except OSError:
        return ""
    if MEMORY_BEGIN in text and MEMORY_END in text:
        return text[text.index(MEMORY_BEGIN):text.index(MEMORY_END) + len(MEMORY_END)] + "\n"
    return ""


def write_memory_section(path, section):
    try:
        text = path.read_text()
    except OSError:
        text = "# Benchmarks\n"
    if MEMORY_BEGIN in text and MEMORY_END in text:
        text = text[:text.index(MEMORY_BEGIN)] + section + text[text.index(MEMORY_END) + len(MEMORY_END) + 1:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)

def main():
    p = argparse.ArgumentParser(prog="scripts/bench")
    p.add_argument("--sizes", default="1000,10000", help="fleet sizes, comma-separated")
    p.add_argument("--parallelism", type=int, default=32)
    p.add_argument("--repeat", type=int, default=0, help="repetitions per size (default: 5 up to 2,000 buckets, else 1)")
    p.add_argument("--cli-sample", type=int, default=100)
    p.add_argument("--latency-n", type=int, default=1000)
    p.add_argument("--delay-ms", type=float, default=50)
    p.add_argument("--rate-limit", type=float, default=300, help="requests/s above which the throttling proxy answers SlowDown")
    p.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    p.add_argument("--json-out", default="", help="also write the raw numbers here")
    p.add_argument("--report-only", metavar="JSON", help="only rewrite --out from a --json-out file")
    p.add_argument("--no-pin", action="store_true", help="leave servers and clients to the scheduler instead of separate CPUs")
    p.add_argument("--baseline", metavar="BIN", help="memory mode: also measure this s3cors binary (before/after)")
    p.add_argument("--validate-n", type=int, default=50_000, help="memory mode: entries in the validated file")
    p.add_argument("--plan-n", type=int, default=100_000, help="memory mode: managed buckets for plan (0: skip plan)")
    p.add_argument("--seeded", type=int, default=1000, help="memory mode: of those, buckets that exist in moto")
    p.add_argument("--plan-shapes", default="ruleset,inline", help="memory mode: policy shapes for plan")
    p.add_argument("--memory-repeat", type=int, default=3, help="memory mode: validate runs per binary")
    p.add_argument("mode", nargs="?", choices=["fleet", "memory"], default="fleet")
    args = p.parse_args()
    if args.mode == "memory":
        bench_memory(args)
        return
    args.sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.latency_n not in args.sizes:
        args.sizes.append(args.latency_n)
        args.sizes.sort()

    if args.report_only:
        results = json.loads(Path(args.report_only).read_text())
        Path(args.out).write_text(with_scale_section(args.out, report(results, args) + memory_section(args.out)))
        log(f"wrote {args.out} from {args.report_only}")
        return
    t0 = time.time()
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "sizes": [],
        "pinning": None,
    }
    cpus = sorted(os.sched_getaffinity(0))
    if not args.no_pin and len(cpus) >= 2:
        pin({cpus[0]}, set(cpus[1:]))
        results["pinning"] = {"server": [cpus[0]], "clients": cpus[1:]}
    load_start = os.getloadavg()[0]
    for n in args.sizes:
        bench_size(n, args, results)
    results["elapsed_min"] = (time.time() - t0) / 60
    results["load"] = (load_start, os.getloadavg()[0])
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n")
    # The memory and scale sections come from `scripts/bench memory` and `--scale`: keep them.
    Path(args.out).write_text(with_scale_section(args.out, report(results, args) + memory_section(args.out)))
    log(f"wrote {args.out} in {results['elapsed_min']:.1f} minutes")


if __name__ == "__main__":
    main()
