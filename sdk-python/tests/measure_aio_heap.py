"""Measures the smallest MicroPython heap beside the code (the code in a ROMFS image, as in a
board's flash) in which each asyncio small case of test_aio_small.py passes alone, bisecting
`-X heapsize` in 4 KiB steps between 64K and 160K against the suite's real servers:

    python3 sdk-python/tests/measure_aio_heap.py

Prints one line per case (README "Small heaps: measured"); a few minutes.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import romfs  # noqa: E402
import run_all  # noqa: E402

LOW, HIGH, STEP = 64, 160, 4


def passes(s, image, size, case, heap):
    argv, env = romfs.command("%dK" % heap, "mpy_runner", image, size, dict(s.env, NATSBRIDGE_TESTS=case))
    return subprocess.run(argv, env=env, capture_output=True, timeout=300).returncode == 0


def main():
    with run_all.Servers(False) as s:
        image, size = run_all._small_image(s, ["nats_bridge", "nats_bridge_aio"], run_all.AIO_SMALL_SUITE, ())
        print("image: %d bytes" % size)
        for module in run_all.AIO_SMALL_SUITE:
            for name in run_all.test_names(module):
                case = "%s.%s" % (module, name)
                if passes(s, image, size, case, LOW):
                    print("%s: passes at %dK" % (case, LOW), flush=True)
                    continue
                if not passes(s, image, size, case, HIGH):
                    print("%s: FAILS at %dK" % (case, HIGH), flush=True)
                    continue
                bad, good = LOW, HIGH
                while good - bad > STEP:
                    middle = (bad + good) // 2 // STEP * STEP
                    if passes(s, image, size, case, middle):
                        good = middle
                    else:
                        bad = middle
                print("%s: smallest heap %dK (fails at %dK)" % (case, good, bad), flush=True)


if __name__ == "__main__":
    main()
