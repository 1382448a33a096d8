# Several payloads in one message: a caption and an image.
#     python3 text_with_image.py  or        micropython text_with_image.py
import os
import sys

sys.path.insert(0, sys.argv[0].rsplit("/", 2)[0] if sys.argv[0].count("/") > 1 else "..")
import nats_bridge  # noqa: E402

NATS_URL = os.getenv("NATS_URL") or "nats://localhost:4222"
# a 2x2 PNG; on a device, the bytes of a camera frame
PNG = nats_bridge.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAGUlEQVR4AQEOAPH/AP8AAAD/AAAAAP////8f7gX73t3sKwAAAABJRU5ErkJggg==")

client = nats_bridge.NatsClient(NATS_URL).connect()
client.subscribe("camera.frames")
nats_bridge.smartsend("camera.frames", [("caption", "front door, 2x2 test frame", "text"),
                                        ("frame.png", PNG, "image", {"mime": "image/png"})], nats_url=NATS_URL)

for dataname, data, payload_type in nats_bridge.smartreceive(client.wait_msg(5)):
    print("received %s (%s): %s" % (dataname, payload_type, data if payload_type == "text" else "%d bytes" % len(data)))
client.close()
