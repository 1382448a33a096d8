# The asyncio client (nats_bridge_aio.AsyncClient) across a kill -9 of a JetStream
# nats-server, on MicroPython and on CPython (CPython drives: aio_reconnect_client.py runs
# under each interpreter). The client publishes with ack in a loop; the server is killed
# mid-run, the client's publishes while down fill its bounded buffer (reconnect_buffer_full),
# the server is started again on the same port with the same store; the client reconnects
# by itself, resubscribes, sends what it held, and every message it reported acknowledged
# is in the stream afterwards.

import os
import sys

import nats_bridge as nb
import servers
from test_reconnect_fault import Subscriber

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BUFFER = 4096


def _stream_bodies(url, stream):
    # {seq: body} of every message the stream holds, read with the blocking client
    c = nb.NatsClient(url, timeout=5.0).connect()
    try:
        info = nb.loads(c.request("$JS.API.STREAM.INFO." + stream, b"").data)
        assert "error" not in info, info
        state = info["state"]
        got = {}
        for seq in range(state["first_seq"], state["last_seq"] + 1):
            r = nb.loads(c.request("$JS.API.STREAM.MSG.GET." + stream, '{"seq": %d}' % seq).data)
            if "message" in r:
                got[seq] = nb.b64decode(r["message"]["data"]).decode("utf-8")
        return got
    finally:
        c.close()


def _run(interpreter):
    server = servers.nats_server(jetstream=True)
    port, workdir = server.port, server.workdir
    tag = nb.uuid4()[:8]
    stream, subject, plain = "AIOR" + tag, "aior.%s.js" % tag, "aior.%s.plain" % tag
    client = None
    try:
        client = Subscriber(interpreter, [os.path.join(HERE, "aio_reconnect_client.py"), server.url, stream, subject, plain, str(MAX_BUFFER)])
        client.wait_for("ready")
        client.wait_for("acked 20 ", prefix=True)
        server.proc.kill()  # SIGKILL, mid-run: no goodbye to the client
        server.proc.wait()
        client.wait_for("full ", prefix=True)
        server = servers.nats_server(jetstream=True, port=port, workdir=workdir)  # same port, same store
        client.wait_for("done ", timeout=60, prefix=True)
        assert client.proc.wait(10) == 0, client.seen[-5:]
        seen = client.seen
        assert "down" in seen, seen
        held = int([line for line in seen if line.startswith("full ")][0].split(" ")[1])
        assert 0 < held < MAX_BUFFER // 10, held  # each held frame is about 30 bytes
        assert ("plain ok %d" % held) in seen, seen[-5:]
        n, reconnects = [int(x) for x in seen[-1].split(" ")[1:]]
        assert reconnects >= 1, seen[-1]
        acked = {}
        for line in seen:
            if line.startswith("acked "):
                k, seq = [int(x) for x in line.split(" ")[1:]]
                acked[k] = seq
        assert sorted(acked) == list(range(n)), "acks missing or repeated"
        assert [line for line in seen if line.startswith("retry ")], "no publish failed during the outage"
        bodies = _stream_bodies(server.url, stream)
        for k in range(n):
            assert bodies.get(acked[k]) == str(k), "acknowledged message %d (seq %d) is not in the stream: %r" % (k, acked[k], bodies.get(acked[k]))
        assert sorted(bodies.values(), key=int) == [str(k) for k in range(n)], "a message stored twice or one never acknowledged"
    finally:
        if client is not None:
            client.stop()
        server.stop()


def test_micropython_async_client_loses_no_acknowledged_message_across_kill_9():
    _run([servers.program("micropython"), "-X", "heapsize=2M"])


def test_cpython_async_client_loses_no_acknowledged_message_across_kill_9():
    _run([sys.executable, "-u"])
