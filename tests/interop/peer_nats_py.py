# A peer none of our SDKs wrote: envelopes built and read by plain json/base64/hashlib code,
# carried by nats-py (the official CPython client). It sends the shapes of the original
# editions (WIRE.md section 7: camelCase keys, `type`, `note`, the `none`/`json` direct
# encodings) and reads any envelope by the contract alone. Protocol: tests/src/interop/mod.rs.
# A typed payload of the case file (schema_type) goes as a plain dictionary, its text as given,
# with the metadata schema_type a hand-written sender adds by WIRE.md section 10: so our SDKs'
# typed receivers meet a typed value in the original editions' shape (encoding json), and the
# peer reads theirs as any dictionary, which is the point of section 10.

import asyncio
import base64
import hashlib
import json
import sys
import urllib.request
import uuid
from datetime import datetime, timezone

import nats

SENDER = "interop-nats-py"


def out(value):
    print(json.dumps(value), flush=True)


def canonical(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def legacy_payload(dataname, payload_type, raw, threshold, files, metadata=None):
    """One payload as an original edition wrote it, with metadata (a dict) if given; links
    uploaded by a plain HTTP PUT."""
    p = {"id": str(uuid.uuid4()), "dataname": dataname, "type": payload_type, "size": len(raw)}
    if len(raw) >= threshold:
        url = "%s/%s/%s" % (files.rstrip("/"), p["id"], dataname)
        request = urllib.request.Request(url, data=raw, method="PUT")
        with urllib.request.urlopen(request, timeout=20) as answer:
            if answer.status not in (200, 201, 204):
                raise RuntimeError("PUT %s answered %s" % (url, answer.status))
        p.update(transport="link", encoding="none", data=url,
                 metadata={"checksum": "sha256:" + hashlib.sha256(raw).hexdigest()})
    elif payload_type == "text":
        p.update(transport="direct", encoding="none", data=raw.decode("utf-8"), metadata={})
    elif payload_type == "dictionary":
        p.update(transport="direct", encoding="json", data=raw.decode("utf-8"), metadata={})
    else:
        p.update(transport="direct", encoding="base64", data=base64.b64encode(raw).decode(), metadata={})
    p["metadata"].update(metadata or {})
    return p


def legacy_envelope(subject, payloads, reply_to="", reply_to_msg_id="", correlation_id=None):
    now = datetime.now(timezone.utc)
    return {
        "correlationId": correlation_id or str(uuid.uuid4()),
        "msgId": str(uuid.uuid4()),
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000),
        "sendTo": subject,
        "msgPurpose": "chat",
        "senderName": SENDER,
        "senderId": str(uuid.uuid4()),
        "receiverName": "",
        "receiverId": "",
        "replyTo": reply_to,
        "replyToMsgId": reply_to_msg_id,
        "brokerURL": "",
        "note": {},
        "payloads": payloads,
    }


def field(obj, *names, default=""):
    for name in names:
        if name in obj:
            return obj[name]
    return default


def read_payloads(envelope):
    """The (dataname, type, transport, serialized bytes) of each payload, checked by hand."""
    result = []
    for p in field(envelope, "payloads", default=[]):
        transport = p.get("transport", "direct")
        encoding = p.get("encoding", "base64")
        payload_type = field(p, "payload_type", "type")
        if transport == "link":
            with urllib.request.urlopen(p["data"], timeout=20) as answer:
                raw = answer.read()
            checksum = p.get("metadata", {}).get("checksum")
            if checksum and checksum != "sha256:" + hashlib.sha256(raw).hexdigest():
                raise ValueError("%s: checksum mismatch" % p["dataname"])
        elif encoding in ("base64", "arrow-ipc"):
            raw = base64.b64decode(p["data"], validate=True)
        else:
            raw = p["data"].encode("utf-8")
        if len(raw) != p["size"]:
            raise ValueError("%s: %d bytes, size says %d" % (p["dataname"], len(raw), p["size"]))
        if payload_type == "dictionary":
            raw = canonical(json.loads(raw)).encode("utf-8")
        result.append((p["dataname"], payload_type, transport, raw))
    return result


def received_line(envelope):
    try:
        payloads = [{"dataname": d, "type": t, "transport": tr, "size": len(raw),
                     "sha256": hashlib.sha256(raw).hexdigest()}
                    for d, t, tr, raw in read_payloads(envelope)]
    except Exception as e:
        return {"msg_id": field(envelope, "msg_id", "msgId"), "error": "%s: %s" % (type(e).__name__, e)}
    return {"msg_id": field(envelope, "msg_id", "msgId"),
            "reply_to_msg_id": field(envelope, "reply_to_msg_id", "replyToMsgId"), "payloads": payloads}


def read_case_file(path):
    with open(path) as f:
        spec = json.load(f)
    messages = []
    for m in spec["messages"]:
        items = []
        for p in m["payloads"]:
            with open(p["file"], "rb") as f:
                raw = f.read()
            metadata = {"schema_type": p["schema_type"]} if "schema_type" in p else {}
            items.append((p["dataname"], p["type"], raw, metadata))
        messages.append((items, m["jetstream"]))
    return spec["size_threshold"], messages


async def receive(nats_url, files, subject, count):
    nc = await nats.connect(nats_url)
    sub = await nc.subscribe(subject)
    await nc.flush()
    out({"ready": True})
    for _ in range(int(count)):
        msg = await sub.next_msg(timeout=30)
        out(received_line(json.loads(msg.data)))
    await nc.close()


async def send(nats_url, files, subject, case_file):
    threshold, messages = read_case_file(case_file)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    for items, jetstream in messages:
        try:
            payloads = [legacy_payload(d, t, raw, threshold, files, m) for d, t, raw, m in items]
            envelope = legacy_envelope(subject, payloads)
            body = json.dumps(envelope).encode()
            if jetstream:
                await js.publish(subject, body, headers={"Nats-Msg-Id": envelope["msgId"]})
            else:
                await nc.publish(subject, body)
            out({"sent": envelope["msgId"]})
        except Exception as e:
            out({"error": "%s: %s" % (type(e).__name__, e)})
    await nc.flush()
    await nc.close()


async def reply(nats_url, files, subject):
    nc = await nats.connect(nats_url)
    sub = await nc.subscribe(subject)
    await nc.flush()
    out({"ready": True})
    msg = await sub.next_msg(timeout=30)
    request = json.loads(msg.data)
    payloads = [legacy_payload(d, t, raw, 1536, files) for d, t, _, raw in read_payloads(request)]
    to = field(request, "reply_to", "replyTo") or msg.reply
    envelope = legacy_envelope(to, payloads, reply_to_msg_id=field(request, "msg_id", "msgId"),
                               correlation_id=field(request, "correlation_id", "correlationId"))
    await nc.publish(to, json.dumps(envelope).encode())
    await nc.flush()
    await nc.close()


async def request(nats_url, files, subject, case_file):
    threshold, messages = read_case_file(case_file)
    nc = await nats.connect(nats_url)
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    payloads = [legacy_payload(d, t, raw, threshold, files, m) for d, t, raw, m in messages[0][0]]
    envelope = legacy_envelope(subject, payloads, reply_to=inbox)
    await nc.publish(subject, json.dumps(envelope).encode(), reply=inbox)
    out({"sent": envelope["msgId"]})
    while True:
        msg = await sub.next_msg(timeout=20)
        answer = json.loads(msg.data)
        if field(answer, "reply_to_msg_id", "replyToMsgId") == envelope["msgId"]:
            out(received_line(answer))
            break
    await nc.close()


COMMANDS = {"receive": receive, "send": send, "reply": reply, "request": request}


def main():
    args = sys.argv[1:]
    if not args or args[0] not in COMMANDS:
        print("usage: peer_nats_py.py receive|send|reply|request ...", file=sys.stderr)
        sys.exit(2)
    try:
        asyncio.run(COMMANDS[args[0]](*args[1:]))
    except Exception as e:
        out({"error": "%s: %s" % (type(e).__name__, e)})
        sys.exit(1)


main()
