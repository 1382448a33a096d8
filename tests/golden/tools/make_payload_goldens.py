"""Writes tests/golden/payloads/: the goldens of the example payload schema
(codegen/examples/payloads/device.schema.json), held by every SDK's typed payloads.

    python3 tests/golden/tools/make_payload_goldens.py

Each golden is `<group>/<name>.json` (a dictionary payload's data, byte for byte) and
`<group>/<name>.expect.json`: {"description", "type" (the $defs key to decode it as),
"canonical" (the canonical text a receiver re-encodes it to; null for invalid/), "error"
(null, or {"kind", "at"}: what every SDK reports)}. canonical/ holds exactly the bytes a
sender writes (WIRE.md sections 9 and 10), accepted/ the forms a receiver also takes,
invalid/ what it refuses.
"""

import json
import os
import shutil

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "payloads")


def text(value):
    # The canonical text (WIRE.md sections 8 to 10): insertion order is schema order here,
    # CPython's float repr is the canonical number text.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


LOCATION = {"room": "lab", "floor": -1}
READING = {"sensor": "bme280", "unit": "celsius", "value": 21.5, "offset": -12, "ok": True,
           "samples": [21.25, 21.5, 21.75, 1e16], "location": LOCATION}
AT_BOUNDS = {"sensor": "s" * 16, "unit": "hectopascal", "value": -273.15, "offset": 1000, "ok": False,
             "samples": [0.0, -0.0, 1e-05, 0.0001, 123.456, 1e22, -1e-100, 5e-324],
             "location": {"room": "é" * 12, "floor": 100}}
CONFIG = {"wifi_ssid": "lab", "wifi_password": "s3cret \"quoted\" é", "update_interval": 60}

CANONICAL = {
    "sensor_reading": ("SensorReading", "a reading with every property: a nested object, a float, a signed integer, a boolean, an array of numbers, an enumeration", READING),
    "sensor_reading_at_bounds": ("SensorReading", "every bound reached: strings at x-max-bytes (the room in two-byte characters), 8 samples, value at its minimum, offset and floor at their maximum; numbers in fixed and exponent notation", AT_BOUNDS),
    "device_config": ("DeviceConfig", "a configuration with the optional hostname absent (left out) and a password with quotes and non-ASCII", CONFIG),
    "device_config_hostname": ("DeviceConfig", "a configuration with the optional hostname", dict(CONFIG, hostname="sensor-7")),
    "command": ("Command", "the original's own example command", {"action": "read_sensor"}),
    "command_sensor": ("Command", "a command naming its sensor", {"action": "restart", "sensor": "bme280"}),
    "command_reply": ("CommandReply", "a reply holding a reading (a $ref to another payload type)", {"action": "read_sensor", "ok": True, "message": "", "reading": READING}),
}

ACCEPTED = {
    "defaults_filled": ("DeviceConfig", "update_interval missing: its default, 60, is written back", '{"wifi_password":"pw","wifi_ssid":"lab"}',
                        {"wifi_ssid": "lab", "wifi_password": "pw", "update_interval": 60}),
    "alias": ("DeviceConfig", "the alias updateInterval is read as update_interval", '{"updateInterval":30,"wifi_ssid":"lab","wifi_password":"pw"}',
              {"wifi_ssid": "lab", "wifi_password": "pw", "update_interval": 30}),
    "key_and_alias_both": ("DeviceConfig", "the key wins over its alias, wherever it stands", '{"update_interval":10,"wifi_ssid":"a","wifi_password":"b","updateInterval":5}',
                           {"wifi_ssid": "a", "wifi_password": "b", "update_interval": 10}),
    "optional_null": ("Command", "an optional property given as null is absent", '{"action":"restart","sensor":null}', {"action": "restart"}),
    "unknown_keys": ("Command", "unknown keys are ignored", '{"priority":3,"action":"apply_config","extra":{"a":[1,null]}}', {"action": "apply_config"}),
    "integers_as_numbers": ("SensorReading", "integers where numbers are declared read as floats; offset and samples take their defaults",
                            '{"sensor":"t","unit":"percent","value":21,"ok":true,"location":{"room":"hall","floor":0},"samples":[1,2E1]}',
                            {"sensor": "t", "unit": "percent", "value": 21.0, "offset": 0, "ok": True, "samples": [1.0, 20.0], "location": {"room": "hall", "floor": 0}}),
    "whitespace_and_escapes": ("Command", "whitespace between tokens and \\u escapes in strings", ' {\n  "action" : "read_sensor",\n  "sensor" : "caf\\u00e9\\t"\n}\n',
                               {"action": "read_sensor", "sensor": "café\t"}),
    "defaults_in_nested": ("CommandReply", "a reply without message (its default, \"\") and without reading (optional)", '{"ok":false,"action":"restart"}',
                           {"action": "restart", "ok": False, "message": ""}),
}


def reading(**changes):
    r = dict(READING)
    r.update(changes)
    return text(r)


INVALID = {
    "not_json": ("Command", "not JSON at all", '{"action":', "not_json", ""),
    "not_object": ("Command", "JSON, but not an object", '["read_sensor"]', "not_object", ""),
    "missing_key": ("SensorReading", "a required property missing", text({k: v for k, v in READING.items() if k != "sensor"}), "missing_key", "sensor"),
    "missing_nested_key": ("SensorReading", "a required property of the nested object missing", reading(location={"room": "lab"}), "missing_key", "location.floor"),
    "wrong_type_number": ("SensorReading", "a number given as a string", reading(value="21.5"), "wrong_type", "value"),
    "wrong_type_boolean": ("SensorReading", "a boolean given as 1", reading(ok=1), "wrong_type", "ok"),
    "wrong_type_integer_fraction": ("SensorReading", "an integer with a fraction", reading(offset=1.5), "wrong_type", "offset"),
    "wrong_type_nested": ("SensorReading", "the nested object given as a string", reading(location="lab"), "wrong_type", "location"),
    "wrong_type_item": ("SensorReading", "an array item of the wrong type, named by its index", reading(samples=[1.0, 2.0, "x"]), "wrong_type", "samples[2]"),
    "wrong_type_in_referenced_type": ("CommandReply", "a wrong type inside a property of another payload type", text({"action": "read_sensor", "ok": True, "reading": dict(READING, value="x")}), "wrong_type", "reading.value"),
    "over_maximum": ("SensorReading", "a number above its maximum", reading(value=1000.5), "bad_value", "value"),
    "under_minimum": ("SensorReading", "an integer below its minimum", reading(offset=-1001), "bad_value", "offset"),
    "nested_over_maximum": ("SensorReading", "a nested integer above its maximum", reading(location={"room": "lab", "floor": 101}), "bad_value", "location.floor"),
    "under_minimum_unsigned": ("DeviceConfig", "an integer of minimum 1 given 0", text(dict(CONFIG, update_interval=0)), "bad_value", "update_interval"),
    "over_capacity_string": ("SensorReading", "a string one byte over its x-max-bytes", reading(sensor="s" * 17), "over_capacity", "sensor"),
    "over_capacity_multibyte": ("SensorReading", "a string within x-max-bytes in characters but not in UTF-8 bytes (13 two-byte characters, 24 bytes allowed)", reading(location={"room": "é" * 13, "floor": 0}), "over_capacity", "location.room"),
    "over_capacity_array": ("SensorReading", "an array one item over its maxItems", reading(samples=[1.0] * 9), "over_capacity", "samples"),
    "unknown_enum_value": ("SensorReading", "a value the enumeration does not have", reading(unit="kelvin"), "bad_value", "unit"),
    "unknown_action": ("Command", "a command the devices do not know", '{"action":"self_destruct"}', "bad_value", "action"),
    "under_minimum_two_levels_down": ("CommandReply", "an integer below its minimum in the nested object of a property of another payload type", text({"action": "read_sensor", "ok": True, "reading": dict(READING, location={"room": "r", "floor": -6})}), "bad_value", "reading.location.floor"),
    "wrong_type_negative_unsigned": ("DeviceConfig", "a negative number for an integer of minimum 1 (an unsigned integer in the Rust SDKs): the wrong type, as for the envelope", text(dict(CONFIG, update_interval=-5)), "wrong_type", "update_interval"),
    "integer_beyond_64_bits": ("SensorReading", "an integer no 64-bit integer holds, though a double does: out of its bounds", reading(offset=0).replace('"offset":0', '"offset":99999999999999999999'), "bad_value", "offset"),
    "number_beyond_double": ("SensorReading", "a number no double holds: not JSON, as for the envelope", reading(value=0).replace('"value":0', '"value":1e400'), "not_json", ""),
}


def write(group, name, data, expect):
    folder = os.path.join(OUT, group)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name + ".json"), "w", encoding="utf-8", newline="") as f:
        f.write(data)
    with open(os.path.join(folder, name + ".expect.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(expect, ensure_ascii=False, indent=2) + "\n")


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    for name, (ty, description, value) in CANONICAL.items():
        write("canonical", name, text(value), {"description": description, "type": ty, "canonical": text(value), "error": None})
    for name, (ty, description, data, value) in ACCEPTED.items():
        write("accepted", name, data, {"description": description, "type": ty, "canonical": text(value), "error": None})
    for name, (ty, description, data, kind, at) in INVALID.items():
        write("invalid", name, data, {"description": description, "type": ty, "canonical": None, "error": {"kind": kind, "at": at}})
    print("wrote %d goldens to %s" % (len(CANONICAL) + len(ACCEPTED) + len(INVALID), OUT))


if __name__ == "__main__":
    main()
