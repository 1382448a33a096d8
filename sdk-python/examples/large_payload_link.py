# A large payload over the link transport: uploaded to a file server, only its URL in the
# envelope; the receiver streams it to a file, so a small board can take megabytes.
#     FILESERVER_URL=http://localhost:8080 python3 large_payload_link.py
# UPLOAD=put uses HTTP PUT (nginx WebDAV), else the Plik API (natsbridge serve-files).
import os
import sys

sys.path.insert(0, sys.argv[0].rsplit("/", 2)[0] if sys.argv[0].count("/") > 1 else "..")
import nats_bridge  # noqa: E402

NATS_URL = os.getenv("NATS_URL") or "nats://localhost:4222"
FILESERVER_URL = os.getenv("FILESERVER_URL") or "http://localhost:8080"
UPLOAD = nats_bridge.http_put_upload if os.getenv("UPLOAD") == "put" else nats_bridge.plik_upload
SIZE = 1500000

data = bytearray(SIZE)
for i in range(0, SIZE, 1000):
    data[i] = i % 251
data = bytes(data)

client = nats_bridge.NatsClient(NATS_URL).connect()
client.subscribe("bulk.upload")
env = nats_bridge.smartsend("bulk.upload", [("recording.bin", data, "binary")], nats_url=NATS_URL,
                            fileserver_url=FILESERVER_URL, fileserver_upload_handler=UPLOAD)
print("sent as %s: %s" % (env.payloads[0].transport, env.payloads[0].data))
data = None

folder = os.getenv("DOWNLOAD_DIR") or "."
for dataname, path, payload_type in nats_bridge.smartreceive(client.wait_msg(5), download_to=folder, fileserver_url=FILESERVER_URL):
    print("received %s (%s) into %s: %d bytes" % (dataname, payload_type, path, os.stat(path)[6]))
client.close()
