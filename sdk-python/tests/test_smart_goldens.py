# smartsend and smartreceive against the golden messages, and their argument checks.
# No server needed. pytest on CPython; mpy_runner.py on MicroPython.

import nats_bridge as nb
from nbtest import GOLDEN_DIR, goldens, pattern, raises, read

GOLDEN_URL_BYTES = {}  # link URL of a golden -> its bytes


def golden_link_bytes(payload):
    # The bytes behind a golden link payload: files/<sha256>.bin, or the generated pattern.
    checksum = payload.metadata["checksum"][7:]
    try:
        return read("%s/files/%s.bin" % (GOLDEN_DIR, checksum))
    except OSError:
        data = pattern(payload.size)
        assert nb.sha256_hex(data) == checksum, "no bytes for %s" % payload.data
        return data


def caller_value(payload, raw):
    # What a smartsend caller gives for a payload whose serialized bytes are raw.
    if payload.payload_type == "text":
        return raw.decode("utf-8")
    if payload.payload_type == "dictionary":
        return nb.loads(raw)
    return raw


def same_json(a, b):
    return nb.dumps(nb.loads(a)) == nb.dumps(nb.loads(b))


def test_smartsend_writes_every_canonical_golden_byte_for_byte():
    count = 0
    for name in goldens("canonical"):
        raw = read("%s/canonical/%s.msg" % (GOLDEN_DIR, name))
        env = nb.MessageEnvelope.from_json(raw)
        data = []
        links = {}
        for p in env.payloads:
            if p.transport == "link":
                b = golden_link_bytes(p)
                links[p.dataname] = p.data
            else:
                b = nb.b64decode(p.data)
            meta = dict(p.metadata)
            meta.pop("checksum", None)  # smartsend adds it to links
            data.append((p.dataname, caller_value(p, b), p.payload_type, meta))
        link_sizes = [p.size for p in env.payloads if p.transport == "link"]
        direct_sizes = [p.size for p in env.payloads if p.transport == "direct"]
        threshold = min(link_sizes) if link_sizes else 1000000
        assert not direct_sizes or max(direct_sizes) < threshold, name

        def handler(url, dataname, b, payload_id, token):
            return {"status": 200, "url": links[dataname]}

        sent = nb.smartsend(
            env.send_to, data, nats_url=env.broker_url, fileserver_url="http://unused",
            fileserver_upload_handler=handler, size_threshold=threshold,
            correlation_id=env.correlation_id, msg_purpose=env.msg_purpose,
            sender_name=env.sender_name, receiver_name=env.receiver_name,
            receiver_id=env.receiver_id, reply_to=env.reply_to,
            reply_to_msg_id=env.reply_to_msg_id, is_publish=False, metadata=env.metadata,
            msg_id=env.msg_id, timestamp=env.timestamp, sender_id=env.sender_id,
            payload_ids=[p.id for p in env.payloads], max_payload=10 * 1000 * 1000,
        )
        out = sent.to_json().encode("utf-8")
        # WIRE.md section 8: floats inside free-form objects compare by value.
        assert out == raw or (b"." in raw and same_json(out, raw)), "%s:\n got  %s\n want %s" % (name, out[:300], raw[:300])
        count += 1
    assert count >= 10, "only %d canonical goldens" % count


def check_value(name, got, want):
    if "text" in want:
        assert got == want["text"], "%s: %r" % (name, got)
    elif "json" in want:
        assert nb.dumps(got) == nb.dumps(want["json"]), "%s: %r" % (name, got)
    elif "bytes" in want:
        assert isinstance(got, bytes), "%s: %r" % (name, type(got))
        assert len(got) == want["bytes"]["len"] and nb.sha256_hex(got) == want["bytes"]["sha256"], name
    else:
        raw = got.encode("utf-8") if isinstance(got, str) else got
        assert nb.sha256_hex(raw) == want["link"]["checksum"][7:], name


def test_smartreceive_decodes_every_canonical_and_accepted_golden():
    count = 0
    for group in ("canonical", "accepted"):
        for name in goldens(group):
            base = "%s/%s/%s" % (GOLDEN_DIR, group, name)
            raw = read(base + ".msg")
            expected = nb.loads(read(base + ".expect.json"))
            env = nb.MessageEnvelope.from_json(raw)
            by_url = {}
            for p in env.payloads:
                if p.transport == "link":
                    by_url[p.data] = golden_link_bytes(p)

            def handler(url, max_retries, base_delay, max_delay, correlation_id):
                assert correlation_id == env.correlation_id
                return by_url[url]

            got = nb.smartreceive(raw, fileserver_download_handler=handler, arrow_tables=False)
            assert len(got) == len(expected["payloads"]), name
            for i in range(len(got)):
                want = expected["payloads"][i]
                assert got[i][0] == want["dataname"] and got[i][2] == want["payload_type"], "%s: %r" % (name, got[i][0])
                check_value("%s/%s" % (group, name), got[i][1], want["value"])
            count += 1
    assert count >= 20, count


def test_smartreceive_refuses_bad_base64_and_size_mismatch_goldens():
    count = 0
    for name in goldens("invalid"):
        base = "%s/invalid/%s" % (GOLDEN_DIR, name)
        error = nb.loads(read(base + ".expect.json"))["error"]
        if error["kind"] not in ("bad_base64", "size_mismatch"):
            continue
        e = raises(error["kind"], nb.smartreceive, read(base + ".msg"))
        assert e.at == error["at"], "%s: at %r, want %r" % (name, e.at, error["at"])
        count += 1
    assert count >= 3, count


def test_smartreceive_accepts_dict_text_bytes_and_message_objects():
    env = nb.smartsend("a.b", [("t", "hé", "text")], is_publish=False)

    class Msg:
        data = env.to_json().encode("utf-8")

    for msg in (env.to_dict(), env.to_json(), Msg.data, bytearray(Msg.data), Msg(), env):
        assert nb.smartreceive(msg) == [("t", "hé", "text")], repr(msg)


def test_smartsend_defaults_and_generated_fields():
    env = nb.smartsend("chat.room1", [("x", b"\x00\xff", "binary")], is_publish=False)
    assert len(env.correlation_id) == 36 and env.correlation_id[14] == "4"
    assert env.msg_id != env.correlation_id and len(env.msg_id) == 36
    assert env.sender_id == nb.default_sender_id(), "sender_id fixed for the process"
    assert env.broker_url == "nats://localhost:4222" and env.send_to == "chat.room1"
    assert env.msg_purpose == "chat" and env.sender_name == "NATSBridge"
    ts = env.timestamp
    assert len(ts) == 24 and ts[10] == "T" and ts[19] == "." and ts.endswith("Z"), ts
    p = env.payloads[0]
    assert (p.transport, p.encoding, p.size, p.data) == ("direct", "base64", 2, "AP8="), repr(p)


def test_smartsend_refuses_bad_arguments_naming_the_payload():
    e = raises("wrong_type", nb.smartsend, "s", [("t", b"bytes", "text")], is_publish=False)
    assert "data[0] (t)" in str(e), str(e)
    e = raises("wrong_type", nb.smartsend, "s", [("ok", "x", "text"), ("d", "not a dict", "dictionary")], is_publish=False)
    assert e.at == "data[1] (d)", e.at
    e = raises("bad_value", nb.smartsend, "s", [("m", b"x", "matrix")], is_publish=False)
    assert "matrix" in str(e)
    raises("wrong_type", nb.smartsend, "s", [("only two", "x")], is_publish=False)
    raises("wrong_type", nb.smartsend, "s", "not a list", is_publish=False)
    raises("wrong_type", nb.smartsend, "s", [("b", "text, not bytes", "image")], is_publish=False)


def test_envelope_over_max_payload_without_file_server_fails_before_publishing():
    e = raises("too_large", nb.smartsend, "s", [("big", b"x" * 2000, "binary")], fileserver_url=None, is_publish=False, max_payload=1500)
    assert "big" in str(e) and "fileserver_url" in str(e), str(e)


def test_largest_direct_payloads_move_to_link_until_the_envelope_fits():
    uploaded = []

    def handler(url, dataname, b, payload_id, token):
        uploaded.append((dataname, len(b), payload_id))
        return {"url": "http://files/%s" % dataname}

    data = [("small", b"s" * 100, "binary"), ("large", b"l" * 1500, "binary"), ("medium", b"m" * 900, "binary")]
    env = nb.smartsend("s", data, fileserver_url="http://files", fileserver_upload_handler=handler, is_publish=False, max_payload=2500)
    assert [u[0] for u in uploaded] == ["large"], uploaded
    assert [p.transport for p in env.payloads] == ["direct", "link", "direct"]
    assert uploaded[0][2] == env.payloads[1].id, "the handler gets the payload id"
    assert env.payloads[1].metadata == {"checksum": "sha256:" + nb.sha256_hex(b"l" * 1500)}
    assert len(env.to_json()) <= 2500
    env = nb.smartsend("s", data, fileserver_url="http://files", fileserver_upload_handler=handler, is_publish=False, max_payload=1300)
    assert [p.transport for p in env.payloads] == ["direct", "link", "link"]


def test_size_threshold_decides_each_payload():
    def handler(url, dataname, b, payload_id, token):
        return {"url": "http://files/%s" % dataname}

    env = nb.smartsend("s", [("a", "x" * 10, "text"), ("b", "x" * 9, "text")], fileserver_upload_handler=handler, size_threshold=10, is_publish=False)
    assert [(p.transport, p.encoding) for p in env.payloads] == [("link", "none"), ("direct", "base64")]
    assert env.payloads[0].data == "http://files/a" and env.payloads[0].size == 10


def test_strict_base64():
    assert nb.b64decode("QUJD") == b"ABC" and nb.b64decode(b"") == b""
    assert nb.b64encode(bytes(range(256))) == nb.b64encode(nb.b64decode(nb.b64encode(bytes(range(256)))))
    for bad in ("QUJ", "QU=D", "QUJD!A==", "QUJ\nD", "QUJ=", "Q-_D", "QUJD===="):
        e = raises("bad_base64", nb.b64decode, bad, "payloads[3].data")
        assert e.at == "payloads[3].data"


def test_uuid4_and_timestamp_forms():
    seen = {}
    for _ in range(50):
        u = nb.uuid4()
        assert len(u) == 36 and u.lower() == u and u[8] == "-" and u[14] == "4" and u[19] in "89ab", u
        seen[u] = 1
    assert len(seen) == 50


def test_backoff_delays_stay_inside_the_jitter_window():
    for attempt in range(8):
        cap = min(5000, 100 * (1 << attempt))
        for _ in range(20):
            d = nb.backoff_delay_ms(attempt)
            assert 0 <= d <= cap, (attempt, d)


def test_deserialize_types():
    assert nb.deserialize(b'{"a":[1]}', "dictionary") == {"a": [1]}
    assert nb.deserialize(b"[1]", "jsontable") == [1]
    assert nb.deserialize(b"\x01", "sparse-matrix") == b"\x01"
    e = raises("bad_value", nb.deserialize, b"\xff", "text", "payloads[0].data")
    assert e.at == "payloads[0].data"
    raises("not_json", nb.deserialize, b"{", "dictionary", "payloads[1].data")
    assert nb.deserialize(b"arrow bytes", "table", "", False) == b"arrow bytes"
    assert nb.deserialize(b"arrow bytes", "table") == b"arrow bytes", "tables stay bytes unless asked"
    if nb._pyarrow() is None:
        raises("invalid_input", nb.deserialize, b"x", "table", "payloads[0].data", True)
    else:
        e = raises("bad_value", nb.deserialize, b"arrow bytes", "table", "payloads[0].data", True)
        assert e.at == "payloads[0].data"


def test_tables_as_pyarrow_where_it_is_installed():
    pyarrow = nb._pyarrow()
    if nb._pyarrow() is None:
        print("pyarrow is not installed here (MicroPython, or a bare CPython): tables stay bytes")
        return
    table = pyarrow.table({"a": [1, 2], "b": ["x", "y"]})
    env = nb.smartsend("s", [("t", table, "table")], is_publish=False)
    got = nb.smartreceive(env, arrow_tables=True)
    assert got[0][1].equals(table), got
    raw = nb.smartreceive(env)[0][1]
    assert isinstance(raw, bytes) and raw == nb.serialize(table, "table")


def test_quote_path():
    assert nb.quote_path("a b/é.txt") == "a%20b%2F%C3%A9.txt"
    assert nb.quote_path("plain-name_1.~") == "plain-name_1.~"
