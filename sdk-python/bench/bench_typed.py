# B9 Python (issue 21 point 7): the generated SensorReading (codegen/examples/payloads/
# device_payloads.py on nats_bridge_typed.py) to_json / from_json against json.dumps /
# json.loads plus hand-written checks of the same rules (types, capacities in UTF-8 bytes,
# bounds, finite numbers, the enumeration, required keys and defaults). Runs unchanged on
# CPython and MicroPython, from sdk-python/:
#   python3 bench/bench_typed.py          micropython bench/bench_typed.py
# 5 rounds (NATSBRIDGE_BENCH_RUNS), each timing ours then the baseline back to back over
# N calls; prints one line per step: median (min - max) us per call, and the ratio
# ours/baseline per round (above 1: ours is slower).

import sys

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json
try:
    import os
except ImportError:  # pragma: no cover
    import uos as os
try:
    import time
except ImportError:  # pragma: no cover
    import utime as time

sys.path.insert(0, ".")
sys.path.insert(0, "../codegen/examples/payloads")

from device_payloads import SensorReading, SensorReadingLocation, Unit  # noqa: E402

ROUNDS = int(os.getenv("NATSBRIDGE_BENCH_RUNS") or 5)
CALLS = int(os.getenv("NATSBRIDGE_BENCH_CALLS") or 2000)

if hasattr(time, "perf_counter"):
    def now_us():
        return time.perf_counter() * 1e6
else:  # MicroPython
    def now_us():
        return time.ticks_us()

UNITS = ("celsius", "percent", "hectopascal")


class Bad(Exception):
    pass


def utf8_len(s):
    return len(s.encode("utf-8"))


def need_str(v, cap):
    if not isinstance(v, str) or utf8_len(v) > cap:
        raise Bad()
    return v


def need_int(v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or v > hi:
        raise Bad()
    return v


def need_num(v, lo=None, hi=None):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Bad()
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise Bad()
    if lo is not None and (v < lo or v > hi):
        raise Bad()
    return v


def checked(d):
    # The same rules as the generated class, by hand, on a dict; returns the checked dict.
    if not isinstance(d, dict):
        raise Bad()
    loc = d["location"]
    if not isinstance(loc, dict):
        raise Bad()
    unit = d["unit"]
    if unit not in UNITS:
        raise Bad()
    ok = d["ok"]
    if not isinstance(ok, bool):
        raise Bad()
    samples = d.get("samples", [])
    if not isinstance(samples, list) or len(samples) > 8:
        raise Bad()
    return {
        "sensor": need_str(d["sensor"], 16),
        "unit": unit,
        "value": need_num(d["value"], -273.15, 1000.0),
        "offset": need_int(d.get("offset", 0), -1000, 1000),
        "ok": ok,
        "samples": [need_num(x) for x in samples],
        "location": {"room": need_str(loc["room"], 24),
                     "floor": need_int(loc["floor"], -5, 100)},
    }


def value():
    return SensorReading("bme280", Unit.CELSIUS, 21.5, True, SensorReadingLocation("lab", 2),
                         offset=-12, samples=[21.25, 21.5, 21.75, 21.5])


def as_dict():
    return {"sensor": "bme280", "unit": "celsius", "value": 21.5, "offset": -12, "ok": True,
            "samples": [21.25, 21.5, 21.75, 21.5], "location": {"room": "lab", "floor": 2}}


def per_call(f, arg):
    start = now_us()
    for _ in range(CALLS):
        f(arg)
    end = now_us()
    if not hasattr(time, "perf_counter"):
        return time.ticks_diff(end, start) / CALLS
    return (end - start) / CALLS


def stats(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2], xs[0], xs[-1]  # median, min, max


def compare(step, ours, ours_arg, theirs, theirs_arg):
    mine, base, ratio = [], [], []
    ours(ours_arg)
    theirs(theirs_arg)
    for _ in range(ROUNDS):
        a = per_call(ours, ours_arg)
        b = per_call(theirs, theirs_arg)
        mine.append(a)
        base.append(b)
        ratio.append(a / b)
    print("%s: ours %.2f (%.2f - %.2f) us, baseline %.2f (%.2f - %.2f) us, ratio ours/baseline %.2f (%.2f - %.2f)"
          % ((step,) + stats(mine) + stats(base) + stats(ratio)))


def ours_encode(v):
    return v.to_json()


def theirs_encode(d):
    return json.dumps(checked(d), separators=(",", ":"))


def ours_decode(b):
    return SensorReading.from_json(b)


def theirs_decode(b):
    return checked(json.loads(b))


def main():
    print("B9 Python on %s %s, %d rounds of %d calls" % (
        sys.implementation.name, ".".join(str(x) for x in sys.implementation.version[:3]),
        ROUNDS, CALLS))
    text = value().to_json()
    data = text.encode("utf-8")
    assert checked(json.loads(data)) == as_dict()
    assert SensorReading.from_json(data) == value()
    print("value: " + text)
    compare("encode (to_json / checks + json.dumps)", ours_encode, value(), theirs_encode, as_dict())
    compare("decode (from_json / json.loads + checks)", ours_decode, data, theirs_decode, data)


main()
