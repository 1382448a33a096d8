# The soak's Python agent, run by CPython and by the MicroPython unix port: a steady sender or a
# receiver that survives server restarts; one JSON line per event on stdout (tests/soak/soak.py).
#
#   agent.py send NAME NATS FILES SECONDS RATE SEED [links] [rpc]
#   agent.py receive NAME NATS FILES SUBJECT DOWNLOAD_DIR [rpc]

import sys
import os
import gc
import json
import time

_here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, _here + "/../../sdk-python")
import nats_bridge as nb

BUCKET = "interop-links"  # the Object Store bucket of the soak (the std agent reads this one)
RPC_SUBJECT = "soak-rpc"  # outside soak.>: answered by one Python receiver of the queue group


def now_ms():
    if hasattr(time, "time_ns"):
        return time.time_ns() // 1000000
    return int(time.time() * 1000)


def out(value):
    print(json.dumps(value))


def host_port(url):
    return url.split("://", 1)[1].split("/", 1)[0]


class Random:
    # xorshift32: the same mix on both interpreters for one seed.
    def __init__(self, seed):
        self.state = (seed * 2654435761) & 0xFFFFFFFF or 1

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.state = x
        return x

    def below(self, n):
        return self.next() % n


def dataname(name, seq, digest):
    # Who sent it, its number, when, and its checksum: every receiver can check all four.
    return "soak-%s-%d-%d-%s" % (name, seq, now_ms(), digest[:16])


def connected(nats):
    c = nb.NatsClient(nats, name="soak", timeout=5.0)
    c.connect()
    return c


def recover(c, what):
    # A lost connection: report it and connect again (subscriptions restored) until it works.
    out({"disconnected": what, "t": now_ms()})
    while True:
        try:
            c.close()
        except Exception:
            pass
        try:
            c.reconnect(attempts=50, base_delay=50, max_delay=1000)
            out({"reconnected": True, "t": now_ms()})
            return
        except nb.NatsBridgeError as e:
            out({"reconnect_failed": str(e), "t": now_ms()})


def choose(rnd, links, seq):
    # Most payloads small and direct (up to 1,200 bytes: what the no_std receiver's envelope
    # holds), some around 100 KiB direct, a few 2 to 5 MB links; the first is the largest
    # link, so that the warm-up has seen the most memory a message takes.
    r = rnd.below(1000)
    if links and (seq == 1 or r < 20):
        return "link", 5000000 if seq == 1 else 2000000 + rnd.below(3000001)
    if r < 100:
        return "big", 100 * 1024 + rnd.below(4096)
    return "small", 50 + rnd.below(1151)


_settled = [0]


def settle():
    # MicroPython collects only when its heap is full, touching every page of it on the way:
    # collecting after each message keeps the resident memory at what a message needs. Its
    # live heap after a collection (the leak signal for a fixed heap) every 25 messages.
    if sys.implementation.name == "micropython":
        gc.collect()
        _settled[0] += 1
        if _settled[0] % 25 == 1:
            out({"heap": gc.mem_alloc()})


def send(name, nats, files, seconds, rate, seed, *flags):
    rnd = Random(int(seed))
    links = "links" in flags
    rpc = "rpc" in flags
    c = connected(nats)
    inbox = "_INBOX.soak." + nb.uuid4()
    if rpc:
        c.subscribe(inbox)
    started = now_ms()
    period = 1000.0 / float(rate)
    seq = 0
    last_flush = started
    out({"ready": True})
    while now_ms() - started < float(seconds) * 1000:
        due = started + seq * period
        wait = due - now_ms()
        if wait > 0:
            time.sleep(wait / 1000.0)
        seq += 1
        kind, size = choose(rnd, links, seq)
        body = os.urandom(size)
        digest = nb.sha256_hex(body)
        dn = dataname(name, seq, digest)
        jetstream = kind == "small" and seq % 5 == 0
        subject = "soak.%s.%s" % ({"small": "s.js" if jetstream else "s.core", "big": "b", "link": "l"}[kind], name)
        store = files
        if kind == "link" and seq % 2 == 0:
            store = "nats-object-store://" + BUCKET
        t = now_ms()
        try:
            nb.smartsend(subject, [(dn, body, "binary")], nats_url=nats, fileserver_url=store, client=c,
                         jetstream=jetstream, sender_name="soak-" + name)
            out({"sent": dn, "subject": subject, "js": jetstream, "class": kind, "size": size,
                 "store": "object-store" if store != files else "file-server", "ms": now_ms() - t})
        except Exception as e:
            out({"send_failed": dn, "subject": subject, "js": jetstream, "class": kind,
                 "error": "%s: %s" % (type(e).__name__, e), "t": now_ms()})
            if not c.is_connected():
                recover(c, "send")
        body = None
        settle()
        if rpc and seq % 10 == 0:
            request(c, name, seq, inbox)
        if now_ms() - last_flush > 2000:
            last_flush = now_ms()
            try:
                c.flush()
            except nb.NatsBridgeError:
                recover(c, "flush")
    try:
        c.flush()
    except nb.NatsBridgeError as e:
        out({"final_flush_failed": str(e)})
    out({"done": seq})


def request(c, name, seq, inbox):
    # A request to the receiver answering on soak.rpc; the reply must echo the payload.
    body = os.urandom(64)
    digest = nb.sha256_hex(body)
    msg_id = nb.uuid4()
    t = now_ms()
    try:
        nb.smartsend(RPC_SUBJECT, [("ask-%s-%d" % (name, seq), body, "binary")], client=c, fileserver_url=None,
                     reply_to=inbox, msg_id=msg_id, sender_name="soak-" + name)
        while now_ms() - t < 5000:
            msg = c.wait_msg(0.5)
            if msg is None or msg.subject != inbox:
                continue
            env, items = nb.smartreceive(msg, with_envelope=True)
            if env.reply_to_msg_id != msg_id:
                continue  # a late answer to an earlier request
            ok = len(items) == 1 and nb.sha256_hex(items[0][1]) == digest
            out({"rpc": msg_id, "ok": ok, "ms": now_ms() - t})
            return
        out({"rpc": msg_id, "ok": False, "error": "no answer within 5 s"})
    except Exception as e:
        out({"rpc": msg_id, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})
        if not c.is_connected():
            recover(c, "request")


def hash_file(path):
    h = nb.hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            chunk = f.read(65536)
            if not chunk:
                break
            size += len(chunk)
            h.update(chunk)
    os.remove(path)
    return nb.binascii.hexlify(h.digest()).decode(), size


def receive(name, nats, files, subject, download_dir, *flags):
    rpc = "rpc" in flags
    c = connected(nats)
    c.subscribe(subject)
    if rpc:
        c.subscribe(RPC_SUBJECT, queue="soak")
    c.flush()
    out({"ready": True})
    while True:
        try:
            msg = c.wait_msg(1.0)
        except nb.NatsBridgeError as e:
            if e.kind != nb.KIND_NATS:
                out({"receive_error": str(e), "t": now_ms()})
                continue
            recover(c, "wait_msg")
            continue
        if msg is None:
            continue
        t = now_ms()
        try:
            env, items = nb.smartreceive(msg, with_envelope=True, download_to=download_dir,
                                         allowed_hosts=[host_port(files)], allowed_buckets=[BUCKET], client=c)
        except Exception as e:
            out({"receive_error": "%s: %s" % (type(e).__name__, e), "subject": msg.subject, "t": t})
            continue
        if msg.subject == RPC_SUBJECT:
            try:
                nb.smartsend(env.reply_to, items, client=c, fileserver_url=None, reply_to_msg_id=env.msg_id,
                             sender_name="soak-" + name)
            except Exception as e:
                out({"rpc_reply_failed": "%s: %s" % (type(e).__name__, e)})
            continue
        for i in range(len(items)):
            dn, data, _ = items[i]
            if env.payloads[i].transport == "link":
                digest, size = hash_file(data)
            else:
                digest, size = nb.sha256_hex(data), len(data)
            out({"got": dn, "sha256": digest, "size": size, "t": t, "transport": env.payloads[i].transport,
                 "subject": msg.subject})
        items = env = msg = None
        settle()


def main():
    args = sys.argv[1:]
    if not args or args[0] not in ("send", "receive"):
        print("usage: agent.py send|receive ...")
        sys.exit(2)
    if args[0] == "send":
        send(*args[1:])
    else:
        receive(*args[1:])


main()
