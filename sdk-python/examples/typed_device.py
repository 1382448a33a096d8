# Typed payloads with a device: receive its SensorReadings, send it a Command and read
# its CommandReply, every payload a class of codegen/examples/payloads/device_payloads.py
# (generated from device.schema.json; copy it beside nats_bridge.py and
# nats_bridge_typed.py in your project).
#     python3 typed_device.py             talk to a device (the example firmware)
#     python3 typed_device.py --device    play the device too (no board needed)
# The subjects: the device publishes readings on device.readings and answers commands
# on device.commands (on the subject the Command's reply_to names).
import json
import os
import sys

_here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, _here + "/..")
sys.path.insert(0, _here + "/../../codegen/examples/payloads")
import nats_bridge  # noqa: E402
import nats_bridge_typed  # noqa: E402
from device_payloads import Action, Command, CommandReply, SensorReading, SensorReadingLocation, Unit  # noqa: E402

NATS_URL = os.getenv("NATS_URL") or "nats://localhost:4222"
READINGS = os.getenv("READINGS_SUBJECT") or "device.readings"
COMMANDS = os.getenv("COMMANDS_SUBJECT") or "device.commands"
client = nats_bridge.NatsClient(NATS_URL).connect()


def reading():
    # The reading the example firmware sends: fixed values.
    return SensorReading(sensor="temp0", unit=Unit.CELSIUS, value=21.5, offset=-3, ok=True,
                         samples=[21.25, 21.5, 21.75], location=SensorReadingLocation(room="lab", floor=2))


def answer(msg):
    # The device's side: answer a Command with a CommandReply (a reading for read_sensor).
    env, items = nats_bridge_typed.smartreceive(msg, Command, with_envelope=True)
    command = items[0][1]
    reply = CommandReply(action=command.action, ok=True,
                         reading=reading() if command.action == Action.READ_SENSOR else None)
    nats_bridge.smartsend(env.reply_to, [("reply", reply, "dictionary")], client=client, nats_url=NATS_URL,
                          msg_purpose="ACK", correlation_id=env.correlation_id, reply_to_msg_id=env.msg_id)


def show(r, at):
    # Every field, one JSON line (the firmware's interop test compares each with what was sent).
    print("%s: %s" % (at, json.dumps({"sensor": r.sensor, "unit": r.unit, "value": r.value, "offset": r.offset, "ok": r.ok,
                                      "samples": r.samples, "room": r.location.room, "floor": r.location.floor})))


def next_on(subject):
    msg = client.wait_msg(5)
    while msg is not None and msg.subject != subject:
        msg = client.wait_msg(5)
    if msg is None:
        raise SystemExit("nothing on %s in 5 s" % subject)
    return msg


if "--device" in sys.argv:
    client.subscribe(COMMANDS, answer)
client.subscribe(READINGS)
if "--device" in sys.argv:
    nats_bridge.smartsend(READINGS, [("reading", reading(), "dictionary")], client=client, nats_url=NATS_URL)

show(nats_bridge_typed.smartreceive(next_on(READINGS), SensorReading)[0][1], "reading")

inbox = "replies.%s" % nats_bridge.uuid4()
client.subscribe(inbox)
request = nats_bridge.smartsend(COMMANDS, [("command", Command(action=Action.READ_SENSOR, sensor="temp0"), "dictionary")],
                                client=client, nats_url=NATS_URL, reply_to=inbox)
env, items = nats_bridge_typed.smartreceive(next_on(inbox), CommandReply, with_envelope=True)
assert env.correlation_id == request.correlation_id and env.reply_to_msg_id == request.msg_id
reply = items[0][1]
print("reply: %s" % json.dumps({"action": reply.action, "ok": reply.ok, "message": reply.message}))
if reply.reading is not None:
    show(reply.reading, "reply reading")
client.close()
