# One B6 benchmark workload of nats_bridge, run unchanged by MicroPython and CPython
# (bench_small.py starts it). NATSBRIDGE_BENCH says which:
#   encode  smartsend (is_publish=False) of one binary payload of NATSBRIDGE_BENCH_SIZE bytes
#   decode  smartreceive of the envelope text in the file NATSBRIDGE_BENCH_INPUT
#   link    smartreceive of the link envelope in NATSBRIDGE_BENCH_INPUT, streamed to a file
# NATSBRIDGE_BENCH_REPS=N times N runs ("us t1 t2 ..."); 0 runs once and prints "ok SIZE"
# (a heap probe); "input" only prepares the input (the probe's baseline). On CPython,
# NATSBRIDGE_BENCH_TRACE=1 prints the tracemalloc peak of one run beyond its input.

import gc
import sys

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os
try:
    import time
except ImportError:  # pragma: no cover
    import utime as time

import nats_bridge as nb

MODE = os.getenv("NATSBRIDGE_BENCH")
SIZE = int(os.getenv("NATSBRIDGE_BENCH_SIZE"))
REPS = os.getenv("NATSBRIDGE_BENCH_REPS")
FIXED_ID = "0b6c0de5-0000-4000-8000-000000000001"


def pattern(size):
    # The payload bytes: byte i is (i * 7) % 251, filled in place.
    data = bytearray(size)
    for i in range(size):
        data[i] = (i * 7) % 251
    return data


def read_input():
    path = os.getenv("NATSBRIDGE_BENCH_INPUT")
    data = bytearray(os.stat(path)[6])
    f = open(path, "rb")
    f.readinto(data)
    f.close()
    return data


def encode(data):
    env = nb.smartsend("bench.b6", [("payload", data, "binary")], is_publish=False, fileserver_url=None,
                       max_payload=1 << 30, msg_id=FIXED_ID, timestamp="2026-01-01T00:00:00Z",
                       sender_id=FIXED_ID, correlation_id=FIXED_ID, payload_ids=[FIXED_ID])
    assert env.payloads[0].size == SIZE


def decode(text):
    got = nb.smartreceive(text)
    assert len(got[0][1]) == SIZE


def link(text):
    folder = os.getenv("NATSBRIDGE_BENCH_DIR")
    # The link points at the benchmark's own loopback file server, on a port it is not told.
    got = nb.smartreceive(text, download_to=folder, allow_any_host=True)
    assert os.stat(got[0][1])[6] == SIZE
    os.remove(got[0][1])  # a file is never overwritten: the next run's would be numbered


def clock_us():
    if hasattr(time, "ticks_us"):
        return time.ticks_us()
    return int(time.perf_counter() * 1000000)


def elapsed_us(start):
    if hasattr(time, "ticks_diff"):
        return time.ticks_diff(time.ticks_us(), start)
    return clock_us() - start


def main():
    op = {"encode": encode, "decode": decode, "link": link}[MODE]
    arg = pattern(SIZE) if MODE == "encode" else read_input()
    gc.collect()
    if REPS == "input":
        print("ok %d" % SIZE)
    elif REPS == "0":
        if os.getenv("NATSBRIDGE_BENCH_TRACE") and sys.implementation.name == "cpython":
            import tracemalloc

            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            op(arg)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print("peak %d" % (peak - before))
        else:
            op(arg)
            print("ok %d" % SIZE)
    else:
        times = []
        for _ in range(int(REPS)):
            gc.collect()
            start = clock_us()
            op(arg)
            times.append(elapsed_us(start))
        print("us " + " ".join([str(t) for t in times]))


main()
