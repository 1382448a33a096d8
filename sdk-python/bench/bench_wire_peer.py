"""B8 peer workload: nats-py with the envelope written by hand with json and base64, the way the
original desktop edition did it (CPython only; bench_wire.py runs it). Same modes and output as
bench_wire_ours.py:

    bench_wire_peer.py pubsub|request URL SIZE SECONDS    bench_wire_peer.py respond URL
"""

import asyncio
import base64
import datetime
import json
import sys
import time
import uuid

import nats

SUBJECT = "bench.b8.peer"
SERVICE = "bench.b8.peer.echo"


def pattern(n):
    return bytes((i * 7) % 251 for i in range(n))


def window(size):
    return max(2, min(32, 2097152 // size))


def envelope(subject, payload, url, reply_to=""):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    env = {
        "correlation_id": str(uuid.uuid4()), "msg_id": str(uuid.uuid4()), "timestamp": now,
        "send_to": subject, "msg_purpose": "chat", "sender_name": "NATSBridge", "sender_id": str(uuid.uuid4()),
        "receiver_name": "", "receiver_id": "", "reply_to": reply_to, "reply_to_msg_id": "", "broker_url": url,
        "metadata": {},
        "payloads": [{"id": str(uuid.uuid4()), "dataname": "p", "payload_type": "binary", "transport": "direct",
                      "encoding": "base64", "size": len(payload), "data": base64.b64encode(payload).decode("ascii"),
                      "metadata": {}}],
    }
    return json.dumps(env).encode("utf-8")


def received(data, size=None):
    env = json.loads(data)
    p = env["payloads"][0]
    raw = base64.b64decode(p["data"])
    if len(raw) != p["size"] or (size is not None and len(raw) != size):
        raise SystemExit("FAIL: %d bytes received, size %d" % (len(raw), p["size"]))
    return raw


async def pubsub(url, size, seconds):
    rx = await nats.connect(url, pending_size=256 * 1024 * 1024)
    got = [0]
    done = asyncio.Event()
    want = [0]

    async def on_msg(msg):
        received(msg.data, size)
        got[0] += 1
        if got[0] >= want[0]:
            done.set()

    await rx.subscribe(SUBJECT, cb=on_msg, pending_msgs_limit=1 << 20, pending_bytes_limit=1 << 30)
    await rx.flush()
    tx = await nats.connect(url)
    payload = pattern(size)
    w = window(size)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        want[0] += w
        done.clear()
        for _ in range(w):
            await tx.publish(SUBJECT, envelope(SUBJECT, payload, url))
        await asyncio.wait_for(done.wait(), 10)
    print("ok %d %d" % (got[0], (time.monotonic() - start) * 1000))
    await tx.close()
    await rx.close()


async def request(url, size, seconds):
    nc = await nats.connect(url)
    payload = pattern(size)
    count = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        msg = await nc.request(SERVICE, envelope(SERVICE, payload, url), timeout=10)
        received(msg.data, size)
        count += 1
    print("ok %d %d" % (count, (time.monotonic() - start) * 1000))
    await nc.close()


async def respond(url):
    nc = await nats.connect(url)

    async def answer(msg):
        await msg.respond(envelope(msg.reply, received(msg.data), url))

    await nc.subscribe(SERVICE, cb=answer)
    await nc.flush()
    print("ready", flush=True)
    await asyncio.Event().wait()


def main():
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "respond":
        asyncio.run(respond(url))
    elif mode == "pubsub":
        asyncio.run(pubsub(url, int(sys.argv[3]), float(sys.argv[4])))
    else:
        asyncio.run(request(url, int(sys.argv[3]), float(sys.argv[4])))


main()
