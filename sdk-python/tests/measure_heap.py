"""Measures the largest payloads nats_bridge handles on limited MicroPython heaps, with
the code in a ROMFS image beside the heap, as in a board's flash (romfs.py; CPython
driver, real servers):

    python3 sdk-python/tests/measure_heap.py [32K 64K 128K 256K]

For each heap size: the largest direct payload (sent with smartsend, then received with
smartreceive), the largest link payload downloaded into memory, and whether a 5 MB link
payload streams to a file. Binary search over heap_probe.py runs; prints a Markdown table.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import romfs  # noqa: E402
import run_all  # noqa: E402


def probe(image, heap, mode, size, env):
    argv, env = romfs.command(heap, "heap_probe", image[0], image[1], dict(env, NATSBRIDGE_PROBE=mode, NATSBRIDGE_PROBE_SIZE=str(size)))
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    return out.stdout.strip() == "ok %d" % size


def largest(image, heap, mode, env, high):
    if not probe(image, heap, mode, 1, env):
        return None
    low = 1  # the largest size known to work
    while low * 2 <= high and probe(image, heap, mode, low * 2, env):
        low *= 2
    step = low // 2
    while step >= 64:
        if low + step <= high and probe(image, heap, mode, low + step, env):
            low += step
        step //= 2
    return low


def main():
    heaps = sys.argv[1:] or ["32K", "64K", "128K", "256K"]
    rows = []
    with run_all.Servers(False) as s:
        path = os.path.join(s.tmp, "probe.romfs")
        image = (path, romfs.build_image([os.path.join(run_all.SDK, "nats_bridge.py"), os.path.join(HERE, "heap_probe.py")], path))
        print("ROMFS image: %d bytes" % image[1])
        for heap in heaps:
            direct = largest(image, heap, "direct", s.env, 700000)
            memory = largest(image, heap, "link_memory", s.env, 20000000)
            streamed = probe(image, heap, "link_file", 5000000, s.env)
            rows.append((heap, direct, memory, streamed))
            print(rows[-1], flush=True)
    print("\n| heap beside the code | largest direct payload (send + receive) | largest link payload into memory | 5 MB link payload streamed to a file |")
    print("|---|---|---|---|")
    for heap, direct, memory, streamed in rows:
        cell = lambda n: "module does not load" if n is None else "%d bytes" % n
        print("| %s | %s | %s | %s |" % (heap, cell(direct), cell(memory), "yes" if streamed else "no"))


if __name__ == "__main__":
    main()
