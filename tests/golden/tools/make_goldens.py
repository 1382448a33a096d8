#!/usr/bin/env python3
"""Write every golden message of tests/golden/ (see tests/golden/README.md).

Run from anywhere:  python3 tests/golden/tools/make_goldens.py

Needs CPython 3.9+ and pyarrow (for the Arrow IPC table payloads). The script
deletes and rewrites tests/golden/{canonical,accepted,invalid}/ and the small
link files in tests/golden/files/. It builds each expected form from the
*inputs* (the values a sender was given), never by decoding the message, so
the Rust reference decoder in tests/src/reference.rs is an independent check.

Canonical bytes are exactly WIRE.md section 8: json.dumps(obj,
ensure_ascii=False, separators=(",", ":")) with envelope and payload keys in
WIRE.md order and free-form objects (metadata, dictionary payloads) sorted by
code point.
"""

import base64
import hashlib
import io
import json
import shutil
import struct
import sys
import uuid
import wave
import zlib
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent  # tests/golden
TIMESTAMP = "2026-11-25T11:52:26.123Z"
BROKER = "nats://127.0.0.1:4222"
FILESERVER = "http://127.0.0.1:8080"
LARGE_LINK_SIZE = 2_000_000

ENVELOPE_KEYS = [
    "correlation_id", "msg_id", "timestamp", "send_to", "msg_purpose", "sender_name",
    "sender_id", "receiver_name", "receiver_id", "reply_to", "reply_to_msg_id",
    "broker_url", "metadata",
]
PAYLOAD_KEYS = ["id", "dataname", "payload_type", "transport", "encoding", "size", "data",
                "metadata"]


# ----------------------------------------------------------------------------- helpers

def uid(seed):
    """A fixed, lower-case UUID v4 derived from a seed string."""
    return str(uuid.UUID(bytes=hashlib.sha256(seed.encode()).digest()[:16], version=4))


SENDER_ID = uid("sender")


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def b64(data):
    return base64.b64encode(data).decode("ascii")


def sort_free(value):
    """Sort the keys of a free-form JSON value by code point, recursively."""
    if isinstance(value, dict):
        return {k: sort_free(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_free(v) for v in value]
    return value


def dumps(obj):
    """WIRE.md section 8 writer (caller has already ordered / sorted the keys)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def dict_bytes(value):
    """Serialized bytes of a dictionary payload: compact JSON, keys sorted."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True).encode("utf-8")


def large_link_bytes(n=LARGE_LINK_SIZE):
    """Generated content of the large link payload: byte i is (i * 7) % 251."""
    return bytes((i * 7) % 251 for i in range(n))


# ----------------------------------------------------------------------------- sample data

def arrow_table_bytes():
    table = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": pa.array(["alpha", "beta", "gr\u00fc\u00dfe"], pa.string()),
        "ok": pa.array([True, False, None], pa.bool_()),
    })
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    data = sink.getvalue().to_pybytes()
    # Sanity: it is the streaming format (no "ARROW1" file magic) and reads back.
    assert not data.startswith(b"ARROW1")
    assert pa.ipc.open_stream(data).read_all().equals(table)
    return data


def png_bytes():
    """A 2x2 RGB PNG; zlib level 0 (stored blocks) so the bytes never depend on zlib."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    raw = b"\x00" + b"\xff\x00\x00" + b"\x00\xff\x00" + b"\x00" + b"\x00\x00\xff" + b"\xff\xff\xff"
    ihdr = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 0))
            + chunk(b"IEND", b""))


def wav_bytes():
    """32 samples of 16-bit mono PCM at 8 kHz, written by the wave module."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        samples = [((i * 2000) % 16000) - 8000 for i in range(32)]
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buf.getvalue()


def video_bytes():
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + bytes((i * 31 + 7) % 256 for i in range(64))


def binary_bytes():
    return bytes(range(256))


ESCAPES = ("quote \" backslash \\ newline \n cr \r tab \t backspace \b formfeed \f "
           "nul \x00 one \x01 unit-sep \x1f del \x7f html </script> slash a/b / "
           "line-sep \u2028 \u00fc \U0001F600")


# ----------------------------------------------------------------------------- builders

class Payload:
    """One payload: its wire object (canonical key order) and its expected form."""

    def __init__(self, wire, expected):
        self.wire = wire
        self.expected = expected


def direct(name, ptype, data, value, meta=None, pid=None):
    meta = sort_free(meta or {})
    pid = pid if pid is not None else uid("payload/" + name)
    wire = {"id": pid, "dataname": name, "payload_type": ptype, "transport": "direct",
            "encoding": "base64", "size": len(data), "data": b64(data), "metadata": meta}
    exp = {"id": pid, "dataname": name, "payload_type": ptype, "transport": "direct",
           "encoding": "base64", "size": len(data), "metadata": meta, "value": value}
    return Payload(wire, exp)


def text(name, s, **kw):
    return direct(name, "text", s.encode("utf-8"), {"text": s}, **kw)


def dictionary(name, v, **kw):
    return direct(name, "dictionary", dict_bytes(v), {"json": v}, **kw)


def raw(name, ptype, data, **kw):
    return direct(name, ptype, data, {"bytes": {"len": len(data), "sha256": sha256_hex(data)}},
                  **kw)


def link(name, ptype, data, store=True, pid=None, size=None):
    pid = pid if pid is not None else uid("payload/" + name)
    digest = sha256_hex(data)
    url = "%s/file/%s/%s/%s" % (FILESERVER, uid("upload/" + name)[:8], uid("file/" + name)[:8],
                                name)
    checksum = "sha256:" + digest
    meta = {"checksum": checksum}
    size = len(data) if size is None else size
    if store:
        (ROOT / "files").mkdir(exist_ok=True)
        (ROOT / "files" / (digest + ".bin")).write_bytes(data)
    wire = {"id": pid, "dataname": name, "payload_type": ptype, "transport": "link",
            "encoding": "none", "size": size, "data": url, "metadata": meta}
    exp = {"id": pid, "dataname": name, "payload_type": ptype, "transport": "link",
           "encoding": "none", "size": size, "metadata": meta,
           "value": {"link": {"url": url, "checksum": checksum}}}
    return Payload(wire, exp)


def env(name, **over):
    """Envelope fields (canonical order) of a golden, with overrides."""
    e = {
        "correlation_id": uid("corr/" + name), "msg_id": uid("msg/" + name),
        "timestamp": TIMESTAMP, "send_to": "chat.room1", "msg_purpose": "chat",
        "sender_name": "NATSBridge", "sender_id": SENDER_ID, "receiver_name": "",
        "receiver_id": "", "reply_to": "", "reply_to_msg_id": "", "broker_url": BROKER,
        "metadata": {},
    }
    for k, v in over.items():
        assert k in e, k
        e[k] = v
    e["metadata"] = sort_free(e["metadata"])
    return e


def canonical_message(e, payloads):
    obj = dict(e)
    obj["payloads"] = [p.wire for p in payloads]
    return dumps(obj).encode("utf-8")


WRITTEN = []


def write(group, name, msg, description, envelope, payloads, violations=(), error=None):
    d = ROOT / group
    d.mkdir(parents=True, exist_ok=True)
    assert isinstance(msg, bytes)
    expect = {
        "description": description,
        "envelope": envelope,
        "payloads": payloads,
    }
    if violations is not None:
        expect["schema_violations"] = list(violations)
    expect["error"] = error
    (d / (name + ".msg")).write_bytes(msg)
    (d / (name + ".expect.json")).write_text(
        json.dumps(expect, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    WRITTEN.append(group + "/" + name)


def canonical(name, description, payloads, **over):
    e = env(name, **over)
    write("canonical", name, canonical_message(e, payloads), description, e,
          [p.expected for p in payloads])


def err(kind, at, sdks="all"):
    return {"kind": kind, "at": at, "sdks": sdks}


# ----------------------------------------------------------------------------- canonical/

def make_canonical():
    canonical("text_direct", "A text payload sent direct (base64 of its UTF-8 bytes).",
              [text("greeting", "hello world")])
    canonical("dictionary_direct",
              "A dictionary payload: compact JSON with keys sorted by code point, then base64.",
              [dictionary("settings", {"name": "sensor-1", "readings": [1, 2.5, -3],
                                       "nested": {"z": None, "a": True, "m": False},
                                       "\u00e9": "\u00fc", "Z": 0})])
    canonical("dictionary_array",
              "A dictionary payload whose JSON value is an array; nested objects sorted, "
              "control characters escaped inside the serialized JSON.",
              [dictionary("rows", [{"b": 1, "a": 2}, "x\ny\u0001", 3, None, [True, {"d": {}, "c": []}]])])
    canonical("table_arrow_ipc",
              "A table payload: a 3-row Arrow table in the IPC streaming format.",
              [raw("measurements", "table", arrow_table_bytes())])
    canonical("image_png", "An image payload: a 2x2 RGB PNG.",
              [raw("pixel.png", "image", png_bytes(), meta={"mime": "image/png"})])
    canonical("audio_wav", "An audio payload: 32 samples of 16-bit mono WAV at 8 kHz.",
              [raw("beep.wav", "audio", wav_bytes())])
    canonical("video_bytes", "A video payload: opaque bytes starting with an MP4 ftyp box.",
              [raw("clip.mp4", "video", video_bytes())])
    canonical("binary_bytes", "A binary payload holding every byte value 0..255 once.",
              [raw("all-bytes.bin", "binary", binary_bytes())])
    canonical("link_text",
              "A small text payload sent as a link (claim check, the sender's size_threshold "
              "lowered to 16 bytes) with its sha256 checksum; the bytes are in files/.",
              [link("notes.txt", "text", "A small text file behind a link.\n".encode())])
    canonical("link_binary_large",
              "A 2,000,000-byte binary payload (>= the 1,000,000 threshold) sent as a link; "
              "content byte i is (i*7) % 251 (generated, not stored in files/).",
              [link("big.bin", "binary", large_link_bytes(), store=False)])
    canonical("mixed_payloads",
              "Four payloads of mixed types and transports (size_threshold lowered to 256 "
              "bytes, so the 300-byte binary goes link) in one envelope, kept in order.",
              [text("caption", "four payloads"),
               dictionary("meta", {"count": 4, "kind": "mixed"}),
               link("blob.bin", "binary", bytes((i * 13) % 256 for i in range(300))),
               raw("thumb.png", "image", png_bytes())],
              send_to="/chat/room1")
    canonical("no_payloads", "An envelope with an empty payloads array.", [],
              msg_purpose="shutdown", receiver_name="worker-7")
    canonical("zero_byte_payloads",
              "A 0-byte binary payload and an empty text payload (size 0, data \"\").",
              [raw("empty.bin", "binary", b""), text("empty.txt", "")])
    canonical("reply_ack",
              "An ACK reply: reply_to and reply_to_msg_id set, receiver named.",
              [dictionary("status", {"ok": True, "code": 200})],
              msg_purpose="ACK", correlation_id=uid("corr/request"),
              receiver_name="orders-service", receiver_id=uid("receiver/orders"),
              reply_to="_INBOX.replies.7f3a9c", reply_to_msg_id=uid("msg/request"))
    canonical("metadata_nested",
              "Envelope and payload metadata with nested values and non-ASCII keys, sorted by "
              "code point (U+FF5A before U+1F600, unlike UTF-16 order).",
              [text("note", "see metadata",
                    meta={"b": 2, "a": 1, "\u00e9t\u00e9": {"y": [1, {"q": 1, "p": 0}], "x": None}})],
              metadata={"Z": 1, "a": {"z": [1, 2.5, -3, {"b": True, "a": None}], "m": False},
                        "\u00e9": "accent", "\U0001F600": "emoji", "\uff5a": "fullwidth z",
                        "": "empty key", "A": [], "b": {}, "big": 1234567890123,
                        "neg": -42, "f": -0.25, "t": True, "n": None})
    canonical("unicode_names",
              "Non-ASCII and emoji in sender_name, receiver_name, dataname, metadata and text, "
              "written as raw UTF-8.",
              [text("donn\u00e9es_\U0001F600.txt",
                    "\u3053\u3093\u306b\u3061\u306f \U0001F30D Gr\u00fc\u00dfe \u2014 caf\u00e9")],
              sender_name="\u00dcn\u00efc\u00f8d\u00e9 \u9001\u4fe1\u8005 \U0001F680",
              receiver_name="\u53d7\u4fe1\u8005",
              metadata={"\u043a\u043b\u044e\u0447": "\u0437\u043d\u0430\u0447\u0435\u043d\u0438\u0435"})
    canonical("text_escapes",
              "Characters that need escaping (quote, backslash, control characters) and ones "
              "that must stay raw (U+007F, '/', '</script>', U+2028, non-ASCII) in metadata, a "
              "dictionary payload and a text payload.",
              [text("escapes.txt", ESCAPES), dictionary("escapes.json", {"s": ESCAPES})],
              metadata={"escapes": ESCAPES}, send_to="/chat/room1",
              reply_to="/chat/room1/replies")


# ----------------------------------------------------------------------------- accepted/

def accepted(name, description, msg, envelope, payloads, violations=()):
    if isinstance(msg, str):
        msg = msg.encode("utf-8")
    write("accepted", name, msg, description, envelope, payloads, violations)


def dump_any(obj):
    """Non-canonical but compact JSON for hand-made messages (keys as given)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def make_accepted():
    # camelCase envelope keys and `note`.
    n = "camelcase_keys"
    p = text("hello.txt", "hi from Julia")
    e = env(n, send_to="chat.legacy", msg_purpose="updateStatus", sender_name="julia-client",
            receiver_name="py-client",
            receiver_id=uid("receiver/" + n), reply_to="chat.replies",
            reply_to_msg_id=uid("msg/earlier"), broker_url="nats://legacy:4222",
            metadata={"origin": "julia", "v": 1})
    camel = {"correlationId": e["correlation_id"], "msgId": e["msg_id"],
             "timestamp": e["timestamp"], "sendTo": e["send_to"], "msgPurpose": e["msg_purpose"],
             "senderName": e["sender_name"], "senderId": e["sender_id"],
             "receiverName": e["receiver_name"], "receiverId": e["receiver_id"],
             "replyTo": e["reply_to"], "replyToMsgId": e["reply_to_msg_id"],
             "brokerURL": e["broker_url"], "note": e["metadata"], "payloads": [p.wire]}
    accepted(n, "Early Julia camelCase envelope keys (brokerURL, note for metadata).",
             dump_any(camel), e, [p.expected])

    n = "broker_url_capital"
    p = text("hello.txt", "capital B")
    e = env(n, broker_url="nats://capital:4222")
    obj = {k: v for k, v in e.items() if k != "broker_url"}
    obj["BrokerURL"] = e["broker_url"]
    obj["payloads"] = [p.wire]
    accepted(n, "The BrokerURL spelling of broker_url.", dump_any(obj), e, [p.expected])

    n = "payload_key_type"
    p = text("hello.txt", "type, not payload_type")
    e = env(n)
    w = {("type" if k == "payload_type" else k): v for k, v in p.wire.items()}
    accepted(n, "Payload key `type` instead of payload_type.", dump_any({**e, "payloads": [w]}),
             e, [p.expected])

    n = "encoding_json"
    e = env(n)
    js = '{"b": 2, "a": [1, 2], "c": {"d": null}, "\u00e9": "\u00fc"}'
    pid = uid("payload/" + n)
    w = {"id": pid, "dataname": "config", "payload_type": "dictionary", "transport": "direct",
         "encoding": "json", "size": len(js.encode()), "data": js, "metadata": {}}
    x = {"id": pid, "dataname": "config", "payload_type": "dictionary", "transport": "direct",
         "encoding": "json", "size": len(js.encode()), "metadata": {},
         "value": {"json": {"b": 2, "a": [1, 2], "c": {"d": None}, "\u00e9": "\u00fc"}}}
    accepted(n, "A dictionary with encoding \"json\": data is the JSON text itself (size = its "
             "UTF-8 length).", dump_any({**e, "payloads": [w]}), e, [x])

    n = "encoding_none_text"
    e = env(n)
    s = "plain text, not base64: \u00fc \U0001F600"
    pid = uid("payload/" + n)
    w = {"id": pid, "dataname": "plain.txt", "payload_type": "text", "transport": "direct",
         "encoding": "none", "size": len(s.encode()), "data": s, "metadata": {}}
    x = dict(w)
    del x["data"]
    x["value"] = {"text": s}
    accepted(n, "A direct text payload with encoding \"none\": data is the UTF-8 text itself.",
             dump_any({**e, "payloads": [w]}), e, [x])

    n = "encoding_arrow_ipc"
    e = env(n)
    p = raw("measurements", "table", arrow_table_bytes())
    w = dict(p.wire, encoding="arrow-ipc")
    x = dict(p.expected, encoding="arrow-ipc")
    accepted(n, "A table with encoding \"arrow-ipc\": data is base64 of Arrow IPC bytes.",
             dump_any({**e, "payloads": [w]}), e, [x])

    n = "arrowtable_type"
    e = env(n)
    p = raw("measurements", "table", arrow_table_bytes())
    w = dict(p.wire, payload_type="arrowtable")
    accepted(n, "payload_type \"arrowtable\" is received as \"table\".",
             dump_any({**e, "payloads": [w]}), e, [p.expected])

    n = "jsontable"
    e = env(n)
    rows = [{"a": 1, "b": "x"}, {"a": 2, "b": "y\u00e9"}]
    js = '[{"a": 1, "b": "x"}, {"a": 2, "b": "y\u00e9"}]'
    pid1, pid2 = uid("payload/" + n + "/1"), uid("payload/" + n + "/2")
    w1 = {"id": pid1, "dataname": "rows", "payload_type": "jsontable", "transport": "direct",
          "encoding": "json", "size": len(js.encode()), "data": js, "metadata": {}}
    x1 = {k: v for k, v in w1.items() if k != "data"}
    x1["value"] = {"json": rows}
    b = js.encode()
    w2 = {"id": pid2, "dataname": "rows64", "payload_type": "jsontable", "transport": "direct",
          "encoding": "base64", "size": len(b), "data": b64(b), "metadata": {}}
    x2 = {k: v for k, v in w2.items() if k != "data"}
    x2["value"] = {"json": rows}
    accepted(n, "payload_type \"jsontable\" (early editions): a JSON array of row objects, with "
             "encoding json and base64; received as a JSON value. Not in the schema's closed "
             "PayloadType enum, so a plain validator flags it.",
             dump_any({**e, "payloads": [w1, w2]}), e, [x1, x2],
             violations=["/payloads/0/payload_type", "/payloads/1/payload_type"])

    n = "unknown_payload_type"
    e = env(n)
    p = raw("frame-0001", "sensor_frame", bytes([1, 2, 3, 4, 250, 251, 252]))
    accepted(n, "An unknown payload_type comes back as bytes with its type name kept; a plain "
             "validator flags it (the enum is open only by x-open-enum).",
             dump_any({**e, "payloads": [p.wire]}), e, [p.expected],
             violations=["/payloads/0/payload_type"])

    n = "unknown_keys"
    e = env(n)
    p = text("hello.txt", "unknown keys are ignored")
    w = dict(p.wire)
    w["compression"] = "none"
    w["extra"] = [1, {"x": 2}]
    obj = {"protocol_version": 2}
    obj.update(e)
    obj["x-trace"] = {"span": "abc", "sampled": True}
    obj["payloads"] = [w]
    obj["zz_last"] = None
    accepted(n, "Unknown keys at envelope and payload level are ignored.", dump_any(obj), e,
             [p.expected])

    n = "missing_envelope_keys"
    p = text("hello.txt", "only payloads")
    e = {"correlation_id": "", "msg_id": "", "timestamp": "", "send_to": "",
         "msg_purpose": "chat", "sender_name": "NATSBridge", "sender_id": "",
         "receiver_name": "", "receiver_id": "", "reply_to": "", "reply_to_msg_id": "",
         "broker_url": "", "metadata": {}}
    accepted(n, "Only payloads present: the other envelope keys take their defaults (ids and "
             "timestamp stay empty).", dump_any({"payloads": [p.wire]}), e, [p.expected])

    n = "missing_payload_defaults"
    e = env(n)
    s = "no id, no metadata"
    w = {"dataname": "bare.txt", "payload_type": "text", "transport": "direct",
         "encoding": "base64", "size": len(s), "data": b64(s.encode())}
    x = {"id": "", "dataname": "bare.txt", "payload_type": "text", "transport": "direct",
         "encoding": "base64", "size": len(s), "metadata": {}, "value": {"text": s}}
    accepted(n, "A payload without id and metadata: they take their defaults \"\" and {}.",
             dump_any({**e, "payloads": [w]}), e, [x])

    n = "unicode_escapes"
    e = env(n, send_to="/chat/room1", sender_name="S\u00e9n\u00c9r \U0001F600",
            metadata={"k\u00e9y": "v\u00e4l/ue", "emoji": "\U0001F600", "path": "a/b"})
    s = "Gr\u00fc\u00dfe \U0001F600 a/b \u00c9"
    pid = uid("payload/" + n)
    msg = (
        '{"correlation_id":"%s","msg_id":"%s","timestamp":"%s",'
        '"send_to":"\\/chat\\/room1","msg_purpose":"chat",'
        '"sender_name":"S\\u00e9n\\u00C9r \\ud83d\\ude00","sender_id":"%s",'
        '"receiver_name":"","receiver_id":"","reply_to":"","reply_to_msg_id":"",'
        '"broker_url":"nats:\\/\\/127.0.0.1:4222",'
        '"metadata":{"k\\u00e9y":"v\\u00e4l\\/ue","emoji":"\\uD83D\\uDE00","path":"a\\/b"},'
        '"payloads":[{"id":"%s","dataname":"caf\\u00e9_\\ud83d\\ude00.txt",'
        '"payload_type":"t\\u0065xt","transport":"direct","encoding":"none","size":%d,'
        '"data":"Gr\\u00fc\\u00dfe \\ud83d\\ude00 a\\/b \\u00C9","metadata":{}}]}'
    ) % (e["correlation_id"], e["msg_id"], TIMESTAMP, SENDER_ID, pid, len(s.encode()))
    x = {"id": pid, "dataname": "caf\u00e9_\U0001F600.txt", "payload_type": "text",
         "transport": "direct", "encoding": "none", "size": len(s.encode()), "metadata": {},
         "value": {"text": s}}
    accepted(n, "\\uXXXX escapes (lower and upper case hex, a surrogate pair) and escaped \\/ in "
             "envelope strings, metadata, dataname, payload_type and text (encoding none).",
             msg, e, [x])

    n = "pretty_printed"
    e = env(n, metadata={"pretty": True, "list": [1, 2]})
    ps = [text("hello.txt", "indented"), dictionary("d", {"k": [1, 2]})]
    obj = dict(e)
    obj["payloads"] = [p.wire for p in ps]
    msg = json.dumps(obj, ensure_ascii=False, indent=2, separators=(", ", " : "))
    msg = msg.replace("\n  ", "\r\n\t  ", 3) + "\n"
    accepted(n, "A pretty-printed envelope: indentation, spaces, tabs, CRLF and a trailing "
             "newline outside strings.", msg, e, [p.expected for p in ps])

    n = "reordered_keys"
    e = env(n, metadata={"b": 1, "a": {"d": 1, "c": 2}})
    p = text("hello.txt", "keys in any order", meta={"y": 1, "x": 2})
    w = {k: p.wire[k] for k in reversed(PAYLOAD_KEYS)}
    w["metadata"] = {"y": 1, "x": 2}
    obj = {"payloads": [w]}
    for k in reversed(ENVELOPE_KEYS):
        obj[k] = e[k]
    obj["metadata"] = {"b": 1, "a": {"d": 1, "c": 2}}
    accepted(n, "Envelope and payload keys in reverse order and unsorted metadata: receivers "
             "do not depend on key order.", dump_any(obj), e, [p.expected])


    n = "key_and_alias_both"
    e = env(n, broker_url="nats://first-alias:4222", metadata={"from": "metadata"})
    p = text("both.txt", "canonical key wins")
    w = dict(p.wire)
    w = {"type": "binary", **w}
    obj = {}
    for k in ENVELOPE_KEYS:
        if k == "msg_id":
            obj["msgId"] = "alias-before-canonical"
        if k == "broker_url":
            obj["BrokerURL"] = "nats://second-alias:4222"
            obj["brokerURL"] = e["broker_url"]
            continue
        if k == "metadata":
            obj["note"] = {"from": "note"}
        obj[k] = e[k]
    obj["payloads"] = [w]
    accepted(n, "A key and its alias both present: the canonical key wins wherever it stands, "
             "and of two aliases the first in schema order (brokerURL before BrokerURL).",
             dump_any(obj), e, [p.expected])


# ----------------------------------------------------------------------------- invalid/

def invalid(name, description, msg, error, violations=(), envelope=None, payloads=None):
    if isinstance(msg, str):
        msg = msg.encode("utf-8")
    write("invalid", name, msg, description, envelope, payloads, violations, error)


def wire_with(name, payload_fn=None, env_fn=None, payloads=None):
    """A canonical envelope whose wire object is then edited; returns compact JSON."""
    e = env(name)
    ps = payloads if payloads is not None else [text("hello.txt", "hello world")]
    obj = dict(e)
    obj["payloads"] = [dict(p.wire) for p in ps]
    if payload_fn:
        payload_fn(obj["payloads"][0])
    if env_fn:
        env_fn(obj)
    return dump_any(obj)


def make_invalid():
    good = canonical_message(env("not_json_truncated"), [text("hello.txt", "hello world")])
    invalid("not_json_truncated", "A truncated envelope is not JSON.", good[: len(good) // 2],
            err("not_json", ""), violations=None)

    msg = wire_with("not_utf8").encode("utf-8").replace(b'"NATSBridge"', b'"NATS\xff\xfeBridge"')
    invalid("not_utf8", "Bytes that are not UTF-8 inside a string: not UTF-8 JSON.", msg,
            err("not_json", ""), violations=None)

    invalid("top_level_array", "The JSON is an array, not an object.",
            "[" + wire_with("top_level_array") + "]", err("not_object", ""), violations=[""])

    def set_(key, value):
        def f(o):
            o[key] = value
        return f

    def del_(key):
        def f(o):
            del o[key]
        return f

    invalid("payloads_not_array", "payloads is an object, not an array.",
            wire_with("payloads_not_array", env_fn=set_("payloads", {})),
            err("wrong_type", "payloads"), violations=["/payloads"])
    invalid("payloads_missing", "payloads (no default) is missing.",
            wire_with("payloads_missing", env_fn=del_("payloads")),
            err("missing_key", "payloads"), violations=[""])
    invalid("payload_not_object", "A payload is a string, not an object.",
            wire_with("payload_not_object", env_fn=set_("payloads", ["hello"])),
            err("wrong_type", "payloads[0]"), violations=["/payloads/0"])
    invalid("payload_missing_dataname", "A payload without dataname (no default).",
            wire_with("payload_missing_dataname", payload_fn=del_("dataname")),
            err("missing_key", "payloads[0].dataname"), violations=["/payloads/0"])
    invalid("bad_base64_chars", "Direct data with characters outside the base64 alphabet.",
            wire_with("bad_base64_chars", payload_fn=set_("data", "aGVsbG8gd29ybGQ!")),
            err("bad_base64", "payloads[0].data"))
    invalid("bad_base64_padding", "Direct data without the required '=' padding.",
            wire_with("bad_base64_padding", payload_fn=set_("data", "aGVsbG8gd29ybGQ")),
            err("bad_base64", "payloads[0].data"))
    invalid("size_mismatch", "size says 12 but the data decodes to 11 bytes.",
            wire_with("size_mismatch", payload_fn=set_("size", 12)),
            err("size_mismatch", "payloads[0].size"))
    invalid("size_string", "size is a string, not an integer.",
            wire_with("size_string", payload_fn=set_("size", "11")),
            err("wrong_type", "payloads[0].size"), violations=["/payloads/0/size"])
    invalid("msg_id_number", "msg_id is a number, not a string.",
            wire_with("msg_id_number", env_fn=set_("msg_id", 42)),
            err("wrong_type", "msg_id"), violations=["/msg_id"])

    invalid("size_negative", "size is a negative integer.",
            wire_with("size_negative", payload_fn=set_("size", -11)),
            err("wrong_type", "payloads[0].size"), violations=["/payloads/0/size"])
    msg = wire_with("number_out_of_range", env_fn=set_("metadata", {"big": "__BIG__"}))
    invalid("number_out_of_range",
            "A number beyond the range of a 64-bit float (1e400) is refused as not JSON, not "
            "turned into infinity or null.",
            msg.replace('"__BIG__"', "1e400"), err("not_json", ""), violations=None)
    msg = wire_with("lone_surrogate", payload_fn=set_("dataname", "__LONE__"))
    invalid("lone_surrogate",
            "A \\ud800 escape without its low surrogate is not a Unicode string: not JSON.",
            msg.replace("__LONE__", "x\\ud800y"), err("not_json", ""), violations=None)

    def type_alias(o):
        del o["payload_type"]
        o["type"] = 7
    invalid("alias_wrong_type",
            "The alias `type` holds a number; the error names the canonical key payload_type.",
            wire_with("alias_wrong_type", payload_fn=type_alias),
            err("wrong_type", "payloads[0].payload_type"),
            violations=["/payloads/0/payload_type"])

    def note_alias(o):
        del o["metadata"]
        o["note"] = "just a string"
    invalid("note_not_object",
            "The alias `note` holds a string; the error names the canonical key metadata.",
            wire_with("note_not_object", env_fn=note_alias), err("wrong_type", "metadata"),
            violations=["/metadata"])
    invalid("transport_unknown", "transport \"carrier-pigeon\" is not direct or link.",
            wire_with("transport_unknown", payload_fn=set_("transport", "carrier-pigeon")),
            err("bad_value", "payloads[0].transport"), violations=["/payloads/0/transport"])
    invalid("encoding_unknown", "encoding \"gzip\" is not a known encoding.",
            wire_with("encoding_unknown", payload_fn=set_("encoding", "gzip")),
            err("bad_value", "payloads[0].encoding"), violations=["/payloads/0/encoding"])

    n = "dataname_over_capacity"
    long_name = "\u00e9" * 65  # 65 characters, 130 UTF-8 bytes > x-max-bytes 128
    p = text(long_name, "name too long for no_std")
    e = env(n)
    invalid(n, "A dataname of 65 characters but 130 UTF-8 bytes, over the no_std capacity of "
            "128 bytes; the other SDKs decode it.",
            canonical_message(e, [p]), err("over_capacity", "payloads[0].dataname", "embedded"),
            envelope=e, payloads=[p.expected])

    n = "too_many_payloads"
    ps = [text("part-%d.txt" % i, "part %d" % i) for i in range(9)]
    e = env(n)
    invalid(n, "Nine payloads, over the no_std capacity (maxItems 8); the other SDKs decode it.",
            canonical_message(e, ps), err("over_capacity", "payloads", "embedded"),
            violations=["/payloads"], envelope=e, payloads=[p.expected for p in ps])


def main():
    for sub in ("canonical", "accepted", "invalid", "files"):
        shutil.rmtree(ROOT / sub, ignore_errors=True)
    make_canonical()
    make_accepted()
    make_invalid()
    print("wrote %d goldens" % len(WRITTEN), file=sys.stderr)


if __name__ == "__main__":
    main()
