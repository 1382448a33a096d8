# A JSON configuration (a dictionary payload), sent and received.
#     python3 send_config.py      or        micropython send_config.py
import os
import sys

sys.path.insert(0, sys.argv[0].rsplit("/", 2)[0] if sys.argv[0].count("/") > 1 else "..")
import nats_bridge  # noqa: E402

NATS_URL = os.getenv("NATS_URL") or "nats://localhost:4222"
config = {"sample_rate": 44100, "channels": ["left", "right"], "gain_db": -3.5, "enabled": True}

client = nats_bridge.NatsClient(NATS_URL).connect()
client.subscribe("device.config")
nats_bridge.smartsend("device.config", [("config", config, "dictionary")], nats_url=NATS_URL,
                      msg_purpose="updateStatus", receiver_name="sensor-12")

received = nats_bridge.smartreceive(client.wait_msg(5))
print("received config:", nats_bridge.dumps(received[0][1]))
assert received[0][1] == config
client.close()
