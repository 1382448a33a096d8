# The NATS client and smartsend/smartreceive through real nats-servers started by
# run_all.py: NATSBRIDGE_NATS_URL (JetStream on), NATSBRIDGE_NATS_SMALL_URL (max_payload
# 64 KiB, server PING every second), NATSBRIDGE_NATS_USER_URL (alice/s3cret),
# NATSBRIDGE_NATS_TOKEN_URL (token t0ken), NATSBRIDGE_WEBDAV_URL (nginx).

import nats_bridge as nb
from nbtest import need, pattern, raises, unique


def connected(url=None, **kwargs):
    return nb.NatsClient(url or need("NATSBRIDGE_NATS_URL"), **kwargs).connect()


def test_publish_subscribe_and_wait_msg():
    c = connected()
    try:
        got = []
        subject = unique("t.pubsub")
        c.subscribe(subject, got.append)
        c.publish(subject, b"one", reply_to="r.x")
        c.publish(subject, "two")
        first = c.wait_msg(5)
        second = c.wait_msg(5)
        assert (first.data, first.reply, first.subject) == (b"one", "r.x", subject), first
        assert second.data == b"two" and second.reply == ""
        assert [m.data for m in got] == [b"one", b"two"]
        assert c.wait_msg(0.2) is None, "nothing more arrives"
        assert c.check_msg() is None
        c.publish(subject, b"three")
        c.flush()  # the server answers PONG after delivering "three": the callback has it
        assert got[-1].data == b"three" and c.check_msg() is None
        queued = unique("t.queued")
        c.subscribe(queued)  # no callback: messages wait for wait_msg/check_msg
        c.publish(queued, b"four")
        c.flush()
        assert c.check_msg().data == b"four"
        assert c.check_msg() is None
    finally:
        c.close()
    assert not c.is_connected()


def test_headers_travel_as_hmsg():
    c = connected()
    try:
        subject = unique("t.hdr")
        c.subscribe(subject)
        c.publish(subject, b"body", headers={"X-One": "1", "Nats-Msg-Id": "abc"})
        m = c.wait_msg(5)
        assert m.data == b"body" and m.headers == {"X-One": "1", "Nats-Msg-Id": "abc"}, m.headers
    finally:
        c.close()


def test_request_reply_timeout_and_no_responders():
    c = connected()
    try:
        subject = unique("t.svc")
        c.subscribe(subject, lambda m: m.respond(b"echo:" + m.data))
        assert c.request(subject, b"ping", 5).data == b"echo:ping"
        assert c.request(subject, b"again", 5).data == b"echo:again"
        silent = unique("t.silent")
        c.subscribe(silent)
        e = raises("timeout", c.request, silent, b"x", 0.3)
        assert silent in str(e)
        e = raises("no_responders", c.request, unique("t.nobody"), b"x", 5)
        assert "t.nobody" in str(e)
    finally:
        c.close()


def test_reconnect_restores_subscriptions_and_requests():
    c = connected()
    try:
        subject = unique("t.again")
        c.subscribe(subject)
        c.subscribe(subject + ".svc", lambda m: m.respond(b"pong"))
        assert c.request(subject + ".svc", b"", 5).data == b"pong"
        c.close()
        raises("nats", c.publish, subject, b"x")
        c.connect()
        c.publish(subject, b"after")
        assert c.wait_msg(5).data == b"after"
        assert c.request(subject + ".svc", b"", 5).data == b"pong"
    finally:
        c.close()


def test_unsubscribe_stops_delivery():
    c = connected()
    try:
        subject = unique("t.unsub")
        sid = c.subscribe(subject)
        c.unsubscribe(sid)
        c.publish(subject, b"x")
        c.flush()
        assert c.wait_msg(0.3) is None
    finally:
        c.close()


def test_user_password_and_token_auth():
    url = need("NATSBRIDGE_NATS_USER_URL")
    c = connected(url, user="alice", password="s3cret")
    c.flush()
    c.close()
    host = url[len("nats://"):]
    connected("nats://alice:s3cret@" + host).close()
    e = raises("connect", connected, url, user="alice", password="wrong")
    assert url in str(e), str(e)
    raises("connect", connected, url)
    url = need("NATSBRIDGE_NATS_TOKEN_URL")
    connected(url, token="t0ken").close()
    connected("nats://t0ken@" + url[len("nats://"):]).close()
    raises("connect", connected, url, token="nope")


def test_connection_refused_names_the_url():
    e = raises("connect", connected, "nats://127.0.0.1:1")
    assert "127.0.0.1:1" in str(e)


def test_publish_over_max_payload_is_refused_before_sending():
    c = connected(need("NATSBRIDGE_NATS_SMALL_URL"))
    try:
        assert c.max_payload == 65536, c.max_payload
        e = raises("too_large", c.publish, "t.big", b"x" * 65537)
        assert "t.big" in str(e) and "65536" in str(e)
        c.flush()  # still connected: nothing was sent
        assert c.is_connected()
    finally:
        c.close()


def test_server_pings_are_answered():
    # The small server pings every second and drops clients that miss two PONGs.
    c = connected(need("NATSBRIDGE_NATS_SMALL_URL"))
    try:
        subject = unique("t.ping")
        c.subscribe(subject)
        for _ in range(4):
            assert c.wait_msg(1.0) is None
        c.publish(subject, b"still here")
        assert c.wait_msg(5).data == b"still here"
    finally:
        c.close()


def test_smartsend_smartreceive_every_type_through_nats():
    url = need("NATSBRIDGE_NATS_URL")
    c = connected()
    try:
        subject = unique("t.smart")
        c.subscribe(subject)
        data = [
            ("greeting", "hello, wörld 😀", "text"),
            ("config", {"threshold": 3, "names": ["a", "é"], "nested": {"ok": True, "none": None}}, "dictionary"),
            ("photo", pattern(3000), "image"),
            ("sound", b"\x00\x01\x02", "audio"),
            ("clip", b"", "video"),
            ("blob", bytes(range(256)), "binary"),
            ("arrow", b"ARROW1\x00\x00", "table"),
        ]
        env = nb.smartsend(subject, data, nats_url=url, correlation_id="corr-1", msg_purpose="updateStatus",
                           receiver_name="board", reply_to_msg_id="m-0")
        msg = c.wait_msg(5)
        assert msg is not None, "the envelope did not arrive"
        got_env = nb.MessageEnvelope.from_json(msg.data)
        assert got_env == env and got_env.correlation_id == "corr-1" and got_env.broker_url == url
        assert msg.data == env.to_json().encode("utf-8"), "the published body is the canonical form"
        got = nb.smartreceive(msg, arrow_tables=False)
        assert len(got) == len(data)
        for i in range(len(data)):
            assert got[i][0] == data[i][0] and got[i][2] == data[i][2], got[i]
            want = data[i][1]
            if data[i][2] == "dictionary":
                assert nb.dumps(got[i][1]) == nb.dumps(want), got[i]
            else:
                assert got[i][1] == want, got[i]
    finally:
        c.close()


def test_smartsend_reuses_one_connection_per_url():
    url = need("NATSBRIDGE_NATS_URL")
    nb.smartsend(unique("t.reuse"), [("a", "1", "text")], nats_url=url)
    client = nb._CLIENTS[url]
    sock = client.sock
    for _ in range(5):
        nb.smartsend(unique("t.reuse"), [("a", "1", "text")], nats_url=url)
    assert nb._CLIENTS[url] is client and client.sock is sock, "a new connection was opened"
    client.close()
    nb.smartsend(unique("t.reuse"), [("a", "1", "text")], nats_url=url)
    assert nb._CLIENTS[url] is client and client.is_connected(), "a closed connection is reopened"
    nb.close_connections()
    assert not client.is_connected() and url not in nb._CLIENTS


def test_reply_to_is_the_nats_reply_subject_and_request_response_works():
    url = need("NATSBRIDGE_NATS_URL")
    c = connected()
    try:
        service = unique("t.service")

        def answer(msg):
            request = nb.MessageEnvelope.from_json(msg.data)
            assert msg.reply == request.reply_to, (msg.reply, request.reply_to)
            name = nb.smartreceive(msg)[0][1]
            nb.smartsend(msg.reply, [("answer", "hello " + name, "text")], client=c, nats_url=url,
                         correlation_id=request.correlation_id, reply_to_msg_id=request.msg_id, msg_purpose="ACK")

        c.subscribe(service, answer)
        inbox = unique("t.inbox")
        c.subscribe(inbox)
        request = nb.smartsend(service, [("name", "board-7", "text")], client=c, nats_url=url, reply_to=inbox)
        reply = None
        for _ in range(3):
            m = c.wait_msg(5)
            if m is not None and m.subject == inbox:
                reply = m
                break
        assert reply is not None, "no reply arrived"
        env = nb.MessageEnvelope.from_json(reply.data)
        assert env.correlation_id == request.correlation_id and env.reply_to_msg_id == request.msg_id
        assert env.msg_purpose == "ACK"
        assert nb.smartreceive(reply) == [("answer", "hello board-7", "text")]
    finally:
        c.close()


def test_jetstream_publish_waits_for_the_ack_and_deduplicates():
    c = connected()
    try:
        stream = "S" + nb.uuid4()[:8]
        subject = unique("js")
        config = nb.dumps({"name": stream, "subjects": [subject], "storage": "memory"})
        created = nb.loads(c.request("$JS.API.STREAM.CREATE." + stream, config, 5).data)
        assert "error" not in created, created
        ack = c.jetstream_publish(subject, b"one", msg_id="id-1")
        assert ack["stream"] == stream and ack["seq"] == 1 and not ack.get("duplicate"), ack
        assert c.jetstream_publish(subject, b"one", msg_id="id-1").get("duplicate") is True
        env = nb.smartsend(subject, [("t", "x", "text")], client=c, jetstream=True)
        info = nb.loads(c.request("$JS.API.STREAM.INFO." + stream, b"", 5).data)
        assert info["state"]["messages"] == 2, info["state"]
        again = nb.smartsend(subject, [("t", "x", "text")], client=c, jetstream=True, msg_id=env.msg_id)
        assert again.msg_id == env.msg_id
        info = nb.loads(c.request("$JS.API.STREAM.INFO." + stream, b"", 5).data)
        assert info["state"]["messages"] == 2, "the same msg_id was stored twice"
        raises("no_responders", c.jetstream_publish, unique("nostream"), b"x")
    finally:
        c.close()


def test_oversized_envelope_moves_payloads_to_the_file_server():
    url = need("NATSBRIDGE_NATS_SMALL_URL")
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    c = connected(url)
    try:
        subject = unique("t.move")
        c.subscribe(subject)
        big = pattern(60000)  # under the threshold, but base64 does not fit 64 KiB with the rest
        env = nb.smartsend(subject, [("note", "hi", "text"), ("big", big, "binary")], nats_url=url,
                           fileserver_url=webdav, fileserver_upload_handler=nb.http_put_upload, client=c)
        assert [p.transport for p in env.payloads] == ["direct", "link"]
        msg = c.wait_msg(5)
        got = nb.smartreceive(msg, fileserver_url=webdav)
        assert got == [("note", "hi", "text"), ("big", big, "binary")]
        e = raises("too_large", nb.smartsend, subject, [("big", big, "binary")], client=c, fileserver_url=None)
        assert "big" in str(e)
        assert c.wait_msg(0.3) is None, "nothing was published"
    finally:
        c.close()


class _CountingSocket:
    """Wraps a socket and records each write (send or sendall) as the bytes it was given."""

    def __init__(self, sock):
        self._sock = sock
        self.writes = []

    def send(self, data):
        n = self._sock.send(data)
        self.writes.append(bytes(data[:n]))
        return n

    def sendall(self, data):
        self._sock.sendall(data)
        self.writes.append(bytes(data))

    def __getattr__(self, name):
        return getattr(self._sock, name)


def test_each_frame_goes_out_in_one_write_and_publish_does_not_ping():
    c = connected()
    try:
        counting = c.sock = _CountingSocket(c.sock)
        subject = unique("t.onewrite")
        sid = c.subscribe(subject)
        big = pattern(100000)
        c.publish(subject, b"small")
        c.publish(subject, b"with headers", reply_to="r.1", headers={"X-A": "1"})
        c.publish(subject, [b"part one,", big, b",end"])
        got = [c.wait_msg(5) for _ in range(3)]
        assert [m.data for m in got] == [b"small", b"with headers", b"part one," + big + b",end"]
        c.unsubscribe(sid)
        c.flush()
        w = counting.writes
        assert len(w) == 6, "one write per frame (SUB, 3 x PUB, UNSUB, PING), got %r" % [x[:20] for x in w]
        assert w[0] == ("SUB %s %d\r\n" % (subject, sid)).encode()
        assert w[1] == ("PUB %s 5\r\nsmall\r\n" % subject).encode()
        hdr = b"NATS/1.0\r\nX-A: 1\r\n\r\n"
        assert w[2] == ("HPUB %s r.1 %d %d\r\n" % (subject, len(hdr), len(hdr) + 12)).encode() + hdr + b"with headers\r\n"
        assert w[3] == ("PUB %s %d\r\n" % (subject, len(big) + 13)).encode() + b"part one," + big + b",end\r\n"
        assert w[4] == ("UNSUB %d\r\n" % sid).encode() and w[5] == b"PING\r\n", "publish itself sends no PING"
    finally:
        c.close()


def test_smartsend_on_a_client_writes_one_frame_and_the_one_call_form_flushes():
    url = need("NATSBRIDGE_NATS_URL")
    c = connected()
    try:
        subject = unique("t.noflush")
        c.subscribe(subject)
        counting = c.sock = _CountingSocket(c.sock)
        nb.smartsend(subject, [("a", pattern(3000), "binary")], client=c)
        assert len(counting.writes) == 1 and counting.writes[0].startswith(b"PUB "), counting.writes
        assert counting.writes[0].endswith(b"\r\n") and b"PING" not in counting.writes[0]
        shared = nb.connection(url)
        shared_counting = shared.sock = _CountingSocket(shared.sock)
        nb.smartsend(subject, [("b", "text", "text")], nats_url=url)
        assert len(shared_counting.writes) == 2 and shared_counting.writes[1] == b"PING\r\n", \
            "the one-call form flushes before returning: %r" % shared_counting.writes
        got = [nb.smartreceive(c.wait_msg(5)) for _ in range(2)]
        assert got == [[("a", pattern(3000), "binary")], [("b", "text", "text")]], got
    finally:
        c.close()
        nb.close_connections()


class _RecordingSocket(_CountingSocket):
    """Wraps a socket and records its setsockopt calls."""

    def __init__(self, sock, options):
        _CountingSocket.__init__(self, sock)
        self.options = options

    def setsockopt(self, level, option, value):
        self.options.append((level, option, value))
        return self._sock.setsockopt(level, option, value)


def test_connections_set_tcp_nodelay():
    # the module's own _no_delay, given each new connection's real socket behind a recorder
    real = nb._no_delay
    options = []
    nb._no_delay = lambda sock: real(_RecordingSocket(sock, options))
    try:
        c = connected()
        c.close()
    finally:
        nb._no_delay = real
    want = (getattr(nb.socket, "IPPROTO_TCP", 6), getattr(nb.socket, "TCP_NODELAY", 1), 1)
    assert want == (6, 1, 1) and options == [want], options
