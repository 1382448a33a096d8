# Hostile input from real peers (issue 14): a NATS request whose reply_to would inject
# protocol commands (a real nats-server), link URLs that would smuggle HTTP requests, other
# ports of an allowed host, broken responses and downloads that must not leave or overwrite
# files (hostile_http.py, a raw-socket server that records every byte it receives:
# NATSBRIDGE_HOSTILE_URL). Each test failed on the code before the fix.

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb
from nbtest import FAST, need, pattern, raises, read, unique


def _seen(token):
    # How many request lines holding token hostile_http.py has received.
    status, _, body = nb.http_request("GET", need("NATSBRIDGE_HOSTILE_URL") + "/seen/" + token)
    assert status == 200, status
    return int(body)


def _links(urls, sizes, dataname="f.bin", checksums=None):
    payloads = []
    for i in range(len(urls)):
        meta = {"checksum": checksums[i]} if checksums else {}
        payloads.append(nb.MessagePayload(dataname, "binary", "link", "none", sizes[i], urls[i], metadata=meta))
    return nb.MessageEnvelope(payloads).to_json()


# ---- 1. NATS command injection through a subject ----

def test_a_reply_to_holding_tab_or_crlf_cannot_inject_nats_commands():
    url = need("NATSBRIDGE_NATS_URL")
    token = unique("inject").replace(".", "_")
    other, service = "other." + token, "svc." + token
    watcher, responder, attacker = nb.NatsClient(url), nb.NatsClient(url), nb.NatsClient(url)
    try:
        for c in (watcher, responder, attacker):
            c.connect()
        watcher.subscribe(other)
        watcher.flush()
        responder.subscribe(service)
        responder.flush()
        hostile = [other + "\t5\r\nowned\r\nPUB\tsink." + token,  # a second PUB after the first line
                   other + "\tsink." + token,  # a tab: "PUB other sink N" publishes on other
                   other + "\n",
                   "ok.subject\rPUB " + other + " 5"]
        errors = []
        for reply_to in hostile:
            env = nb.smartsend(service, [("question", "q", "text")], reply_to=reply_to, is_publish=False)
            attacker.publish(service, env.to_json())  # a raw publish: the reply_to is in the envelope only
            attacker.flush()
            msg = responder.wait_msg(3.0)
            assert msg is not None, "the request did not arrive"
            request = nb.MessageEnvelope.from_json(msg.data)
            try:  # as examples/request_reply.py answers
                nb.smartsend(request.reply_to, [("answer", "a", "text")], client=responder)
                errors.append(None)
            except nb.NatsBridgeError as e:
                errors.append(e)
            got = watcher.wait_msg(0.5)
            assert got is None, "%r: an injected PUB reached another subject: %r" % (reply_to, got)
        for i in range(len(hostile)):
            e = errors[i]
            assert e is not None and e.kind == "invalid_input", (hostile[i], e)
            assert e.at == "subject" and repr(hostile[i]) in str(e), str(e)
        for bad in ["", "a b", "a\tb", "a\x7fb", "a\r\nb"]:
            raises("invalid_input", responder.publish, "ok", b"x", bad or "x\x00")
            raises("invalid_input", responder.subscribe, bad or "a\x01")
            raises("invalid_input", responder.subscribe, "ok", None, bad or "q\x00")
            raises("invalid_input", responder.request, bad or "\x00", b"x", 0.1)
        e = raises("invalid_input", responder.publish, "ok", b"x", "", {"X-A": "v\r\nPUB " + other + " 1"})
        assert "X-A" in str(e), str(e)
        raises("invalid_input", responder.publish, "ok", b"x", "", {"X\r\nB": "v"})
        raises("invalid_input", responder.publish, "ok", b"x", "", {"X:B": "v"})
        responder.flush()
        assert watcher.wait_msg(0.3) is None, "a header injected a PUB"
    finally:
        for c in (watcher, responder, attacker):
            c.close()


# ---- 2. HTTP request smuggling through a link URL ----

def test_a_crlf_link_url_sends_no_second_request():
    hostile = need("NATSBRIDGE_HOSTILE_URL")
    token = unique("smuggle").replace(".", "_")
    url = hostile + "/record/" + token + " HTTP/1.1\r\nHost: x\r\n\r\nDELETE /victim-" + token
    e = raises("invalid_input", nb.download, url, 2, max_retries=1, **FAST)
    assert repr(url) in str(e), str(e)
    e = raises("link_refused", nb.smartreceive, _links([url], [2]), fileserver_url=hostile, **FAST)
    assert e.at == "payloads[0] (f.bin)" and repr(url) in str(e), str(e)
    for bad in [hostile + "/record/a\tb", hostile + "/record/a\nb", hostile + "/record/a b", hostile + "/x\x00"]:
        raises("invalid_input", nb.http_request, "GET", bad)
    assert _seen(token) == 0, "a request holding the smuggled URL reached the server"
    # what is sent is escaped, the host checked is the host contacted
    assert nb.http_url(hostile + "/record/é<%s>#frag" % token)[3] == "/record/%%C3%%A9%%3C%s%%3E" % token
    assert nb.http_url("http://Example.ORG:8080?q=1") == ("http", "example.org", 8080, "/?q=1")
    port = hostile.rsplit(":", 1)[1]
    for trick in ["http://127.0.0.1:%s@evil.example/" % port, "http://evil.example\\@127.0.0.1:%s/" % port,
                  "http://127.0.0.1:%s\\@evil.example/" % port, "http://127.0.0.1: %s/" % port,
                  "http://127.0.0.1:+%s/" % port, "http://127.0.0.1:%s:%s/" % (port, port)]:
        e = raises("link_refused", nb.smartreceive, _links([trick], [2]), fileserver_url=hostile, **FAST)
        assert repr(trick) in str(e), str(e)
    raises("link_refused", nb.smartreceive, _links(["http://127.0.0.1:0/"], [2]), allow_any_host=True, **FAST)


# ---- 6. the port is part of the allow rule ----

def test_another_port_of_an_allowed_host_is_refused():
    hostile = need("NATSBRIDGE_HOSTILE_URL")
    helper = need("NATSBRIDGE_HELPER_URL")  # another server on 127.0.0.1
    token = unique("port").replace(".", "_")
    url = hostile + "/record/" + token
    msg = _links([url], [2])
    for allow in [{"fileserver_url": helper}, {"allowed_hosts": ["127.0.0.1"]},
                  {"allowed_hosts": ["127.0.0.1:" + helper.rsplit(":", 1)[1]]}]:
        e = raises("link_refused", nb.smartreceive, msg, **dict(FAST, **allow))
        assert repr(url) in str(e) and e.at == "payloads[0] (f.bin)", str(e)
    assert _seen(token) == 0, "a link to a port not allowed was fetched"
    port = hostile.rsplit(":", 1)[1]
    assert nb.smartreceive(msg, allowed_hosts=["127.0.0.1:" + port], **FAST) == [("f.bin", b"ok", "binary")]
    assert nb.smartreceive(msg, fileserver_url=hostile + "/some/prefix", **FAST) == [("f.bin", b"ok", "binary")]
    assert _seen(token) == 2


# ---- 5. download_to keeps only verified bytes and never overwrites ----

def test_download_to_a_folder_never_overwrites_and_keeps_nothing_unverified():
    hostile = need("NATSBRIDGE_HOSTILE_URL")
    folder = need("NATSBRIDGE_TMP") + "/" + unique("dl")
    os.mkdir(folder)
    f = open(folder + "/f.bin", "wb")
    f.write(b"mine")
    f.close()
    urls = [hostile + "/bytes/100/a", hostile + "/bytes/200/b"]
    got = nb.smartreceive(_links(urls, [100, 200]), download_to=folder, fileserver_url=hostile, **FAST)
    assert got == [("f.bin", folder + "/f-2.bin", "binary"), ("f.bin", folder + "/f-3.bin", "binary")], got
    assert read(folder + "/f.bin") == b"mine", "an existing file was overwritten"
    assert read(folder + "/f-2.bin") == pattern(100) and read(folder + "/f-3.bin") == pattern(200)
    before = sorted(os.listdir(folder))
    bad_sum = "sha256:" + "0" * 64
    raises("checksum_mismatch", nb.smartreceive, _links([urls[0]], [100], "g.bin", [bad_sum]),
           download_to=folder, fileserver_url=hostile, **FAST)
    raises("size_mismatch", nb.smartreceive, _links([hostile + "/bytes/300/c"], [200], "h.bin"),
           download_to=folder, fileserver_url=hostile, **FAST)
    assert sorted(os.listdir(folder)) == before, "bytes that failed verification were left behind"


# ---- 12. every failure is a NatsBridgeError with its kind ----

def test_broken_responses_and_file_names_are_natsbridge_errors():
    hostile = need("NATSBRIDGE_HOSTILE_URL")
    for name in ["content-length-not-a-number", "content-length-negative", "content-length-blank-sign",
                 "chunk-size-not-hex", "chunk-size-negative", "header-not-utf8"]:
        url = hostile + "/bad/" + name
        e = raises("protocol", nb.download, url, 5, max_retries=1, **FAST)
        assert url in str(e), (name, str(e))
    folder = need("NATSBRIDGE_TMP") + "/" + unique("names")
    os.mkdir(folder)
    long_name = "é" * 150 + ".bin"  # 1,200 characters once percent-encoded
    got = nb.smartreceive(_links([hostile + "/bytes/10/x"], [10], long_name), download_to=folder, fileserver_url=hostile, **FAST)
    path = got[0][1]
    assert path.startswith(folder + "/") and len(path) - len(folder) <= 201 and read(path) == pattern(10), path
    e = raises("io", nb.smartreceive, _links([hostile + "/bytes/10/x"], [10]), download_to=folder + "/missing",
               fileserver_url=hostile, **FAST)
    assert e.at == "payloads[0] (f.bin)" and "missing" in str(e), str(e)


# ---- 7. memory a message can make a receiver hold ----

def test_memory_is_taken_as_data_arrives_and_bounded_per_envelope():
    hostile = need("NATSBRIDGE_HOSTILE_URL")
    closed = need("NATSBRIDGE_CLOSED_URL")
    # a dead link declaring a terabyte: nothing allocated before a byte arrives
    raises("download", nb.download, closed + "/x", 1 << 40, max_retries=1, **FAST)
    token = unique("budget").replace(".", "_")
    url = hostile + "/record/" + token
    e = raises("too_large", nb.smartreceive, _links([url] * 5, [3000] * 5), fileserver_url=hostile, max_in_memory=10000, **FAST)
    assert e.at == "payloads[3] (f.bin)" and "10000" in str(e), str(e)
    e = raises("too_large", nb.smartreceive, _links([url] * 2, [200000000] * 2), fileserver_url=hostile, **FAST)  # 400 MB over the default budget (MAX_IN_MEMORY_BYTES, 256 MiB)
    assert e.at == "payloads[1] (f.bin)", str(e)
    assert _seen(token) == 0, "a payload was fetched before the budget was checked"
    chunks = []
    raises("size_mismatch", nb.smartreceive, _links([url] * 5, [2] * 4 + [3]), fileserver_url=hostile,
           max_in_memory=4, download_to=lambda p: chunks.append, **FAST)  # streamed: not counted
    assert _seen(token) == 5


def test_unanswered_and_forged_inbox_messages_are_dropped():
    url = need("NATSBRIDGE_NATS_URL")
    service = unique("slow")
    requester, responder = nb.NatsClient(url), nb.NatsClient(url)
    try:
        requester.connect()
        responder.connect()
        responder.subscribe(service)
        responder.flush()
        raises("timeout", requester.request, service, b"q", 0.3)
        msg = responder.wait_msg(2.0)
        prefix = msg.reply[:msg.reply.rfind(".")]
        last = int(msg.reply[msg.reply.rfind(".") + 1:])
        for i in range(3):
            responder.publish(msg.reply, b"late")  # the answer after the timeout, three times
        for n in range(last + 1, last + 50):
            responder.publish("%s.%d" % (prefix, n), b"forged")  # answers to requests not made yet
        responder.flush()
        requester.flush()
        assert requester.check_msg() is None
        assert len(requester._responses) == 0, "inbox messages nobody waits for are held"
        e = raises("timeout", requester.request, service, b"q", 0.3)  # not the forged answer
        assert service in str(e)
    finally:
        requester.close()
        responder.close()


# ---- 8. pyarrow decodes tables only when asked, and only a fixed version ----

class _FakeIpc:
    def __init__(self, calls):
        self.calls = calls

    def open_stream(self, buf):
        self.calls.append(buf)
        return self

    def read_all(self):
        return "a table"


class _FakePyarrow:
    ArrowException = ValueError

    def __init__(self, version, calls):
        self.__version__ = version
        self.ipc = _FakeIpc(calls)

    def py_buffer(self, raw):
        return raw


def test_tables_stay_bytes_by_default_and_old_pyarrow_is_refused():
    real = nb._pyarrow
    calls = []
    try:
        nb._pyarrow = lambda: _FakePyarrow("14.0.1", calls)
        assert nb.deserialize(b"ipc", "table", "payloads[0].data") == b"ipc"
        assert calls == [], "a table from a sender was decoded without arrow_tables=True"
        assert nb.deserialize(b"ipc", "table", "payloads[0].data", True) == "a table" and len(calls) == 1
        for old in ["14.0.0", "0.14.0", "13.99.0", "garbage"]:
            nb._pyarrow = lambda: _FakePyarrow(old, calls)
            e = raises("invalid_input", nb.deserialize, b"ipc", "table", "payloads[0].data", True)
            assert "CVE-2023-47248" in str(e) and old in str(e), str(e)
        assert len(calls) == 1, "an old pyarrow decoded the table"
        nb._pyarrow = lambda: _FakePyarrow("15.0.0.dev1", calls)
        assert nb.smartreceive(nb.MessageEnvelope([nb.MessagePayload("t", "table", "direct", "base64", 3, "aXBj")]), arrow_tables=True) == [("t", "a table", "table")]
    finally:
        nb._pyarrow = real
