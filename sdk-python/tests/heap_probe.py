# One measurement for measure_heap.py, run from a ROMFS image on a limited MicroPython
# heap (romfs.py), with NATSBRIDGE_PROBE=direct|link_memory|link_file and
# NATSBRIDGE_PROBE_SIZE=N.
# Prints "ok N" when a payload of N bytes made it, else the error.

import gc

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb

mode = os.getenv("NATSBRIDGE_PROBE")
size = int(os.getenv("NATSBRIDGE_PROBE_SIZE"))
gc.collect()
if mode == "direct":
    # a binary payload sent direct, then the same message received and decoded
    c = nb.NatsClient(os.getenv("NATSBRIDGE_NATS_URL")).connect()
    c.subscribe("probe")
    data = bytearray(size)
    for i in range(0, size, 97):
        data[i] = i % 251
    nb.smartsend("probe", [("p", data, "binary")], client=c)
    data = None
    gc.collect()
    msg = c.wait_msg(10)
    got = nb.smartreceive(msg.data)
    msg = None
    assert len(got[0][1]) == size and got[0][1][97 % size] == (97 % size) % 251 or size < 98
elif mode == "link_memory":
    # a link payload downloaded into memory (helper_server.py serves the bytes)
    got = nb.download("%s/bytes/%d/probe.bin" % (os.getenv("NATSBRIDGE_HELPER_URL"), size), size)
    assert len(got) == size
else:
    # a link payload streamed to a file
    got = nb.download("%s/bytes/%d/probe.bin" % (os.getenv("NATSBRIDGE_HELPER_URL"), size), size, None,
                      open(os.getenv("NATSBRIDGE_TMP") + "/probe.bin", "wb"))
    assert got == size
print("ok %d" % size)
