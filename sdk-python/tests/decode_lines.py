# Decodes many messages in one run, for the cross-language differential test
# (tests/tests/differential.rs). CPython and MicroPython alike:
#
#     python3 sdk-python/tests/decode_lines.py MESSAGES SDK_DIR
#
# MESSAGES holds one base64 message per line. For each it prints one JSON line:
# {"ok": <canonical envelope>}, {"error": "<kind>", "at": "<place>"}, or
# {"crash": "<exception>"} for anything but a NatsBridgeError (a bug).

import sys

sys.path.insert(0, sys.argv[2])

import binascii  # noqa: E402

import nats_bridge  # noqa: E402


def decode(body):
    try:
        envelope = nats_bridge.MessageEnvelope.from_json(body)
    except nats_bridge.NatsBridgeError as e:
        return '{"error":%s,"at":%s}' % (nats_bridge.dumps(e.kind), nats_bridge.dumps(e.at))
    except Exception as e:  # noqa: BLE001 - reported, and the test fails on it
        return '{"crash":%s}' % nats_bridge.dumps("%s: %s" % (type(e).__name__, e))
    return '{"ok":%s}' % envelope.to_json()


def main():
    with open(sys.argv[1]) as lines:
        for line in lines:
            line = line.strip()
            print(decode(binascii.a2b_base64(line)) if line else decode(b""))


main()
