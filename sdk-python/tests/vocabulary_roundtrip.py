# The module generated from codegen/tests/fixtures/vocabulary/all_types.json, on CPython
# and MicroPython: every declared type (WIRE.md section 9) set through smartsend(**fields),
# written canonically, read back by smartreceive(with_envelope=True), and refused with the
# right kind at the right place. Run by codegen/tests/python_vocabulary.rs:
#   python3|micropython vocabulary_roundtrip.py DIR_OF_GENERATED_MODULE
import sys

sys.path.insert(0, sys.argv[1])
import nats_bridge as nb  # noqa: E402

SESSION = "0A367B92-cf0b-437d-bd89-960ee832d56f"
AT = "2026-11-25T11:52:26.123+01:00"
# value -> CPython repr, the canonical text on every interpreter
FLOATS = [
    (0.1, "0.1"), (1e16, "1e+16"), (1e-5, "1e-05"), (123456789.123, "123456789.123"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (-0.0, "-0.0"),
    (2.5, "2.5"), (1e22, "1e+22"), (1e15, "1000000000000000.0"), (0.0001, "0.0001"),
    (8.41e21, "8.41e+21"), (1.5e-323, "1.5e-323"), (0.30000000000000004, "0.30000000000000004"),
    (-123.456, "-123.456"), (3, "3.0"),
]


def send(**fields):
    return nb.smartsend("chat.room1", [("m", "hi", "text", {"id": "p-1", "metadata": {"k": 1}})],
                        is_publish=False, msg_id="m-1", correlation_id="c-1", timestamp=AT, sender_id="s-1", **fields)


def refused(kind, at, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except nb.NatsBridgeError as e:
        assert e.kind == kind and e.at == at, "got %s at %r (%s), want %s at %r" % (e.kind, e.at, e, kind, at)
        return e
    raise AssertionError("accepted, want %s at %r" % (kind, at))


def base():
    return nb.loads(send().to_json())


def with_key(key, value):
    d = base()
    d[key] = value
    return d


def test_every_type_round_trips():
    env = send(trace_id="abc", urgent=True, offset=-5, ratio=0.1,
               device={"serial": "S1", "location": {"lat": 1.5, "lon": -2}},
               tags=["a", "b"], readings=[{"value": 1e16, "ok": False, "at": AT}, nb.Reading(2.5)],
               session=SESSION, msg_purpose="ACK")
    text = env.to_json()
    for part in ['"broker_url":"nats://localhost:4222","trace_id":"abc","urgent":true,"offset":-5,"ratio":0.1,',
                 '"device":{"serial":"S1","location":{"lat":1.5,"lon":-2.0}},"tags":["a","b"],',
                 '"readings":[{"value":1e+16,"ok":false,"at":"%s"},{"value":2.5,"ok":true,"at":""}],' % AT,
                 '"session":"%s","schema_version":"v1","metadata":{},"payloads":[{"id":"p-1",' % SESSION,
                 '"msg_purpose":"ACK"', '"metadata":{"k":1}}]}']:
        assert part in text, (part, text)
    got, payloads = nb.smartreceive(text, with_envelope=True)
    assert payloads == [("m", "hi", "text")], payloads
    assert got == env, (got, env)
    assert got.to_json() == text
    assert got.device.location.lat == 1.5 and got.device.location.lon == -2.0 and isinstance(got.device.location.lon, float)
    assert isinstance(got.device, nb.MessageEnvelopeDevice), got.device
    assert got.readings[1].ok is True and got.readings[0].at == AT
    assert got.tags == ["a", "b"] and got.trace_id == "abc" and got.urgent is True and got.offset == -5
    assert got.payloads[0].id == "p-1" and got.payloads[0].metadata == {"k": 1}
    assert nb.MessageEnvelope.from_dict(got.to_dict()) == got


def test_defaults_and_optional_fields():
    env = send()
    text = env.to_json()
    assert '"trace_id"' not in text and '"device"' not in text, text
    assert '"urgent":false,"offset":-1,"ratio":0.5,"tags":[],"readings":[],"session":"","schema_version":"v1"' in text, text
    d = base()
    for key in ("urgent", "offset", "ratio", "tags", "readings", "session", "schema_version"):
        del d[key]
    d["trace_id"] = None  # null reads as absent
    d["device"] = None
    got = nb.MessageEnvelope.from_dict(d)
    assert got.trace_id is None and got.device is None and got.urgent is False and got.offset == -1
    assert got.ratio == 0.5 and got.tags == [] and got.readings == [] and got.schema_version == "v1"
    assert got.to_json() == text
    assert nb.MessageEnvelope.from_dict(with_key("device", {})).device.serial == ""
    got = nb.MessageEnvelope.from_dict(with_key("device", {"serial": "x"}))
    assert got.device.location is None and '"device":{"serial":"x"},' in got.to_json()
    r = nb.Reading.from_dict({"value": 1})
    assert r.value == 1.0 and isinstance(r.value, float) and r.ok is True and r.at == ""


def test_receivers_refuse_with_kind_and_place():
    cases = [
        ("urgent", 1, "wrong_type", "urgent"),
        ("offset", True, "wrong_type", "offset"),
        ("offset", 1.0, "wrong_type", "offset"),
        ("offset", 2 ** 63, "bad_value", "offset"),
        ("offset", -2 ** 63 - 1, "bad_value", "offset"),
        ("ratio", "x", "wrong_type", "ratio"),
        ("ratio", False, "wrong_type", "ratio"),
        ("device", "x", "wrong_type", "device"),
        ("device", {"serial": 1}, "wrong_type", "device.serial"),
        ("device", {"serial": "s", "location": {"lat": "x", "lon": 1}}, "wrong_type", "device.location.lat"),
        ("device", {"serial": "s", "location": {"lat": 1}}, "missing_key", "device.location.lon"),
        ("tags", ["a", "b", 3], "wrong_type", "tags[2]"),
        ("tags", "a", "wrong_type", "tags"),
        ("readings", [{"value": 1}, {"value": 1, "at": "yesterday"}], "bad_value", "readings[1].at"),
        ("readings", [{"value": 1, "ok": "yes"}], "wrong_type", "readings[0].ok"),
        ("readings", [{}], "missing_key", "readings[0].value"),
        ("session", "not-a-uuid", "bad_value", "session"),
        ("session", SESSION.replace("-", "x"), "bad_value", "session"),
        ("schema_version", "v2", "bad_value", "schema_version"),
        ("trace_id", 7, "wrong_type", "trace_id"),
        ("urgent", None, "wrong_type", "urgent"),
    ]
    for key, value, kind, at in cases:
        refused(kind, at, nb.MessageEnvelope.from_dict, with_key(key, value))
    refused("not_json", "", nb.MessageEnvelope.from_json, nb.dumps(base()).replace('"ratio":0.5', '"ratio":1e400'))
    for good in ("2026-11-25t11:52:26z", "2026-11-25T11:52:26Z", "2026-11-25T11:52:26.5-05:30"):
        assert nb.Reading.from_dict({"value": 0, "at": good}).at == good


def test_senders_refuse_with_invalid_input_naming_the_field():
    refused("invalid_input", "nosuch", send, nosuch=1)
    refused("invalid_input", "payloads", send, payloads=[])
    refused("invalid_input", "schema_version", send, schema_version="v1")
    refused("invalid_input", "urgent", send, urgent="yes")
    refused("invalid_input", "offset", send, offset=True)
    refused("invalid_input", "offset", send, offset=2 ** 64)
    refused("invalid_input", "ratio", send, ratio=float("nan"))
    refused("invalid_input", "ratio", send, ratio=float("inf"))
    refused("invalid_input", "device.location.lat", send, device={"serial": "s", "location": {"lat": "x", "lon": 1}})
    refused("invalid_input", "tags[1]", send, tags=["a", None])
    refused("invalid_input", "session", send, session="nope")
    refused("invalid_input", "data[0] (m).id", nb.smartsend, "s", [("m", "hi", "text", {"id": 5})], is_publish=False)
    e = refused("invalid_input", "trace_id", send, trace_id=5)
    assert "wrong_type" in str(e), e
    assert "trace_id" in nb.MessageEnvelope.settable() and "payloads" not in nb.MessageEnvelope.settable()


def test_floats_are_written_as_cpython_repr():
    for value, text in FLOATS:
        env = send(ratio=value)
        body = env.to_json()
        assert ('"ratio":%s,' % text) in body, (value, text, body)
        assert nb.MessageEnvelope.from_json(body).ratio == value
        assert nb.dumps({"x": float(value)}) == '{"x":%s}' % text, (value, nb.dumps({"x": float(value)}))
        assert nb._shortest_repr(float(value)) == text, (value, nb._shortest_repr(float(value)))  # MicroPython's writer


def test_error_kinds_are_the_generated_ones():
    assert nb.KIND_NOT_JSON == "not_json" and "reconnect_buffer_full" in nb.ERROR_KINDS and len(nb.ERROR_KINDS) == 22
    try:
        nb.NatsBridgeError("connection", "", "x")
        raise AssertionError("an unknown kind was accepted")
    except ValueError:
        pass
    assert nb.SIZE_THRESHOLD == 1000000 and nb.MAX_RETRIES == 5 and nb.DEFAULT_MAX_PAYLOAD == 1048576


failed = 0
names = [n for n in sorted(globals()) if n.startswith("test_")]
for name in names:
    try:
        globals()[name]()
        print("ok   %s" % name)
    except Exception as e:  # report every test, then fail
        failed += 1
        print("FAIL %s: %r" % (name, e))
print("%d passed, %d failed" % (len(names) - failed, failed))
sys.exit(1 if failed else 0)
