#!/usr/bin/env python3
"""Write the goldens of the all-types schema variant into tests/golden/all_types/.

Run from anywhere:  python3 tests/golden/tools/make_all_types_goldens.py

The variant is codegen/tests/fixtures/vocabulary/all_types.json: the real schema plus one
field of every declared type of WIRE.md section 9 (trace_id optional string, urgent bool,
offset i64, ratio f64, device nested object with an optional nested location, tags array of
strings, readings array of $defs/Reading, session uuid, schema_version const). Same format as
the other goldens (tests/golden/README.md) except that schema_violations is left out. The
schema drill (tests/src/drill) builds every SDK from that variant and holds it to these
files. CPython 3.9+ and the standard library only. The expected forms are built from the
inputs, never by decoding the messages.
"""

import hashlib
import json
import shutil
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "all_types"
TIMESTAMP = "2026-11-25T11:52:26.123Z"
BROKER = "nats://127.0.0.1:4222"
SESSION = "0b5c3a1e-7d2f-4c8a-9e6b-1f2a3b4c5d6e"

V1_KEYS = ["correlation_id", "msg_id", "timestamp", "send_to", "msg_purpose", "sender_name",
           "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id",
           "broker_url"]
# The declared fields in schema order, with their defaults (None: optional, no default).
NEW_FIELDS = [("trace_id", None), ("urgent", False), ("offset", -1), ("ratio", 0.5),
              ("device", None), ("tags", []), ("readings", []), ("session", ""),
              ("schema_version", "v1")]


def uid(seed):
    return str(uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4))


def dumps(obj):
    """WIRE.md section 8; floats as CPython's repr, which is WIRE.md section 9's text."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def payload(name):
    data = b"hello world"
    import base64
    wire = {"id": uid("payload/" + name), "dataname": "hello.txt", "payload_type": "text",
            "transport": "direct", "encoding": "base64", "size": len(data),
            "data": base64.b64encode(data).decode("ascii"), "metadata": {}}
    expected = dict(wire)
    del expected["data"]
    expected["value"] = {"text": "hello world"}
    return wire, expected


def device(serial, location=None):
    d = {"serial": serial}
    if location is not None:
        d["location"] = {"lat": location[0], "lon": location[1]}
    return d


def reading(value, ok=True, at=""):
    return {"value": value, "ok": ok, "at": at}


def envelope(name, **over):
    """The envelope as a receiver sees it, every key in schema order (optional ones None)."""
    e = {"correlation_id": uid("corr/" + name), "msg_id": uid("msg/" + name),
         "timestamp": TIMESTAMP, "send_to": "chat.room1", "msg_purpose": "chat",
         "sender_name": "NATSBridge", "sender_id": uid("sender"), "receiver_name": "",
         "receiver_id": "", "reply_to": "", "reply_to_msg_id": "", "broker_url": BROKER}
    for key, default in NEW_FIELDS:
        e[key] = default
    e["metadata"] = {}
    for k, v in over.items():
        assert k in e, k
        e[k] = v
    return e


def wire_of(e, payload_wire):
    """The canonical wire object: optional fields that are absent left out."""
    obj = {k: v for k, v in e.items() if v is not None}
    obj["payloads"] = [payload_wire]
    return obj


WRITTEN = []


def write(group, name, msg, description, env, payloads, error=None):
    d = ROOT / group
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(msg, str):
        msg = msg.encode("utf-8")
    expect = {"description": description, "envelope": env, "payloads": payloads, "error": error}
    (d / (name + ".msg")).write_bytes(msg)
    (d / (name + ".expect.json")).write_text(
        json.dumps(expect, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    WRITTEN.append(group + "/" + name)


def canonical(name, description, **over):
    e = envelope(name, **over)
    p_wire, p_exp = payload(name)
    write("canonical", name, dumps(wire_of(e, p_wire)), description, e, [p_exp])


def edited(name, edit, **over):
    """A canonical message of envelope(name, **over) whose wire object edit() changes."""
    e = envelope(name, **over)
    p_wire, p_exp = payload(name)
    obj = wire_of(e, p_wire)
    edit(obj)
    return dumps(obj), e, [p_exp]


def accepted(name, description, edit, **over):
    msg, e, ps = edited(name, edit, **over)
    write("accepted", name, msg, description, e, ps)


def invalid(name, description, edit, kind, at, sdks="all", raw=None, **over):
    msg, e, ps = edited(name, edit, **over)
    if raw is not None:
        msg = msg.replace('"__RAW__"', raw)
    if sdks == "all":
        e, ps = None, None
    write("invalid", name, msg, description, e, ps, {"kind": kind, "at": at, "sdks": sdks})


def set_(path, value):
    """An edit setting obj[path...] (keys and indexes) to value."""
    def f(obj):
        target = obj
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return f


def delete(*keys):
    def f(obj):
        for key in keys:
            del obj[key]
    return f


def make_canonical():
    canonical("every_field",
              "Every declared field set: optional string, boolean, i64, f64, nested object "
              "with its optional nested object, array of strings, array of structures, uuid, "
              "const.",
              trace_id="trace-1", urgent=True, offset=-42, ratio=0.25,
              device=device("SN-1", (47.5, -122.25)), tags=["alpha", "b-c"],
              readings=[reading(1.5, False, TIMESTAMP)], session=SESSION)
    canonical("defaults_only",
              "Nothing set: the optional trace_id and device left out, every other declared "
              "field written with its default.")
    canonical("device_without_location",
              "The nested device without its optional location (the key left out).",
              device=device("SN-2"))
    canonical("floats_repr",
              "Numbers in CPython's repr form (WIRE.md section 9): 0.1, 1e+16, 1e-05, -0.0, "
              "2.5 and 1e+22.",
              ratio=0.1, device=device("SN-3", (1e16, 1e-05)),
              readings=[reading(-0.0), reading(2.5), reading(1e22)])
    canonical("float_fixed_digits",
              "123456789.123 and a tiny 1e-100 keep their shortest round-trip digits.",
              ratio=123456789.123, readings=[reading(1e-100)])
    canonical("integer_extremes",
              "offset at the bottom of the i64 range; an empty tag and reading list.",
              offset=-9223372036854775808)
    canonical("unicode_strings",
              "Non-ASCII in a nested string and in tags, written as raw UTF-8 (tags of at most "
              "16 bytes).",
              device=device("S\u00e9rie-\U0001F600"), tags=["gr\u00fc\u00dfe", "\u3053\u3093"])


def make_accepted():
    def camel(obj):
        for key, alias in (("correlation_id", "correlationId"), ("msg_id", "msgId"),
                           ("msg_purpose", "msgPurpose"), ("broker_url", "brokerURL")):
            obj[alias] = obj.pop(key)
    accepted("aliases_with_new_fields",
             "The v1 aliases (camelCase) beside every declared field under its own name.",
             camel, trace_id="t", urgent=True, device=device("SN-4", (1.0, 2.0)))
    accepted("defaults_filled",
             "The declared fields with defaults left out, and a reading with only its value: "
             "every default filled in.",
             lambda o: [delete("urgent", "offset", "ratio", "tags", "readings", "session",
                               "schema_version")(o), o.__setitem__("readings", [{"value": 7.5}])],
             readings=[reading(7.5)])
    accepted("optional_null",
             "null for the optional trace_id and device: read as absent.",
             lambda o: [o.__setitem__("trace_id", None), o.__setitem__("device", None)])
    accepted("optional_location_null",
             "null for the optional nested location: read as absent.",
             set_(["device", "location"], None), device=device("SN-5"))
    accepted("integer_for_number",
             "An integer 3 for the number ratio and the nested lat reads as 3.0.",
             lambda o: [o.__setitem__("ratio", 3), o["device"]["location"].__setitem__("lat", 3)],
             ratio=3.0, device=device("SN-6", (3.0, 0.5)))
    accepted("uuid_upper_and_datetime_offset",
             "A uuid in upper case and a date-time with an offset and lower-case t and z "
             "separators are accepted as given.",
             lambda o: None, session=SESSION.upper(),
             readings=[reading(1.0, True, "2026-11-25T12:52:26+01:00"),
                       reading(2.0, True, "2026-11-25t11:52:26.5z")])
    accepted("reordered_new_keys",
             "The declared keys in another order, before the v1 keys.",
             lambda o: [o.__setitem__(k, o.pop(k)) for k in list(o) if k not in
                        ("trace_id", "urgent", "device")],
             trace_id="first", urgent=True, device=device("SN-7"))


def make_invalid():
    invalid("bool_wrong_type", "urgent is the string \"yes\", not a boolean.",
            set_(["urgent"], "yes"), "wrong_type", "urgent")
    invalid("tag_wrong_type", "The second tag is a number.",
            set_(["tags"], ["a", 2]), "wrong_type", "tags[1]")
    invalid("device_not_object", "device is a string, not an object.",
            set_(["device"], "SN-1"), "wrong_type", "device")
    invalid("location_lat_missing", "The nested location lacks its required lat.",
            lambda o: o["device"]["location"].pop("lat"), "missing_key", "device.location.lat",
            device=device("SN-8", (1.0, 2.0)))
    invalid("reading_value_missing", "A reading without its required value.",
            set_(["readings"], [{"ok": True}]), "missing_key", "readings[0].value")
    invalid("number_out_of_range", "ratio is 1e400, which no double can hold: refused while parsing, as not JSON (WIRE.md section 9, as the v1 golden number_out_of_range).",
            set_(["ratio"], "__RAW__"), "not_json", "", raw="1e400")
    invalid("integer_with_fraction", "offset is 1.0, a number with a fraction part.",
            set_(["offset"], "__RAW__"), "wrong_type", "offset", raw="1.0")
    invalid("integer_beyond_i64", "offset is 2^63, beyond the i64 range.",
            set_(["offset"], "__RAW__"), "bad_value", "offset", raw="9223372036854775808")
    invalid("bad_uuid", "session is not a uuid.",
            set_(["session"], "not-a-uuid"), "bad_value", "session")
    invalid("bad_date_time", "A reading's at is not an RFC 3339 date-time.",
            set_(["readings"], [{"value": 1.0, "ok": True, "at": "yesterday"}]), "bad_value",
            "readings[0].at")
    invalid("const_mismatch", "schema_version is \"v2\", not the const \"v1\".",
            set_(["schema_version"], "v2"), "bad_value", "schema_version")
    invalid("trace_id_over_capacity",
            "A 65-byte trace_id, over the no_std capacity of 64 bytes; the other SDKs decode it.",
            lambda o: None, "over_capacity", "trace_id", "embedded", trace_id="t" * 65)
    invalid("tag_over_capacity",
            "A 17-byte tag, over the no_std item capacity of 16 bytes; the other SDKs decode it.",
            lambda o: None, "over_capacity", "tags[0]", "embedded", tags=["x" * 17])
    invalid("too_many_tags",
            "Five tags, over the no_std capacity (maxItems 4); the other SDKs decode them.",
            lambda o: None, "over_capacity", "tags", "embedded", tags=["a", "b", "c", "d", "e"])


def main():
    shutil.rmtree(ROOT, ignore_errors=True)
    make_canonical()
    make_accepted()
    make_invalid()
    print("wrote %d goldens into %s" % (len(WRITTEN), ROOT), file=sys.stderr)


if __name__ == "__main__":
    main()
