# B8 workload of nats_bridge itself, on CPython and on MicroPython (bench_wire.py runs it):
#   bench_wire_ours.py pubsub URL SIZE SECONDS   -> "ok MESSAGES MILLISECONDS"
#   bench_wire_ours.py request URL SIZE SECONDS  -> "ok ROUND_TRIPS MILLISECONDS"
#   bench_wire_ours.py respond URL               -> "ready", then echoes until killed
# pubsub: smartsend on one connection, smartreceive of what a second connection receives, in
# windows of WINDOW messages (publish them all, then receive them all) until SECONDS passed.
# request: smartsend with reply_to an inbox, wait for the answer, smartreceive it; the
# responder (respond) smartreceives each request and smartsends its payload back.

import sys

import nats_bridge as nb

SUBJECT = "bench.b8.ours"
SERVICE = "bench.b8.ours.echo"


def pattern(n):
    b = bytearray(n)
    for i in range(n):
        b[i] = (i * 7) % 251
    return bytes(b)


def window(size):
    return max(2, min(32, 2097152 // size))


def send(client, subject, payload, reply_to=None):
    kw = {"reply_to": reply_to} if reply_to else {}
    nb.smartsend(subject, [("p", payload, "binary")], client=client, fileserver_url=None, size_threshold=1 << 30, **kw)


def check(msg, size):
    if msg is None:
        raise SystemExit("FAIL: no message within 10 s")
    got = nb.smartreceive(msg)
    if len(got[0][1]) != size:
        raise SystemExit("FAIL: %d bytes received, %d sent" % (len(got[0][1]), size))


def pubsub(url, size, seconds):
    rx = nb.NatsClient(url, timeout=10).connect()
    rx.subscribe(SUBJECT)
    rx.flush()
    tx = nb.NatsClient(url, timeout=10).connect()
    payload = pattern(size)
    w = window(size)
    count = 0
    start = nb._ticks_ms()
    while nb._ms_since(start) < seconds * 1000:
        for _ in range(w):
            send(tx, SUBJECT, payload)
        for _ in range(w):
            check(rx.wait_msg(10), size)
        count += w
    print("ok %d %d" % (count, nb._ms_since(start)))


def request(url, size, seconds):
    c = nb.NatsClient(url, timeout=10).connect()
    inbox = "bench.b8.inbox.%s" % nb.uuid4()[:8]
    c.subscribe(inbox)
    c.flush()
    payload = pattern(size)
    count = 0
    start = nb._ticks_ms()
    while nb._ms_since(start) < seconds * 1000:
        send(c, SERVICE, payload, inbox)
        check(c.wait_msg(10), size)
        count += 1
    print("ok %d %d" % (count, nb._ms_since(start)))


def respond(url):
    c = nb.NatsClient(url, timeout=10).connect()

    def answer(msg):
        got = nb.smartreceive(msg)
        send(c, msg.reply, got[0][1])

    c.subscribe(SERVICE, answer)
    c.flush()
    print("ready")
    while True:
        c.wait_msg(60)


def main():
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "respond":
        respond(url)
    elif mode == "pubsub":
        pubsub(url, int(sys.argv[3]), float(sys.argv[4]))
    else:
        request(url, int(sys.argv[3]), float(sys.argv[4]))


main()
