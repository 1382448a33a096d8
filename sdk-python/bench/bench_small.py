"""B6 of the benchmarks: nats_bridge on MicroPython against CPython running the same module
(bench_workload.py), in the same run. Prints one Markdown section:

    python3 sdk-python/bench/bench_small.py [--reps 7] [--sizes 1024,16384,65536,262144]

Time: encode (smartsend without publishing) and decode (smartreceive) of one direct binary
payload per size, min/median/max over --reps runs in one process per interpreter. Heap: on
MicroPython the smallest heap (1 KiB steps, the code in a ROMFS image beside it, as on a
board) the run needs, minus the smallest heap that only holds its input; on CPython the
tracemalloc peak beyond the input. Then a 10 MB link payload streamed to a file on a 64 KiB
heap (helper_server.py serves it). Goals (issue 7): heap at most 2.5 x payload for direct; the
10 MB link within 64 KiB.
"""

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SDK, "tests"))
sys.path.insert(0, SDK)

import nats_bridge as nb  # noqa: E402
import romfs  # noqa: E402
import servers  # noqa: E402

WORKLOAD = os.path.join(HERE, "bench_workload.py")
LINK_SIZE = 10 * 1000 * 1000
SMALL_HEAP_KIB = 64
DIRECT_GOAL = 2.5
TIMING_HEAP = "64M"
FIXED_ID = "0b6c0de5-0000-4000-8000-000000000001"


def pattern(size):
    period = bytes((i * 7) % 251 for i in range(251))
    return (period * (size // 251 + 1))[:size]


class Bench:
    def __init__(self, tmp, helper_url):
        self.tmp = tmp
        self.helper_url = helper_url
        self.image = os.path.join(tmp, "bench.romfs")
        self.image_size = romfs.build_image([os.path.join(SDK, "nats_bridge.py"), WORKLOAD], self.image)

    def env(self, mode, size, reps, extra=None):
        env = dict(os.environ, NATSBRIDGE_BENCH=mode, NATSBRIDGE_BENCH_SIZE=str(size), NATSBRIDGE_BENCH_REPS=str(reps),
                   NATSBRIDGE_BENCH_INPUT=self.input_path(mode, size), NATSBRIDGE_BENCH_DIR=self.tmp)
        env.update(extra or {})
        return env

    def input_path(self, mode, size):
        return os.path.join(self.tmp, "%s-%d.json" % (mode, size))

    def write_inputs(self, sizes):
        """The envelope texts the decode and link runs read: made by CPython's encoder."""
        for size in sizes:
            env = nb.smartsend("bench.b6", [("payload", pattern(size), "binary")], is_publish=False, fileserver_url=None,
                               max_payload=1 << 30, msg_id=FIXED_ID, timestamp="2026-01-01T00:00:00Z",
                               sender_id=FIXED_ID, correlation_id=FIXED_ID, payload_ids=[FIXED_ID])
            with open(self.input_path("decode", size), "w") as f:
                f.write(env.to_json())
        checksum = "sha256:" + hashlib.sha256(pattern(LINK_SIZE)).hexdigest()
        payload = nb.MessagePayload("payload", "binary", "link", "none", LINK_SIZE,
                                    "%s/bytes/%d/payload.bin" % (self.helper_url, LINK_SIZE),
                                    id=FIXED_ID, metadata={"checksum": checksum})
        env = nb.MessageEnvelope([payload], correlation_id=FIXED_ID, msg_id=FIXED_ID, timestamp="2026-01-01T00:00:00Z",
                                 send_to="bench.b6", sender_id=FIXED_ID)
        with open(self.input_path("link", LINK_SIZE), "w") as f:
            f.write(env.to_json())

    def run(self, argv, env):
        out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
        return out.stdout.strip(), out.stderr.strip()

    def micropython(self, heap, env):
        argv, env = romfs.command(heap, "bench_workload", self.image, self.image_size, env)
        return self.run(argv, env)

    def cpython(self, env):
        env = dict(env, PYTHONPATH=SDK)
        return self.run([sys.executable, WORKLOAD], env)

    def times(self, mode, size, reps):
        """{interpreter: [microseconds]} of reps runs."""
        env = self.env(mode, size, reps)
        found = {}
        for name, (out, err) in (("micropython", self.micropython(TIMING_HEAP, env)), ("cpython", self.cpython(env))):
            if not out.startswith("us "):
                raise SystemExit("FAIL: %s %s %d printed %r: %s" % (name, mode, size, out, err[-2000:]))
            found[name] = [int(t) for t in out.split()[1:]]
        return found

    def fits(self, mode, size, heap_kib, reps):
        out, _ = self.micropython("%dK" % heap_kib, self.env(mode, size, reps))
        return out == "ok %d" % size

    def smallest_heap(self, mode, size, reps, low=8):
        """The smallest heap in KiB (beside the code) in which the run succeeds."""
        high = low
        while not self.fits(mode, size, high, reps):
            low = high
            high *= 2
            if high > 1 << 20:
                raise SystemExit("FAIL: %s %d does not run in 1 GiB" % (mode, size))
        while high - low > 1:  # low fails (or is the floor), high fits
            mid = (low + high) // 2
            if self.fits(mode, size, mid, reps):
                high = mid
            else:
                low = mid
        return high

    def cpython_peak(self, mode, size):
        out, err = self.cpython(self.env(mode, size, 0, {"NATSBRIDGE_BENCH_TRACE": "1"}))
        if not out.startswith("peak "):
            raise SystemExit("FAIL: cpython peak of %s %d printed %r: %s" % (mode, size, out, err[-2000:]))
        return int(out.split()[1])


def spread(values):
    return min(values), statistics.median(values), max(values)


def ms(us):
    return "%.2f" % (us / 1000.0)


def kib(n):
    return "%.1f" % (n / 1024.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--sizes", default="1024,16384,65536,262144")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    tmp = tempfile.mkdtemp(prefix="natsbridge-bench-small-")
    try:
        with servers.helper_server() as helper:
            bench = Bench(tmp, helper.url)
            bench.write_inputs(sizes)
            report(bench, sizes, args.reps)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(bench, sizes, reps):
    version = subprocess.run([servers.program("micropython"), "-c", "import sys; print(sys.version)"],
                             capture_output=True, text=True).stdout.strip()
    print("## B6 MicroPython: encode and decode time, peak heap\n")
    print("MicroPython (unix port, %s) against CPython %s running the same module "
          "(`sdk-python/bench/bench_workload.py`), one binary payload sent direct. Time: %d runs in one "
          "process each, min / median / max in ms; ratio = MicroPython median / CPython median." %
          (version, sys.version.split()[0], reps))
    print()
    print("| payload | step | MicroPython ms (min / median / max) | CPython ms (min / median / max) | ratio |")
    print("|---|---|---|---|---|")
    for size in sizes:
        for mode in ("encode", "decode"):
            found = bench.times(mode, size, reps)
            mp, cp = spread(found["micropython"]), spread(found["cpython"])
            print("| %d B | %s | %s / %s / %s | %s / %s / %s | %.1f |" % (
                size, mode, ms(mp[0]), ms(mp[1]), ms(mp[2]), ms(cp[0]), ms(cp[1]), ms(cp[2]), mp[1] / cp[1]), flush=True)
    print()
    print("Peak heap beyond the input (the payload for encode, the envelope text for decode): on MicroPython "
          "the smallest heap beside the code (ROMFS image, 1 KiB steps) in which the step runs, minus the "
          "smallest that only holds its input; on CPython the tracemalloc peak. Goal: at most %.1f x the payload "
          "on MicroPython." % DIRECT_GOAL)
    print()
    print("| payload | step | MicroPython KiB (with input) | MicroPython x payload | CPython KiB | CPython x payload | goal |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        base = {mode: bench.smallest_heap(mode, size, "input") for mode in ("encode", "decode")}
        for mode in ("encode", "decode"):
            whole = bench.smallest_heap(mode, size, 0, low=base[mode])
            extra = (whole - base[mode]) * 1024
            cp = bench.cpython_peak(mode, size)
            met = "met" if extra <= DIRECT_GOAL * size else "missed"
            print("| %d B | %s | %s (%d) | %.2f | %s | %.2f | %s |" % (
                size, mode, kib(extra), whole, extra / size, kib(cp), cp / size, met), flush=True)
    print()
    link_times = bench.times("link", LINK_SIZE, 3)
    small = bench.fits("link", LINK_SIZE, SMALL_HEAP_KIB, 0)
    smallest = bench.smallest_heap("link", LINK_SIZE, 0)
    mp, cp = spread(link_times["micropython"]), spread(link_times["cpython"])
    print("A %d-byte link payload streamed to a file by smartreceive (`download_to`, sha256 checked) from "
          "helper_server.py on loopback, 3 runs:\n" % LINK_SIZE)
    print("| what | MicroPython | CPython | ratio | goal |")
    print("|---|---|---|---|---|")
    print("| time, s (min / median / max) | %.2f / %.2f / %.2f | %.2f / %.2f / %.2f | %.1f | |" % (
        mp[0] / 1e6, mp[1] / 1e6, mp[2] / 1e6, cp[0] / 1e6, cp[1] / 1e6, cp[2] / 1e6, mp[1] / cp[1]))
    print("| runs on a %d KiB heap beside the code | %s | | | %s |" % (SMALL_HEAP_KIB, "yes" if small else "no", "met" if small else "missed"))
    print("| smallest heap beside the code | %d KiB | | | |" % smallest)
    print()


if __name__ == "__main__":
    main()
