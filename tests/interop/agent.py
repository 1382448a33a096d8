# The interop agent of nats_bridge.py, run by CPython and by the MicroPython unix port: the
# command-line protocol of tests/src/interop/mod.rs, one JSON line per result on stdout.
#
#   python3 agent.py receive NATS FILES SUBJECT COUNT
#   micropython agent.py send NATS FILES SUBJECT CASEFILE   (also reply, request, goldens DIR)

import sys
import json
import os

_here = sys.argv[0].rsplit("/", 1)[0] if "/" in sys.argv[0] else "."
sys.path.insert(0, _here + "/../../sdk-python")
sys.path.insert(0, _here + "/../../codegen/examples/payloads")
import nats_bridge as nb
import nats_bridge_typed as nbt
import device_payloads  # the example payload schema's generated classes (the typed case)

SENDER = "interop-python"
BUCKET = "interop-links"  # the Object Store bucket of the object_store cases (the std agent's)


def out(value):
    print(json.dumps(value))


# Every file server of the matrix (ours and the peer's nginx) listens on loopback, on ports
# this agent is not told (the allow rule is host:port): the matrix trusts every sender.
# Object Store links are read from the matrix's bucket only, over the agent's connection
# (client() adds it).
LINKS = {"allow_any_host": True, "allowed_buckets": [BUCKET]}


def serialized(data, payload_type):
    # The serialized bytes of a received value (dictionaries written canonically).
    if payload_type == "text":
        return data.encode("utf-8")
    if payload_type in ("dictionary", "jsontable"):
        return nb.dumps(data).encode("utf-8")
    return bytes(data)


def generated_type(name):
    # The class of device_payloads named name, if it is a typed payload's, else None.
    cls = getattr(device_payloads, name, None) if isinstance(name, str) else None
    return cls if isinstance(cls, type) and issubclass(cls, nbt.TypedPayload) else None


def typed_report(payload, data):
    # A payload that names its type (metadata schema_type): the SHA-256 of its value read
    # as that generated class and re-encoded canonically, or why it was refused; None for
    # the others.
    name = payload.metadata.get(nbt.SCHEMA_TYPE) if isinstance(payload.metadata, dict) else None
    if name is None:
        return None
    cls = generated_type(name)
    if cls is None:
        return {"error": "no generated type %r" % (name,)}
    try:
        return nb.sha256_hex(cls.from_payload(data, payload.metadata).to_json().encode("utf-8"))
    except nb.NatsBridgeError as e:
        return {"error": "%s at %s: %s" % (e.kind, e.at, e.detail)}


def received_line(env):
    items = nb.smartreceive(env, arrow_tables=False, **LINKS)
    payloads = []
    for i in range(len(items)):
        dataname, data, payload_type = items[i]
        raw = serialized(data, payload_type)
        line = {"dataname": dataname, "type": payload_type, "transport": env.payloads[i].transport,
                "size": len(raw), "sha256": nb.sha256_hex(raw)}
        typed = typed_report(env.payloads[i], data)
        if typed is not None:
            line["typed"] = typed
        payloads.append(line)
    return {"msg_id": env.msg_id, "reply_to_msg_id": env.reply_to_msg_id, "payloads": payloads}


def safe_line(env):
    try:
        return received_line(env)
    except Exception as e:
        return {"msg_id": env.msg_id, "error": "%s: %s" % (type(e).__name__, e)}


def read_case_file(path):
    with open(path) as f:
        spec = json.loads(f.read())
    messages = []
    for m in spec["messages"]:
        items = []
        for p in m["payloads"]:
            with open(p["file"], "rb") as f:
                raw = f.read()
            t = p["type"]
            if "schema_type" in p:  # a typed value: an instance, which smartsend sends typed
                cls = generated_type(p["schema_type"])
                if cls is None:
                    raise nb.NatsBridgeError(nb.KIND_INVALID_INPUT, p["dataname"], "no generated type %r" % (p["schema_type"],))
                data = cls.from_json(raw)
            elif t == "text":
                data = raw.decode("utf-8")
            elif t == "dictionary":
                data = nb.loads(raw)
            else:
                data = raw
            items.append((p["dataname"], data, t))
        messages.append((items, m["jetstream"], m.get("object_store") is True))
    return spec["size_threshold"], messages


def client(nats):
    c = nb.NatsClient(nats, name=SENDER, timeout=20.0)
    c.connect()
    LINKS["client"] = c
    return c


def subscribed(nats, subject):
    c = client(nats)
    c.subscribe(subject)
    c.flush()
    out({"ready": True})
    return c


def next_envelope(c):
    msg = c.wait_msg(30.0)
    if msg is None:
        raise nb.NatsBridgeError("timeout", "", "no message within 30 s")
    return nb.MessageEnvelope.from_json(msg.data), msg


def receive(nats, files, subject, count):
    c = subscribed(nats, subject)
    for _ in range(int(count)):
        try:
            env, _ = next_envelope(c)
        except nb.NatsBridgeError as e:
            out({"error": str(e)})
            continue
        out(safe_line(env))


def send(nats, files, subject, case_file):
    threshold, messages = read_case_file(case_file)
    c = client(nats)
    for items, jetstream, object_store in messages:
        try:
            env = nb.smartsend(subject, items, nats_url=nats, fileserver_url="nats-object-store://" + BUCKET if object_store else files,
                               size_threshold=threshold, client=c, jetstream=jetstream, sender_name=SENDER)
            out({"sent": env.msg_id, "links": [p.data for p in env.payloads if p.transport == "link"]})
        except Exception as e:
            out({"error": "%s: %s" % (type(e).__name__, e)})
    c.flush()


def reply(nats, files, subject):
    c = subscribed(nats, subject)
    env, msg = next_envelope(c)
    items = nb.smartreceive(env, arrow_tables=False, **LINKS)
    nb.smartsend(env.reply_to or msg.reply, items, nats_url=nats, fileserver_url=files, size_threshold=1536,
                 client=c, reply_to_msg_id=env.msg_id, correlation_id=env.correlation_id,
                 receiver_name=env.sender_name, receiver_id=env.sender_id, sender_name=SENDER)
    c.flush()


def request(nats, files, subject, case_file):
    threshold, messages = read_case_file(case_file)
    c = client(nats)
    inbox = "_INBOX.interop." + nb.uuid4()
    c.subscribe(inbox)
    msg_id = nb.uuid4()
    nb.smartsend(subject, messages[0][0], nats_url=nats, fileserver_url=files, size_threshold=threshold,
                 client=c, reply_to=inbox, msg_id=msg_id, sender_name=SENDER)
    out({"sent": msg_id})
    while True:
        try:
            env, _ = next_envelope(c)
        except nb.NatsBridgeError as e:
            out({"error": str(e)})
            return
        if env.reply_to_msg_id == msg_id:
            out(safe_line(env))
            return


def golden_value(data, payload_type):
    if payload_type == "text":
        return {"text": data}
    if payload_type in ("dictionary", "jsontable"):
        return {"json": data}
    raw = bytes(data)
    return {"bytes": {"len": len(raw), "sha256": nb.sha256_hex(raw)}}


def golden_answer(gid, body):
    try:
        env = nb.MessageEnvelope.from_json(body)
    except nb.NatsBridgeError as e:
        return {"id": gid, "error": {"kind": e.kind, "at": e.at}}
    payloads = []
    for i in range(len(env.payloads)):
        p = env.payloads[i]
        if p.transport == "link":
            value = {"link": {"url": p.data, "checksum": p.metadata.get("checksum")}}
        else:
            try:
                # The payload alone in an envelope, decoded by the module's receive path.
                _, data, t = nb.smartreceive(nb.MessageEnvelope([p]), arrow_tables=False)[0]
            except nb.NatsBridgeError as e:
                at = e.at.replace("payloads[0]", "payloads[%d]" % i, 1)
                return {"id": gid, "error": {"kind": e.kind, "at": at}}
            value = golden_value(data, t)
        payloads.append({"id": p.id, "dataname": p.dataname, "payload_type": p.payload_type,
                         "transport": p.transport, "encoding": p.encoding, "size": p.size,
                         "metadata": p.metadata, "value": value})
    form = {}
    for key in ("correlation_id", "msg_id", "timestamp", "send_to", "msg_purpose", "sender_name",
                "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id",
                "broker_url", "metadata"):
        form[key] = getattr(env, key)
    reencoded = nb.b64encode(env.to_json().encode("utf-8"))
    if not isinstance(reencoded, str):
        reencoded = reencoded.decode()
    return {"id": gid, "envelope": form, "payloads": payloads, "reencoded": reencoded}


def goldens(directory):
    for group in ("canonical", "accepted", "invalid"):
        names = sorted(n for n in os.listdir(directory + "/" + group) if n.endswith(".msg"))
        for name in names:
            with open("%s/%s/%s" % (directory, group, name), "rb") as f:
                body = f.read()
            gid = "%s/%s" % (group, name[:-4])
            try:
                out(golden_answer(gid, body))
            except Exception as e:
                out({"id": gid, "crash": "%s: %s" % (type(e).__name__, e)})


COMMANDS = {"receive": receive, "send": send, "reply": reply, "request": request, "goldens": goldens}


def main():
    args = sys.argv[1:]
    if not args or args[0] not in COMMANDS:
        print("usage: agent.py receive|send|reply|request|goldens ...")
        sys.exit(2)
    try:
        COMMANDS[args[0]](*args[1:])
    except Exception as e:
        out({"error": "%s: %s" % (type(e).__name__, e)})
        sys.exit(1)


main()
