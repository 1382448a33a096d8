# The link transport against real HTTP servers started by run_all.py: nginx WebDAV
# (NATSBRIDGE_WEBDAV_URL) and helper_server.py (NATSBRIDGE_HELPER_URL: failures on
# demand, counted, and a stand-in for the Plik API); NATSBRIDGE_CLOSED_URL is a port
# where nothing listens. Retry delays are shortened (FAST): the tests count attempts.

import nats_bridge as nb
from nbtest import FAST, http_count, need, pattern, raises, read, unique


def test_http_put_upload_and_download_through_nginx():
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    data = pattern(300000)
    result = nb.http_put_upload(webdav, "résumé 1.bin", data, "payload-1")
    assert result["url"] == webdav + "/payload-1/r%C3%A9sum%C3%A9%201.bin", result
    assert result["status"] in (200, 201, 204), result
    assert nb.download(result["url"], len(data), "sha256:" + nb.sha256_hex(data)) == data
    assert read(need("NATSBRIDGE_WEBDAV_ROOT") + "/payload-1/résumé 1.bin") == data, "nginx stored other bytes"


def test_link_round_trip_with_smartsend_and_smartreceive():
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    text = "a long text, " * 100
    env = nb.smartsend("s", [("report.txt", text, "text"), ("small", "direct", "text")], fileserver_url=webdav,
                       fileserver_upload_handler=nb.http_put_upload, size_threshold=1000, is_publish=False)
    p = env.payloads[0]
    assert (p.transport, p.encoding, p.size) == ("link", "none", len(text)), repr(p)
    assert p.data == "%s/%s/report.txt" % (webdav, p.id), "PUT {fileserver_url}/{payload id}/{dataname}"
    assert nb.smartreceive(env.to_json(), fileserver_url=webdav) == [("report.txt", text, "text"), ("small", "direct", "text")]


def test_download_streams_to_a_file_and_to_a_callback():
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    tmp = need("NATSBRIDGE_TMP")
    data = pattern(200000)
    url = nb.http_put_upload(webdav, "stream.bin", data)["url"]
    checksum = "sha256:" + nb.sha256_hex(data)
    f = open(tmp + "/streamed.bin", "wb")
    try:
        assert nb.download(url, len(data), checksum, f) == len(data)
    finally:
        f.close()
    assert read(tmp + "/streamed.bin") == data
    chunks = []
    assert nb.download(url, len(data), checksum, chunks.append) == len(data)
    assert len(chunks) > 10 and max(len(c) for c in chunks) <= 4096, "not streamed in chunks"
    assert b"".join(chunks) == data


def test_smartreceive_download_to_a_folder_or_a_sink():
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    tmp = need("NATSBRIDGE_TMP")
    data = pattern(50000)
    env = nb.smartsend("s", [("big one.bin", data, "binary")], fileserver_url=webdav,
                       fileserver_upload_handler=nb.http_put_upload, size_threshold=100, is_publish=False)
    got = nb.smartreceive(env, download_to=tmp, fileserver_url=webdav)
    assert got == [("big one.bin", tmp + "/big%20one.bin", "binary")], got
    assert read(tmp + "/big%20one.bin") == data
    chunks = []
    got = nb.smartreceive(env, download_to=lambda payload: chunks.append, fileserver_url=webdav)
    assert b"".join(chunks) == data and got[0][2] == "binary"


def test_plik_upload_with_the_helper_stand_in():
    helper = need("NATSBRIDGE_HELPER_URL")
    data = pattern(5000)
    result = nb.plik_upload(helper, "photo 1.png", data)
    assert result["url"] == "%s/file/%s/%s/photo%%201.png" % (helper, result["uploadid"], result["fileid"]), result
    assert nb.download(result["url"], len(data)) == data


def test_smartsend_uploads_with_plik_by_default():
    helper = need("NATSBRIDGE_HELPER_URL")
    data = pattern(3000)
    env = nb.smartsend("s", [("scan.bin", data, "binary")], fileserver_url=helper, size_threshold=1000, is_publish=False)
    assert env.payloads[0].data.startswith(helper + "/file/"), env.payloads[0].data
    assert nb.smartreceive(env, fileserver_url=helper) == [("scan.bin", data, "binary")]


def test_transient_failures_are_retried():
    helper = need("NATSBRIDGE_HELPER_URL")
    path = "/flaky/2/%s" % unique("f")
    assert nb.download(helper + path, 1000, "sha256:" + nb.sha256_hex(pattern(1000)), **FAST) == pattern(1000)
    assert http_count(helper, path) == 3, "two 503s, then 200"
    path = "/status/429/%s" % unique("f")
    e = raises("download", nb.download, helper + path, 10, None, None, 3, dataname="payloads[0] (x)", **FAST)
    assert http_count(helper, path) == 3, "max_retries attempts in all"
    assert e.at == "payloads[0] (x)" and helper + path in str(e) and "429" in str(e), str(e)
    path = "/status/500/%s" % unique("f")
    raises("download", nb.download, helper + path, 10, max_retries=5, **FAST)
    assert http_count(helper, path) == 5


def test_connection_failures_are_retried_then_reported():
    closed = need("NATSBRIDGE_CLOSED_URL")
    e = raises("download", nb.download, closed + "/x.bin", 10, max_retries=3, dataname="payloads[2] (x.bin)", **FAST)
    assert "3 attempt" in str(e) and closed in str(e), str(e)
    helper = need("NATSBRIDGE_HELPER_URL")
    path = "/short/2000/%s" % unique("f")
    e = raises("download", nb.download, helper + path, 2000, max_retries=4, **FAST)
    assert http_count(helper, path) == 4, "a body cut short is a transient failure"
    assert "early" in str(e), str(e)


def test_permanent_failures_are_not_retried():
    helper = need("NATSBRIDGE_HELPER_URL")
    for code in (404, 403):
        path = "/status/%d/%s" % (code, unique("f"))
        e = raises("download", nb.download, helper + path, 10, dataname="payloads[0] (a.bin)", **FAST)
        assert http_count(helper, path) == 1 and str(code) in str(e) and helper + path in str(e), str(e)
    path = "/bytes/100/%s" % unique("f")
    e = raises("size_mismatch", nb.download, helper + path, 99, dataname="payloads[1] (b.bin)", **FAST)
    assert e.at == "payloads[1] (b.bin)" and http_count(helper, path) == 1
    path = "/bytes/100/%s" % unique("f")
    raises("size_mismatch", nb.download, helper + path, 101, **FAST)
    assert http_count(helper, path) == 1
    path = "/bytes/100/%s" % unique("f")
    e = raises("checksum_mismatch", nb.download, helper + path, 100, "sha256:" + "0" * 64, **FAST)
    assert http_count(helper, path) == 1 and helper + path in str(e)


def test_a_rewindable_sink_is_retried_a_callback_is_not():
    helper = need("NATSBRIDGE_HELPER_URL")
    tmp = need("NATSBRIDGE_TMP")
    path = "/drop-once/20000/%s" % unique("f")
    f = open(tmp + "/rewound.bin", "wb")
    try:
        assert nb.download(helper + path, 20000, "sha256:" + nb.sha256_hex(pattern(20000)), f, **FAST) == 20000
    finally:
        f.close()
    assert read(tmp + "/rewound.bin") == pattern(20000) and http_count(helper, path) == 2
    path = "/drop-once/20000/%s" % unique("f")
    chunks = []
    e = raises("download", nb.download, helper + path, 20000, None, chunks.append, **FAST)
    assert http_count(helper, path) == 1, "bytes already given to a callback cannot be taken back"
    assert "1 attempt" in str(e), str(e)


def test_smartreceive_reports_a_bad_link_naming_the_payload_and_url():
    helper = need("NATSBRIDGE_HELPER_URL")
    url = helper + "/status/404/" + unique("gone")
    env = nb.MessageEnvelope([nb.MessagePayload("gone.bin", "binary", "link", "none", 5, url)])
    e = raises("download", nb.smartreceive, env.to_json(), allowed_hosts=["127.0.0.1:" + helper.rsplit(":", 1)[1]], **FAST)
    assert "payloads[0] (gone.bin)" == e.at and url in str(e), str(e)


def test_urls_are_refused_clearly():
    e = raises("link_refused", nb.download, "ftp://example.org/x.bin", 1)
    assert "ftp://example.org/x.bin" in str(e)
    raises("invalid_input", nb.download, "http://127.0.0.1:notaport/x", 1)
    raises("invalid_input", nb.NatsClient, "ws://127.0.0.1:4222")
    assert nb.parse_url("https://h/x", "http", 443) == ("https", "", "h", 443, "/x")
    assert nb.parse_url("nats://u:p@[::1]:4333", "nats", 4222) == ("nats", "u:p", "::1", 4333, "/")


def test_upload_failures_name_the_url():
    closed = need("NATSBRIDGE_CLOSED_URL")
    e = raises("upload", nb.http_put_upload, closed, "a.bin", b"x")
    assert closed[len("http://"):] in str(e), str(e)
    helper = need("NATSBRIDGE_HELPER_URL")
    e = raises("upload", nb.http_put_upload, helper, "a.bin", b"x")  # the helper has no PUT
    assert helper in str(e), str(e)


def test_link_file_names_are_plain_and_quote_free():
    # The same rule as the Rust SDKs (link_file_name): the URL is an address, the envelope
    # keeps the dataname.
    cases = [
        ("photo.png", "photo.png"),
        ("../a/b", "___a_b"),
        (".env", "_env"),
        ("back\\slash", "back_slash"),
        ('say "hi"\r\nX-Evil: 1', "say _hi___X-Evil: 1"),
        ("", "payload"),
    ]
    for dataname, want in cases:
        assert nb.link_file_name(dataname) == want, (dataname, nb.link_file_name(dataname))
