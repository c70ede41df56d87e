#!/usr/bin/env python3
"""The `s3cors watch` benchmark behind `scripts/bench --watch` (run that).

Against scripts/s3proxy.py's stub (it answers GetBucketCors itself, at once, with
the policy's configuration: every bucket in sync), with --buckets policy entries:
  a. `s3cors drift` one-shot, --repeat times: wall time, CPU (user+sys), peak RSS;
  b. `s3cors watch --interval I --listen 127.0.0.1:0 --log-format json` for
     --cycles checks after the first: each check's duration (its `check complete`
     log line's took_ms, and /metrics' s3cors_cycle_duration_seconds), its CPU
     (/proc/PID/stat utime+stime between two idle moments, one check apart), the
     resident set while idle between checks (VmRSS, /proc/PID/status) and the
     peak (VmHWM); then SIGTERM.
Goals: idle RSS at most 100 MB; a check within 1.2x of the one-shot drift.
Writes its section of BENCHMARKS.md (between the `watch` markers; scripts/bench
keeps it when it rewrites the rest).
"""

import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the shared harness: servers, timing, machine)

BEGIN, END = "<!-- watch:begin -->", "<!-- watch:end -->"
TCK = os.sysconf("SC_CLK_TCK")


def log(msg):
    bench.log(f"watch: {msg}")


def cpu_s(pid):
    """User + system CPU seconds of process `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TCK


def memory_mb(pid):
    """(VmRSS, VmHWM) of `pid` in MB (MiB, as /usr/bin/time's maximum resident set)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out["VmRSS"], out["VmHWM"]


class Watcher:
    """`s3cors watch` with its JSON log lines read as they come."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(
            argv, env=bench.aws_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True,
        )
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"message": line.rstrip(), "level": "RAW"}
            with self.cond:
                self.lines.append((time.perf_counter(), event))
                self.cond.notify_all()
        with self.cond:
            self.lines.append((time.perf_counter(), {"message": "(exited)"}))
            self.cond.notify_all()

    def wait_for(self, message, count=1, timeout=600):
        """The `count`-th log line with `message`, as (time, event)."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                seen = [le for le in self.lines if le[1].get("message") == message]
                if len(seen) >= count:
                    return seen[count - 1]
                if any(e.get("message") == "(exited)" for _, e in self.lines):
                    tail = "\n".join(json.dumps(e) for _, e in self.lines[-20:])
                    raise SystemExit(f"scripts/bench: watch exited before `{message}` #{count}:\n{tail}")
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise SystemExit(f"scripts/bench: no `{message}` #{count} from watch in {timeout} s")
                self.cond.wait(left)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def metrics_text(addr):
    with urllib.request.urlopen(f"http://{addr}/metrics", timeout=10) as r:
        return r.read().decode()


def histogram(text, name):
    """(sum, count) of a histogram in an OpenMetrics text."""
    total = count = None
    for line in text.splitlines():
        if line.startswith(f"{name}_sum"):
            total = float(line.split()[-1])
        elif line.startswith(f"{name}_count"):
            count = int(float(line.split()[-1]))
    return total, count


def run(args):
    names = bench.bucket_names(args.buckets)
    work = Path(tempfile.mkdtemp(prefix="s3cors-watch-bench-"))
    policies = work / "policies"
    policies.mkdir()
    bench.write_policy(policies / "buckets.yaml", names)
    # The stub answers every GetBucketCors with the policy's own configuration.
    cors = work / "cors.xml"
    cors.write_bytes(bench.cors_xml(bench.POLICY_RULE["AllowedOrigins"][0]))
    stub_args = ["--stub-cors", str(cors)]
    if args.delay_ms:
        stub_args += ["--delay-ms", str(args.delay_ms)]
    stub = bench.start_proxy("stub", *stub_args)
    base = bench.s3cors_args(stub.url, args.parallelism)
    results = {"buckets": args.buckets, "interval_s": args.interval, "parallelism": args.parallelism,
               "delay_ms": args.delay_ms}
    try:
        # Human output, as watch writes no report; exit 0: every bucket in sync.
        drifts = []
        for i in range(args.repeat):
            log(f"s3cors drift, {args.buckets:,} buckets, run {i + 1} of {args.repeat} ...")
            d = bench.timed([*base, "drift", str(policies)], cwd=work, ok=(0,))
            drifts.append({k: d[k] for k in ("wall", "cpu", "rss_mb")})
        results["drift"] = drifts

        bench.reset(stub.url)
        log(f"s3cors watch --interval {args.interval}s: the first check and {args.cycles} more ...")
        w = Watcher([*base, "watch", str(policies), "--interval", f"{args.interval}s",
                     "--listen", "127.0.0.1:0", "--log-format", "json"])
        pid = w.proc.pid
        try:
            _, serving = w.wait_for("serving /metrics, /healthz and /readyz", timeout=60)
            addr = serving["addr"]
            cycles = []
            prev_cpu = None
            for k in range(1, args.cycles + 2):
                t_done, done = w.wait_for("check complete", k)
                if done.get("in_sync") != args.buckets:
                    raise SystemExit(f"scripts/bench: watch's check {k}: {done}")
                # The next check starts at the earliest 0.9 x interval (jitter)
                # after this one started: sample well inside that wait.
                idle = t_done - done["took_ms"] / 1000 + 0.9 * args.interval - time.perf_counter()
                if idle < 1.0:
                    raise SystemExit(f"scripts/bench: check {k} took {done['took_ms']} ms, leaving "
                                     f"{idle:.1f} s idle before the next: use a longer --interval")
                time.sleep(idle / 4)
                cpu = cpu_s(pid)
                rss, hwm = memory_mb(pid)
                # CPU from here to later in the wait: what idling costs.
                idle_wait = idle / 2
                time.sleep(idle_wait)
                idle_cpu = cpu_s(pid) - cpu
                rss_mid, _ = memory_mb(pid)
                cycles.append({
                    "took_s": done["took_ms"] / 1000,
                    "cpu_s": None if prev_cpu is None else cpu - prev_cpu,
                    "rss_mb": rss,
                    "rss_mid_mb": rss_mid,
                    "hwm_mb": hwm,
                    "idle_cpu_s": idle_cpu,
                    "idle_window_s": idle_wait,
                })
                prev_cpu = cpu + idle_cpu
                log(f"check {k}: {done['took_ms']} ms, RSS {rss:.1f} MB (peak {hwm:.1f} MB)"
                    + ("" if cycles[-1]["cpu_s"] is None else f", CPU {cycles[-1]['cpu_s']:.2f} s"))
            text = metrics_text(addr)
            results["histogram"] = histogram(text, "s3cors_cycle_duration_seconds")
            results["final_hwm_mb"] = memory_mb(pid)[1]
        finally:
            results["watch_exit"] = w.stop()
        results["cycles"] = cycles
        results["calls"] = bench.proxy_stats(stub.url)["requests"]
    finally:
        stub.stop()
    return results


def section(r):
    n = r["buckets"]
    first, rest = r["cycles"][0], r["cycles"][1:]
    drift_wall = statistics.median(d["wall"] for d in r["drift"])
    drift_cpu = statistics.median(d["cpu"] for d in r["drift"])
    drift_rss = max(d["rss_mb"] for d in r["drift"])
    took = statistics.median(c["took_s"] for c in rest)
    cpu = statistics.median(c["cpu_s"] for c in rest)
    idle_rss = max(max(c["rss_mb"], c["rss_mid_mb"]) for c in r["cycles"])
    hwm = r["final_hwm_mb"]
    idle_cpu = sum(c["idle_cpu_s"] for c in rest)
    idle_window = sum(c["idle_window_s"] for c in rest)
    hsum, hcount = r["histogram"]
    ratio = took / drift_wall

    def verdict(ok):
        return "met" if ok else "**missed**"

    m = r["machine"]
    versions = ", ".join(v for k, v in m["versions"].items() if k in ("s3cors", "rustc"))
    each = ", ".join(f"{c['took_s']:.2f}" for c in rest)
    each_cpu = ", ".join(f"{c['cpu_s']:.2f}" for c in rest)
    each_drift = ", ".join(f"{d['wall']:.2f}" for d in r["drift"])
    calls = ", ".join(f"{op} {c:,}" for op, c in sorted(r["calls"].items()))
    delay = f"{r['delay_ms']:g} ms added to every request" if r["delay_ms"] else "no added latency"
    pinning = ("the stub on CPU 0, s3cors on CPU 1" if r["pinned"]
               else "not pinned (the stub and s3cors share the CPUs)")
    return f"""{BEGIN}
## watch (`scripts/bench --watch`)

Measured {r['date']} by `scripts/bench --watch` on {m['cpu']}, {m['nproc']} cores,
{m['ram']} ({versions}, {r['build']} build, commit {r['commit']}); pinning: {pinning}.
The machine was shared with other engineers' builds: `uptime` at the start
`{r['uptime'][0]}`, at the end `{r['uptime'][1]}`.

{n:,} policy entries (`region:` declared, one inline rule each) against
`scripts/s3proxy.py --stub`, which answers every GetBucketCors itself with the
policy's configuration ({delay}): every bucket in sync, so what is measured is
s3cors, not a server. `s3cors --parallelism {r['parallelism']} drift` one-shot
{len(r['drift'])} times, then `s3cors watch --interval {r['interval_s']:g}s --listen
127.0.0.1:0 --log-format json` for {len(r['cycles'])} checks, then SIGTERM (exit
{r['watch_exit']}). A check's time is its `check complete` line's `took_ms`; its CPU is
user + system time from /proc/PID/stat between two idle moments one check apart;
RSS is VmRSS sampled twice in each wait between checks, the peak is VmHWM;
drift's peak RSS is `/usr/bin/time`'s.

| measurement | result | goal | verdict |
| --- | --- | --- | --- |
| watch, resident set between checks (largest sample) | {idle_rss:.1f} MB | at most 100 MB | {verdict(idle_rss <= 100)} |
| watch, peak resident set (VmHWM, whole run) | {hwm:.1f} MB | | |
| watch, a check (median of {len(rest)} after the first) | {took:.2f} s ({ratio:.2f}x drift) | within 1.2x of drift | {verdict(ratio <= 1.2)} |
| watch, CPU per check (median) | {cpu:.2f} s ({cpu / n * 1000:.3f} ms per bucket) | | |
| watch, the first check (policies read, accounts connected) | {first['took_s']:.2f} s | | |
| watch, CPU while idle | {idle_cpu:.3f} s in {idle_window:.0f} s of waiting | | |
| drift one-shot, wall (median of {len(r['drift'])}) | {drift_wall:.2f} s | | |
| drift one-shot, CPU (median) | {drift_cpu:.2f} s | | |
| drift one-shot, peak RSS | {drift_rss:.1f} MB | | |

Each check after the first: {each} s (CPU {each_cpu} s); each drift: {each_drift} s.
/metrics' `s3cors_cycle_duration_seconds`: {hcount} checks, {hsum:.2f} s in all.
Calls the stub answered, drift and watch together: {calls}.
{END}
"""


def main():
    p = argparse.ArgumentParser(prog="scripts/bench --watch")
    p.add_argument("--buckets", type=int, default=10_000)
    p.add_argument("--interval", type=int, default=10, help="seconds between the starts of two checks")
    p.add_argument("--cycles", type=int, default=5, help="checks measured after the first")
    p.add_argument("--repeat", type=int, default=3, help="one-shot drift runs")
    p.add_argument("--parallelism", type=int, default=32)
    p.add_argument("--delay-ms", type=float, default=0, help="latency the stub adds to every request")
    p.add_argument("--build", default="release", help="what S3CORS_BIN is, for the report")
    p.add_argument("--out", default=str(bench.ROOT / "BENCHMARKS.md"))
    p.add_argument("--json-out", default="")
    p.add_argument("--no-pin", action="store_true")
    args = p.parse_args()
    # s3cors runs in a scratch folder: a relative S3CORS_BIN is the caller's.
    bench.S3CORS = bench.S3CORS.resolve()
    if args.cycles < 1:
        p.error("--cycles must be at least 1")
    cpus = sorted(os.sched_getaffinity(0))
    pinned = not args.no_pin and len(cpus) >= 2
    if pinned:
        bench.pin({cpus[0]}, set(cpus[1:]))

    def uptime():
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=bench.ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    t0 = time.time()
    up0 = uptime()
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": bench.machine(),
        "commit": commit,
        "build": args.build,
        "pinned": pinned,
    }
    results.update(run(args))
    results["uptime"] = (up0, uptime())
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2) + "\n")
    bench.write_section(args.out, section(results), BEGIN, END)
    log(f"wrote the watch section of {args.out} in {(time.time() - t0) / 60:.1f} minutes")


if __name__ == "__main__":
    main()
