"""B8 of the benchmarks (issue 15): each Python runtime against its own peer, in one run on one
nats-server started here on a free 127.0.0.1 port. Prints one Markdown section:

    python3 sdk-python/bench/bench_wire.py [--rounds 5] [--seconds 1.0] [--module DIR]

CPython: nats_bridge (bench_wire_ours.py: smartsend on one connection, smartreceive of what
another receives; request/reply as smartsend with reply_to and smartreceive of the answer, a
nats_bridge responder echoing the payload) against nats-py with the envelope written by hand
with json and base64, the original desktop edition's way (bench_wire_peer.py, a nats-py
responder), binary direct payloads of 128 B, 16 KiB and 512 KiB. MicroPython: the same
nats_bridge workload against the same module on CPython at 128 B (both requesters talk to the
CPython nats_bridge responder). Each round runs ours and its peer back to back, each for
--seconds; a figure is the median of --rounds rounds with (min - max), the ratio ours/peer
taken per round. --module DIR runs the nats_bridge.py in DIR (e.g. an older one) instead of
this checkout's. Goals: CPython/peer >= 0.5 at 128 B, >= 1.0 at 16 KiB and 512 KiB;
MicroPython/CPython >= 0.25 at 128 B.
"""

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SDK, "tests"))

import servers  # noqa: E402

OURS = os.path.join(HERE, "bench_wire_ours.py")
PEER = os.path.join(HERE, "bench_wire_peer.py")
SIZES = [("128 B", 128), ("16 KiB", 16384), ("512 KiB", 524288)]
GOALS = {128: 0.5, 16384: 1.0, 524288: 1.0}
MICRO_GOAL = 0.25
MICRO_HEAP = "8M"


class Runner:
    def __init__(self, url, module, seconds):
        self.url = url
        self.seconds = seconds
        self.cpython_env = dict(os.environ, PYTHONPATH=module)
        self.micro_env = dict(os.environ, MICROPYPATH=module)
        self.micropython = servers.program("micropython")

    def argv(self, who):
        if who == "ours":
            return [sys.executable, OURS], self.cpython_env
        if who == "peer":
            return [sys.executable, PEER], self.cpython_env
        return [self.micropython, "-X", "heapsize=" + MICRO_HEAP, OURS], self.micro_env

    def rate(self, who, mode, size):
        """Messages (or round trips) per second of one timed run."""
        argv, env = self.argv(who)
        out = subprocess.run(argv + [mode, self.url, str(size), str(self.seconds)], env=env,
                             capture_output=True, text=True, timeout=300)
        words = out.stdout.split()
        if out.returncode or len(words) != 3 or words[0] != "ok":
            raise SystemExit("FAIL: %s %s %d: %r %s" % (who, mode, size, out.stdout, out.stderr[-2000:]))
        return int(words[1]) * 1000.0 / int(words[2])

    def responder(self, who):
        argv, env = self.argv(who)
        proc = subprocess.Popen(argv + ["respond", self.url], env=env, stdout=subprocess.PIPE, text=True)
        if proc.stdout.readline().strip() != "ready":
            proc.kill()
            raise SystemExit("FAIL: the %s responder did not start" % who)
        return proc


def spread(values):
    return "%s (%s - %s)" % (figure(statistics.median(values)), figure(min(values)), figure(max(values)))


def figure(x):
    if x >= 100:
        return "{:,.0f}".format(x)
    if x >= 10:
        return "%.1f" % x
    if x >= 1:
        return "%.2f" % x
    return "%.3f" % x


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measure(runner, rounds):
    """{(who, mode, size): [rates]} with ours and its peer back to back in each round."""
    cells = []
    for mode in ("pubsub", "request"):
        for _, size in SIZES:
            cells.append((("ours", mode, size), ("peer", mode, size)))
        cells.append((("micro", mode, 128), ("ours", mode, 128)))
    found = {}
    for _ in range(rounds):
        for pair in cells:
            for who, mode, size in pair:
                rate = runner.rate(who, mode, size)
                found.setdefault((who, mode, size, pair[1][0]), []).append(rate)
    return found


def ratios(found, a, b):
    return [x / y for x, y in zip(found[a], found[b])]


def verdict(ratios_, goal):
    return ">= %s: %s" % (goal, "met" if statistics.median(ratios_) >= goal else "**missed**")


def report(found, rounds, seconds, module, load_before, load_after):
    print("## B8 each Python runtime against its own peer")
    print()
    print("One nats-server (%s) on a free 127.0.0.1 port, one run: %d rounds, each timing ours and its peer "
          "back to back for %.1f s; median (min - max), the ratio ours/peer per round. Publish to receive: "
          "`smartsend` on one connection, `smartreceive` of what a second connection receives, in windows "
          "of up to 32 messages (2 MiB at most); request/reply: `smartsend` with `reply_to` an inbox and "
          "`smartreceive` of the answer, the responder echoing the payload. Binary direct payloads. "
          "Peer on CPython: nats-py with the envelope by hand (`json` + `base64`, the original desktop "
          "edition's way); MicroPython (heap %s) against the same module on CPython (`sdk-python/bench/"
          "bench_wire.py`%s). Machine load average before %s, after %s."
          % (servers_version(), rounds, seconds, MICRO_HEAP, (", module " + module) if module != SDK else "",
             load_before, load_after))
    print()
    print("| what | size | ours (msg/s) | peer (msg/s) | ratio ours/peer | goal |")
    print("|---|---|---|---|---|---|")
    for mode, title in (("pubsub", "CPython publish -> receive"), ("request", "CPython request/reply")):
        for label, size in SIZES:
            a, b = ("ours", mode, size, "peer"), ("peer", mode, size, "peer")
            r = ratios(found, a, b)
            goal = verdict(r, GOALS[size]) if mode == "pubsub" else "no goal"
            print("| %s vs nats-py | %s | %s | %s | %s | %s |" % (title, label, spread(found[a]), spread(found[b]), spread(r), goal))
        a, b = ("micro", mode, 128, "ours"), ("ours", mode, 128, "ours")
        r = ratios(found, a, b)
        goal = verdict(r, MICRO_GOAL) if mode == "pubsub" else "no goal"
        what = "MicroPython %s vs the module on CPython" % ("publish -> receive" if mode == "pubsub" else "request/reply")
        print("| %s | 128 B | %s | %s | %s | %s |" % (what, spread(found[a]), spread(found[b]), spread(r), goal))
    print()


def servers_version():
    out = subprocess.run([servers.program("nats-server"), "--version"], capture_output=True, text=True)
    return out.stdout.strip() or "nats-server"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--module", default=SDK, help="folder holding the nats_bridge.py to measure")
    args = ap.parse_args()
    module = os.path.abspath(args.module)
    load_before = load()
    with servers.nats_server(max_payload=8 * 1024 * 1024) as nats:
        runner = Runner(nats.url, module, args.seconds)
        responders = [runner.responder("ours"), runner.responder("peer")]
        try:
            found = measure(runner, args.rounds)
        finally:
            for proc in responders:
                proc.kill()
                proc.wait()
    report(found, args.rounds, args.seconds, module, load_before, load())


if __name__ == "__main__":
    main()
