# The asyncio client across a kill -9 of its nats-server, as a board would run it: it
# publishes to a JetStream stream with ack in a loop and never reconnects by hand
# (AsyncClient does, with backoff). Driven by test_aio_reconnect.py, one line per event:
#
#     micropython aio_reconnect_client.py nats://127.0.0.1:PORT STREAM SUBJECT PLAIN MAX_BUFFER
#
# ready                   stream made, plain subscription up
# acked N SEQ             the stream acknowledged message N (body "N", Nats-Msg-Id m-N) as SEQ
# retry N KIND            the publish of N failed (KIND) and is tried again with the same id
# down                    the client saw the connection go
# full HELD               a publish while down was refused with reconnect_buffer_full, HELD
#                         plain messages being held by then
# plain ok K              after the reconnect the plain subscription received the K held
#                         messages in order, then a new one
# done N RECONNECTS       N messages acknowledged in all

import sys

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

import nats_bridge as nb
import nats_bridge_aio as aio

AFTER = 20  # messages acknowledged after the reconnect before it ends
RETRYABLE = (nb.KIND_TIMEOUT, nb.KIND_NO_RESPONDERS, nb.KIND_JETSTREAM, nb.KIND_RECONNECT_BUFFER_FULL)


def say(line):
    print(line)
    if hasattr(sys.stdout, "flush"):
        sys.stdout.flush()


async def fill(c, plain):
    # While down: plain publishes are held until one does not fit.
    held = 0
    while True:
        try:
            await c.publish(plain, "held %d" % held)
        except nb.NatsBridgeError as e:
            if e.kind != nb.KIND_RECONNECT_BUFFER_FULL:
                raise
            say("full %d" % held)
            return held
        held += 1


async def main(url, stream, subject, plain, max_buffer):
    c = await aio.connect(url, timeout=2.0, max_buffer=max_buffer, base_delay=20, max_delay=300)
    cfg = '{"name": "%s", "subjects": ["%s"], "storage": "file"}' % (stream, subject)
    created = nb.loads((await c.request("$JS.API.STREAM.CREATE." + stream, cfg)).data)
    assert "error" not in created, created
    sub = await c.subscribe(plain)
    await c.flush()
    say("ready")
    n = 0
    held = None
    at_reconnect = None
    while at_reconnect is None or n < at_reconnect + AFTER:
        if not c.is_connected() and held is None:
            say("down")
            held = await fill(c, plain)
        if at_reconnect is None and c.reconnects:
            at_reconnect = n
        try:
            ack = await c.jetstream_publish(subject, "%d" % n, msg_id="m-%d" % n, timeout=1.0)
        except nb.NatsBridgeError as e:
            if e.kind not in RETRYABLE:
                raise
            say("retry %d %s" % (n, e.kind))
            await asyncio.sleep(0.02)
            continue
        say("acked %d %d" % (n, ack["seq"]))
        n += 1
        await asyncio.sleep(0.005)  # a sensor's pace: the kill lands mid-run
    assert held is not None, "the connection never went down"
    for i in range(held):
        msg = await sub.next(5)
        assert msg.data == ("held %d" % i).encode(), (i, msg.data)
    await c.publish(plain, "after")
    msg = await sub.next(5)
    assert msg.data == b"after", msg.data
    say("plain ok %d" % held)
    say("done %d %d" % (n, c.reconnects))
    await c.close()


asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])))
