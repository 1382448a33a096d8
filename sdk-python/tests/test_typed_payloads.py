# Typed payloads (issue 21) on CPython and MicroPython: the example payload schema's
# generated module (codegen/examples/payloads/device_payloads.py, found through
# NATSBRIDGE_ROOT) on the runtime nats_bridge_typed.py. The same values, canonical bytes,
# refusals (kind and place) as sdk-rust/tests/typed_payloads.rs, and a typed smartsend ->
# smartreceive round trip through the nats-server of NATSBRIDGE_NATS_URL.

import sys

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

import nats_bridge as nb
import nats_bridge_aio as aio
import nats_bridge_typed as nbt
from nbtest import ROOT, need, raises, unique

sys.path.insert(0, (ROOT or "../..") + "/codegen/examples/payloads")

from device_payloads import (  # noqa: E402
    Action, Command, CommandReply, DeviceConfig, SensorReading, SensorReadingLocation, Unit)

READING_JSON = ('{"sensor":"bme280","unit":"celsius","value":21.5,"offset":-12,"ok":true,'
                '"samples":[21.25,21.5,21.75,1e+16],"location":{"room":"lab","floor":-1}}')
READING = '"sensor":"s","unit":"celsius","value":1.5,"ok":true,"location":{"room":"r","floor":0}'


def reading():
    return SensorReading("bme280", Unit.CELSIUS, 21.5, True, SensorReadingLocation("lab", -1),
                         offset=-12, samples=[21.25, 21.5, 21.75, 1e16])


def round_trip(value, canonical):
    text = value.to_json()
    assert text == canonical, text
    assert type(value).from_json(text.encode("utf-8")) == value
    assert nb.serialize(value, "dictionary") == canonical.encode("utf-8")


def test_values_round_trip_in_their_canonical_bytes():
    round_trip(reading(), READING_JSON)
    round_trip(DeviceConfig("lab", 's3cret "quoted" \u00e9'),
               '{"wifi_ssid":"lab","wifi_password":"s3cret \\"quoted\\" \u00e9","update_interval":60}')
    round_trip(Command(Action.READ_SENSOR), '{"action":"read_sensor"}')
    round_trip(CommandReply(Action.READ_SENSOR, True, reading=reading()),
               '{"action":"read_sensor","ok":true,"message":"","reading":' + READING_JSON + '}')
    assert SensorReading.TYPE_NAME == "SensorReading"
    assert CommandReply.TYPE_NAME == "CommandReply"
    assert isinstance(reading(), nbt.TypedPayload)
    assert not isinstance(SensorReadingLocation("r", 0), nbt.TypedPayload)  # inline: not a payload type


def test_receivers_apply_defaults_ignore_unknown_keys_and_read_null_as_absent():
    config = DeviceConfig.from_json(b'{ "wifi_password": "pw", "wifi_ssid": "lab", "hostname": null, "extra": [1] }')
    assert config.update_interval == 60 and config.hostname is None
    r = SensorReading.from_json('{"sensor":"s","unit":"percent","value":40,"ok":false,"location":{"room":"r","floor":0}}')
    assert (r.offset, r.value, r.samples) == (0, 40.0, [])
    assert Command.from_dict({"action": "restart", "sensor": "a"}).action == Action.RESTART


def refused(cls, text):
    try:
        cls.from_json(text)
    except nb.NatsBridgeError as e:
        return (e.kind, e.at)
    raise AssertionError("accepted: %s" % text)


def test_invalid_inputs_are_refused_naming_the_field():
    # the cases of sdk-rust/tests/typed_payloads.rs, with the same kinds and places
    cases = [
        # wrong JSON type
        (refused(SensorReading, '{%s,"samples":[1,2,"3"]}' % READING), ("wrong_type", "samples[2]")),
        (refused(SensorReading, '{"sensor":"s","unit":"celsius","value":1,"ok":1,"location":{"room":"r","floor":0}}'),
         ("wrong_type", "ok")),
        (refused(CommandReply, '{"action":"read_sensor","ok":true,"reading":{%s,"offset":1.5}}' % READING),
         ("wrong_type", "reading.offset")),
        (refused(Command, "[1]"), ("not_object", "")),
        (refused(Command, "{"), ("not_json", "")),
        # over a bound
        (refused(DeviceConfig, '{"wifi_ssid":"%s","wifi_password":""}' % ("\u00e9" * 17)), ("over_capacity", "wifi_ssid")),
        (refused(CommandReply, '{"action":"read_sensor","ok":true,"reading":{%s,"samples":[1,2,3,4,5,6,7,8,9]}}' % READING),
         ("over_capacity", "reading.samples")),
        # a required key missing
        (refused(DeviceConfig, '{"wifi_ssid":"lab"}'), ("missing_key", "wifi_password")),
        (refused(SensorReading, '{"sensor":"s","unit":"celsius","value":1,"ok":true,"location":{"room":"r"}}'),
         ("missing_key", "location.floor")),
        # an unknown enumeration value
        (refused(Command, '{"action":"self_destruct"}'), ("bad_value", "action")),
        (refused(SensorReading, '{%s,"unit":"kelvin"}' % READING), ("bad_value", "unit")),
        # out-of-range numbers
        (refused(DeviceConfig, '{"wifi_ssid":"a","wifi_password":"b","update_interval":0}'), ("bad_value", "update_interval")),
        (refused(DeviceConfig, '{"wifi_ssid":"a","wifi_password":"b","update_interval":-5}'), ("wrong_type", "update_interval")),
        (refused(SensorReading, '{%s,"value":-300}' % READING), ("bad_value", "value")),
        (refused(SensorReading, '{%s,"offset":1001}' % READING), ("bad_value", "offset")),
        (refused(SensorReading, '{%s,"offset":1e400}' % READING), ("not_json", "")),
        (refused(SensorReading, '{%s,"offset":99999999999999999999}' % READING), ("bad_value", "offset")),
    ]
    for got, want in cases:
        assert got == want, (got, want)


def test_senders_refuse_what_receivers_would_refuse():
    bad = reading()
    bad.samples[2] = float("nan")
    e = raises(nb.KIND_INVALID_INPUT, bad.to_json)
    assert e.at == "samples[2]", e
    bad = reading()
    bad.samples = [0.0] * 9
    assert raises(nb.KIND_INVALID_INPUT, bad.to_json).at == "samples"
    bad = reading()
    bad.location.floor = 101
    reply = CommandReply(Action.READ_SENSOR, True, reading=bad)
    assert raises(nb.KIND_INVALID_INPUT, reply.to_json).at == "reading.location.floor"
    # what only a Python value can break: a wrong type, an unknown value, a required key unset
    bad = reading()
    bad.value = "hot"
    assert raises(nb.KIND_INVALID_INPUT, bad.to_json).at == "value"
    assert raises(nb.KIND_INVALID_INPUT, Command("jump").to_json).at == "action"
    assert raises(nb.KIND_INVALID_INPUT, DeviceConfig("lab", None).to_json).at == "wifi_password"
    assert raises(nb.KIND_INVALID_INPUT, DeviceConfig("x" * 33, "").to_json).at == "wifi_ssid"
    bad = reading()
    bad.value = float("inf")
    assert raises(nb.KIND_INVALID_INPUT, bad.to_json).at == "value"
    # smartsend names the payload before the field
    e = raises(nb.KIND_INVALID_INPUT, nb.smartsend, "t.typed", [("cmd", Command("jump"), "dictionary")], is_publish=False)
    assert e.at == "data[0] (cmd).action", e
    raises(nb.KIND_WRONG_TYPE, nb.smartsend, "t.typed", [("cmd", Command(Action.RESTART), "text")], is_publish=False)


def test_from_payload_checks_the_schema_type():
    data = {"action": "restart"}
    assert Command.from_payload(data).action == Action.RESTART  # no metadata: an untyped sender
    assert Command.from_payload(b'{"action":"restart"}', {"schema_type": "Command"}).action == Action.RESTART
    e = raises(nb.KIND_BAD_VALUE, Command.from_payload, data, {"schema_type": "CommandReply"}, "payloads[1]")
    assert e.at == "payloads[1].metadata.schema_type", e
    e = raises(nb.KIND_WRONG_TYPE, Command.from_payload, {"action": 7}, {}, "payloads[0]")
    assert e.at == "payloads[0].data.action", e
    assert raises(nb.KIND_NOT_JSON, Command.from_payload, b"{", None, "payloads[0]").at == "payloads[0].data"


def test_a_subclass_is_sent_under_its_schema_type():
    # schema_type is the $defs key (TYPE_NAME), not the Python class's own name
    url = need("NATSBRIDGE_NATS_URL")

    class LabReading(SensorReading):
        pass

    value = LabReading.from_json(READING_JSON)
    assert type(value).__name__ == "LabReading"
    sent = nb.smartsend(unique("t.typed"), [("reading", value, "dictionary")], nats_url=url, fileserver_url=None)
    assert sent.payloads[0].metadata == {"schema_type": "SensorReading"}, sent.payloads[0].metadata


def test_typed_smartsend_and_smartreceive_through_nats():
    url = need("NATSBRIDGE_NATS_URL")
    c = nb.NatsClient(url).connect()
    try:
        subject = unique("t.typed")
        c.subscribe(subject)
        c.flush()
        r = reading()
        sent = nb.smartsend(subject, [("reading", r, "dictionary"), ("cmd", Command(Action.READ_SENSOR, sensor="bme280"), "dictionary", {"note": "x"}),
                                      ("plain", {"action": "restart"}, "dictionary"), ("hello", "hi", "text")],
                            nats_url=url, fileserver_url=None)
        assert sent.payloads[0].metadata == {"schema_type": "SensorReading"}, sent.payloads[0].metadata
        assert sent.payloads[1].metadata == {"note": "x", "schema_type": "Command"}
        assert sent.payloads[2].metadata == {} and sent.payloads[3].metadata == {}
        msg = c.wait_msg(5)
        assert msg is not None, "the envelope arrived"
        # the wire: a dictionary payload holding the canonical bytes
        env = nb.MessageEnvelope.from_json(msg.data)
        assert nb.b64decode(env.payloads[0].data) == READING_JSON.encode("utf-8")
        # untyped, as every edition reads it
        plain = nb.smartreceive(msg)
        assert plain[0] == ("reading", SensorReading.from_json(READING_JSON).to_dict(), "dictionary"), plain[0]
        # typed: the asked types by schema_type; a payload without one stays untyped when
        # several are asked (read as the type when one is)
        got = nbt.smartreceive(msg, [SensorReading, Command])
        assert got[0] == ("reading", r, "dictionary"), got[0]
        assert got[1] == ("cmd", Command(Action.READ_SENSOR, sensor="bme280"), "dictionary"), got[1]
        assert got[2] == plain[2] and got[2][1] == {"action": "restart"}
        assert got[3] == ("hello", "hi", "text")
        # by dataname; the payloads not named stay untyped
        env2, got = nbt.smartreceive(msg, {"cmd": Command, "plain": Command}, with_envelope=True)
        assert env2.payloads[0].metadata["schema_type"] == "SensorReading"
        assert got[0][1] == plain[0][1] and got[1][1].sensor == "bme280" and got[2][1] == Command(Action.RESTART)
        # another type asked: refused naming the payload, the untyped dicts still there
        e = raises(nb.KIND_BAD_VALUE, nbt.smartreceive, msg, {"reading": Command})
        assert e.at == "payloads[0].metadata.schema_type", e
        assert e.received[0] == plain[0] and e.envelope.payloads[0].dataname == "reading"
        # the untyped dict of a plain payload read as a type asked for (no schema_type)
        e = raises(nb.KIND_MISSING_KEY, nbt.typed_payloads, env2, plain, {"plain": CommandReply})
        assert e.at == "payloads[2].data.ok", e
    finally:
        c.close()
        nb.close_connections()


def test_typed_smartsend_on_asyncio():
    url = need("NATSBRIDGE_NATS_URL")

    async def main():
        c = await aio.connect(url)
        try:
            subject = unique("t.typed.aio")
            sub = await c.subscribe(subject)
            await c.flush()
            await aio.smartsend(subject, [("config", DeviceConfig("lab", "pw", hostname="dev1"), "dictionary")], client=c,
                                fileserver_url=None)
            await c.flush()
            msg = await sub.next(5)
            env, items = await aio.smartreceive(msg, with_envelope=True)
            return nbt.typed_payloads(env, items, DeviceConfig)
        finally:
            await c.close()

    got = asyncio.run(main())
    assert got == [("config", DeviceConfig("lab", "pw", hostname="dev1"), "dictionary")], got


def test_the_readme_block_runs():
    # sdk-python/README.md "your own payload types", as written but for the NATS URL
    from test_readme import _block

    code = _block("sdk-python/README.md", "## Use: your own payload types")
    old = 'NATS_URL = "nats://localhost:4222"'
    assert old in code, "the README block no longer sets NATS_URL"
    code = code.replace(old, "NATS_URL = %r" % need("NATSBRIDGE_NATS_URL"))
    sys.path.insert(0, ROOT + "/codegen/examples/payloads")
    names = {}
    exec(code, names)
    assert [item[1] for item in names["untyped"]][1] == {"action": "read_sensor"}
    assert isinstance(names["data"], Command) and names["refused"] == ("bad_value", "payloads[0].metadata.schema_type")
    nb.close_connections()


def test_a_typed_value_travels_as_a_link_too():
    url = need("NATSBRIDGE_NATS_URL")
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    c = nb.NatsClient(url).connect()
    try:
        subject = unique("t.typed.link")
        c.subscribe(subject)
        c.flush()
        reply = CommandReply(Action.READ_SENSOR, True, reading=reading())
        env = nb.smartsend(subject, [("reply", reply, "dictionary")], nats_url=url, fileserver_url=webdav,
                           fileserver_upload_handler=nb.http_put_upload, size_threshold=10)
        assert env.payloads[0].transport == "link" and env.payloads[0].metadata["schema_type"] == "CommandReply"
        msg = c.wait_msg(5)
        got = nbt.smartreceive(msg, CommandReply, fileserver_url=webdav)
        assert got == [("reply", reply, "dictionary")], got
    finally:
        c.close()
        nb.close_connections()


def _golden_answer(cls, data):
    # (True, canonical re-encoding) or (False, (kind, at)): what this SDK makes of one golden
    try:
        return True, cls.from_json(data).to_json()
    except nb.NatsBridgeError as e:
        return False, (e.kind, e.at)


def test_the_payload_goldens_hold():
    # tests/golden/payloads/ (tests/golden/tools/make_payload_goldens.py), as the std and
    # no_std SDKs hold them: canonical ones re-encode to their own bytes, accepted ones to
    # their canonical text, invalid ones are refused with the expected kind at the field
    os = nb._os()
    types = {"DeviceConfig": DeviceConfig, "SensorReading": SensorReading, "Command": Command, "CommandReply": CommandReply}
    root = (ROOT or "../..") + "/tests/golden/payloads"
    seen, wrong = 0, []
    for group in ("canonical", "accepted", "invalid"):
        for name in sorted(os.listdir(root + "/" + group)):
            if not name.endswith(".expect.json"):
                continue
            base = "%s/%s/%s" % (root, group, name[:-len(".expect.json")])
            with open(base + ".expect.json", "rb") as f:
                expect = nb.loads(f.read())
            with open(base + ".json", "rb") as f:
                data = f.read()
            if expect["error"] is None:
                want = (True, expect["canonical"])
                if group == "canonical":
                    assert data == expect["canonical"].encode("utf-8"), base
            else:
                want = (False, (expect["error"]["kind"], expect["error"]["at"]))
            got = _golden_answer(types[expect["type"]], data)
            if got != want:
                wrong.append("%s: got %r, want %r" % (base, got, want))
            seen += 1
    assert seen >= 30, seen
    assert not wrong, "\n".join(wrong)
