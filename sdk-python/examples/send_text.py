# A text message, sent and received. Start a nats-server first, then
#     python3 send_text.py        or        micropython send_text.py
# NATS_URL (default nats://localhost:4222) names another server.
import os
import sys

sys.path.insert(0, sys.argv[0].rsplit("/", 2)[0] if sys.argv[0].count("/") > 1 else "..")
import nats_bridge  # noqa: E402

NATS_URL = os.getenv("NATS_URL") or "nats://localhost:4222"

client = nats_bridge.NatsClient(NATS_URL).connect()
client.subscribe("/chat/room1")  # subjects may look like paths, as in the original

env = nats_bridge.smartsend("/chat/room1", [("message", "Hello from NATSBridge!", "text")], nats_url=NATS_URL)
print("sent msg_id", env.msg_id)

for dataname, data, payload_type in nats_bridge.smartreceive(client.wait_msg(5)):
    print("received %s (%s): %s" % (dataname, payload_type, data))
client.close()
