"""Puts the suite's large pattern into a JetStream Object Store bucket of a nats-server and
records the envelope that links it, for the Object Store tests of both interpreters
(run_all.py, CPython). The std SDK sends it (`natsbridge send --upload object-store`) when
NATSBRIDGE_SERVE_FILES names the `natsbridge` binary; otherwise this module sends it, and
says so loudly.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import nats_bridge as nb  # noqa: E402

BUCKET = "stdbucket"


def seed(nats_url, data, workdir, binary=None):
    """The environment variables naming the recorded envelope (a file) and its bucket."""
    path = os.path.join(workdir, "large-object.bin")
    with open(path, "wb") as f:
        f.write(data)
    c = nb.NatsClient(nats_url).connect()
    try:
        subject = "seed.object.%s" % nb.uuid4()
        c.subscribe(subject)
        c.flush()
        if binary:
            subprocess.check_call([binary, "send", subject, "--file", path, "--upload", "object-store", "--bucket", BUCKET,
                                   "--server", nats_url], stdout=subprocess.DEVNULL)
            sender = "std"
        else:
            print("!!! NATSBRIDGE_SERVE_FILES is not set: the Object Store envelope is sent by nats_bridge, NOT the std SDK !!!")
            nb.smartsend(subject, [("large-object.bin", data, "binary")], client=c, fileserver_url="nats-object-store://" + BUCKET)
            sender = "cpython"
        msg = c.wait_msg(30)
        if msg is None:
            raise SystemExit("FAIL: the Object Store envelope did not arrive on %s" % subject)
    finally:
        c.close()
    out = os.path.join(workdir, "object-link.msg")
    with open(out, "wb") as f:
        f.write(msg.data)
    os.remove(path)
    return {"NATSBRIDGE_OBJECT_MSG": out, "NATSBRIDGE_OBJECT_BUCKET": BUCKET, "NATSBRIDGE_OBJECT_SENDER": sender}
