# Decodes many typed payloads in one run, for the cross-language differential test of
# typed payloads (tests/tests/differential.rs). CPython and MicroPython alike:
#
#     python3 sdk-python/tests/decode_payload_lines.py LINES SDK_DIR PAYLOADS_DIR
#
# LINES holds one "TYPE BASE64" line per payload: the type's name (a class of PAYLOADS_DIR's
# device_payloads.py) and the data's bytes. For each it prints one JSON line:
# {"ok": <canonical re-encoding>}, {"error": "<kind>", "at": "<place>"}, or
# {"crash": "<exception>"} for anything but a NatsBridgeError (a bug).

import sys

sys.path.insert(0, sys.argv[2])
sys.path.insert(0, sys.argv[3])

import binascii  # noqa: E402

import device_payloads  # noqa: E402
import nats_bridge  # noqa: E402


def decode(type_name, data):
    try:
        text = getattr(device_payloads, type_name).from_json(data).to_json()
    except nats_bridge.NatsBridgeError as e:
        return '{"error":%s,"at":%s}' % (nats_bridge.dumps(e.kind), nats_bridge.dumps(e.at))
    except Exception as e:  # noqa: BLE001 - reported, and the test fails on it
        return '{"crash":%s}' % nats_bridge.dumps("%s: %s" % (type(e).__name__, e))
    return '{"ok":%s}' % nats_bridge.dumps(text)


def main():
    with open(sys.argv[1]) as lines:
        for line in lines:
            type_name, _, data = line.strip().partition(" ")
            print(decode(type_name, binascii.a2b_base64(data) if data else b""))


main()
