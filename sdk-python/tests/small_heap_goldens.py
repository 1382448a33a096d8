# The golden messages through nats_bridge on a microcontroller-sized heap (64 KiB, with
# the code in a ROMFS image beside it as in a board's flash): every canonical one decodes
# and re-encodes byte for byte, every accepted one decodes, every invalid one with an
# envelope-level kind is refused with that kind and place. Small on purpose; the full
# tests are test_envelope.py. Run from tests/tests/python_sdk.rs as
#     NATSBRIDGE_ROOT=<workspace> python3 sdk-python/tests/romfs.py 64K small_heap_goldens \
#         sdk-python/nats_bridge.py sdk-python/tests/small_heap_goldens.py

import gc
import os

import nats_bridge as nb

GOLDEN_DIR = os.getenv("NATSBRIDGE_ROOT") + "/tests/golden/"
ENVELOPE_KINDS = ("not_json", "not_object", "missing_key", "wrong_type", "bad_value")


def read(path):
    f = open(path, "rb")
    try:
        return f.read()
    finally:
        f.close()


def run(group, name):
    raw = read(GOLDEN_DIR + group + "/" + name)
    if group == "invalid":
        error = nb.loads(read(GOLDEN_DIR + group + "/" + name[:-4] + ".expect.json"))["error"]
        if error["kind"] not in ENVELOPE_KINDS:
            nb.MessageEnvelope.from_json(raw)
            return None
        try:
            nb.MessageEnvelope.from_json(raw)
        except nb.NatsBridgeError as e:
            if e.kind == error["kind"] and e.at == error["at"]:
                return None
            return "got %s at %r" % (e.kind, e.at)
        return "not refused"
    env = nb.MessageEnvelope.from_json(raw)
    if group != "canonical":
        return None
    # A board would not hold the message, its decoded envelope and the text written again
    # at once: let the envelope go before comparing the two texts.
    out = env.to_json()
    env = None
    gc.collect()
    if out.encode("utf-8") != raw:
        return "re-encoded bytes differ"
    return None


def main():
    failed = 0
    count = 0
    low = 1 << 30
    for group in ("canonical", "accepted", "invalid"):
        for name in sorted(os.listdir(GOLDEN_DIR + group)):
            if not name.endswith(".msg"):
                continue
            count += 1
            gc.collect()
            try:
                problem = run(group, name)
            except Exception as e:
                problem = "%s: %s" % (type(e).__name__, e)
            low = min(low, gc.mem_free())
            if problem:
                failed += 1
                print("FAIL %s/%s: %s" % (group, name, problem))
    gc.collect()
    print("small heap: %d goldens, %d failed; least free heap seen %d bytes" % (count, failed, low))
    if failed or not count:
        raise SystemExit(1)


main()
