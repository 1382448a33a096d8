# The test runner for MicroPython, where pytest does not exist (works on CPython too):
#
#     micropython sdk-python/tests/mpy_runner.py test_smart_goldens test_nats ...
#
# imports each module and calls its functions named test_* (sorted by name; MODULE.TEST: that
# one alone), printing one line per test and a summary;
# exits 1 when anything failed or nothing ran. nats_bridge and the test modules are found
# on sys.path (MICROPYPATH, or this file's folder and its parent).

import gc
import sys

try:
    import os
except ImportError:
    import uos as os


def _dirname(path):
    i = path.rfind("/")
    return path[:i] if i > 0 else "."


def main(names):
    here = _dirname(globals().get("__file__") or sys.argv[0])
    if not os.getenv("NATSBRIDGE_PRECOMPILED"):
        sys.path.insert(0, _dirname(here) if here != "." else "..")
        sys.path.insert(0, here)
    passed = 0
    failed = []
    for name in names:
        name, _, only = name.partition(".")  # test_small.test_x: that one test alone
        gc.collect()  # what the previous module's tests left: a small heap needs the room for the import
        module = __import__(name)
        tests = [only] if only else [t for t in dir(module) if t.startswith("test_")]
        tests.sort()
        for t in tests:
            gc.collect()
            try:
                getattr(module, t)()
                passed += 1
                print("ok   %s.%s" % (name, t))
            except Exception as e:  # every failure is reported, none stops the run
                failed.append(t)
                print("FAIL %s.%s: %s: %s" % (name, t, type(e).__name__, e))
                if hasattr(sys, "print_exception"):
                    sys.print_exception(e)
    print("%s: %d passed, %d failed" % (sys.implementation.name, passed, len(failed)))
    if failed or not passed:
        sys.exit(1)


# Precompiled it runs as `micropython -c "import mpy_runner"`, the names then in
# NATSBRIDGE_TESTS (comma-separated).
main(sys.argv[1:] or (os.getenv("NATSBRIDGE_TESTS") or "").split(","))
