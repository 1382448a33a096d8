# Helpers shared by the nats_bridge test files, on CPython (pytest) and MicroPython
# (mpy_runner.py). The servers come from run_all.py through environment variables;
# a test whose server is missing fails and says so, it is never skipped.

import sys

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb

ROOT = os.getenv("NATSBRIDGE_ROOT") or ""
GOLDEN_DIR = ROOT + "/tests/golden"
FAST = {"base_delay": 1, "max_delay": 5}  # retry delays in ms: the tests count attempts, not time
_counter = [0]


def need(name):
    """The value of the environment variable name; fails the test when it is unset."""
    value = os.getenv(name)
    if not value:
        raise AssertionError("%s is not set: run the suite with sdk-python/tests/run_all.py, which starts the servers" % name)
    return value


def unique(prefix):
    """A subject or name no other test uses."""
    _counter[0] += 1
    return "%s.%s.%d" % (prefix, nb.uuid4()[:8], _counter[0])


def raises(kind, fn, *args, **kwargs):
    """The NatsBridgeError of kind that fn(*args, **kwargs) raises; fails otherwise."""
    try:
        fn(*args, **kwargs)
    except nb.NatsBridgeError as e:
        assert e.kind == kind, "got %s (%s), want %s" % (e.kind, e, kind)
        return e
    raise AssertionError("no error, want %s" % kind)


def pattern(n):
    """n bytes, byte i being (i * 7) % 251 (also served by helper_server.py /bytes)."""
    b = bytearray(n)
    for i in range(n):
        b[i] = (i * 7) % 251
    return bytes(b)


def read(path):
    f = open(path, "rb")
    try:
        return f.read()
    finally:
        f.close()


def goldens(group):
    names = [n[:-4] for n in os.listdir(GOLDEN_DIR + "/" + group) if n.endswith(".msg")]
    names.sort()
    return names


def http_count(helper_url, path):
    """How many requests helper_server.py has seen for path."""
    status, _, body = nb.http_request("GET", helper_url + "/count" + path)
    assert status == 200, status
    return int(body)


def is_micropython():
    return sys.implementation.name == "micropython"
