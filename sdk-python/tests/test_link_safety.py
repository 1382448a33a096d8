# Link fetching is safe by default: a link is a URL chosen by whoever sent the message, so
# smartreceive fetches only http(s) links to allowed hosts (fileserver_url's host and
# allowed_hosts), follows no redirect, takes no more than the declared size nor the cap, and
# writes downloads only inside the folder given, whatever the dataname holds.

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb
from nbtest import FAST, http_count, need, pattern, raises, read, unique


def _link(url, size, dataname="f.bin"):
    return nb.MessageEnvelope([nb.MessagePayload(dataname, "binary", "link", "none", size, url)]).to_json()


def test_links_to_hosts_not_allowed_are_refused_without_a_request():
    helper = need("NATSBRIDGE_HELPER_URL")
    path = "/bytes/300/" + unique("host")
    msg = _link(helper + path, 300)
    e = raises("link_refused", nb.smartreceive, msg, **FAST)
    assert "127.0.0.1" in str(e) and "payloads[0] (f.bin)" == e.at, str(e)
    raises("link_refused", nb.smartreceive, msg, fileserver_url="http://files.example:8080", **FAST)
    raises("link_refused", nb.smartreceive, msg, allowed_hosts=["localhost", "files.example", "127.0.0.1"], **FAST)
    raises("link_refused", nb.smartreceive, msg, download_to=need("NATSBRIDGE_TMP"), **FAST)
    assert http_count(helper, path) == 0, "a refused link was fetched"
    want = [("f.bin", pattern(300), "binary")]
    assert nb.smartreceive(msg, fileserver_url=helper, **FAST) == want
    assert nb.smartreceive(msg, allowed_hosts=["files.example", "127.0.0.1:" + helper.rsplit(":", 1)[1]], **FAST) == want
    assert nb.smartreceive(msg, allow_any_host=True, **FAST) == want
    # localhost is the loopback's other spelling: the same host, on the same port only.
    port = helper.rsplit(":", 1)[1]
    assert nb.smartreceive(msg, allowed_hosts=["localhost:" + port], **FAST) == want
    assert nb.smartreceive(_link(helper.replace("127.0.0.1", "localhost") + path, 300), fileserver_url=helper, **FAST) == want
    raises("link_refused", nb.smartreceive, msg, allowed_hosts=["localhost:1", "127.0.0.2:" + port], **FAST)
    assert http_count(helper, path) == 5


def test_links_other_than_http_are_refused():
    for url in ["file:///etc/passwd", "ftp://127.0.0.1/x", "nats://127.0.0.1:4222/x"]:
        e = raises("link_refused", nb.smartreceive, _link(url, 10), allow_any_host=True, **FAST)
        assert url in str(e), str(e)


def test_redirects_are_not_followed():
    helper = need("NATSBRIDGE_HELPER_URL")
    path = "/status/302/" + unique("redirect")
    e = raises("download", nb.smartreceive, _link(helper + path, 10), fileserver_url=helper, **FAST)
    assert "HTTP 302" in str(e), str(e)
    assert http_count(helper, path) == 1, "a redirect is permanent: not retried, not followed"


def test_declared_size_over_the_cap_is_refused_and_a_longer_body_is_cut():
    helper = need("NATSBRIDGE_HELPER_URL")
    path = "/bytes/5000/" + unique("cap")
    e = raises("too_large", nb.smartreceive, _link(helper + path, 5000), fileserver_url=helper, max_download=4096, **FAST)
    assert "4096" in str(e), str(e)
    assert http_count(helper, path) == 0
    # The server sends 5000 bytes for a payload that declares 1000: refused at byte 1000.
    e = raises("size_mismatch", nb.smartreceive, _link(helper + path, 1000), fileserver_url=helper, **FAST)
    assert "1000" in str(e), str(e)
    got = []
    raises("size_mismatch", nb.smartreceive, _link(helper + path, 1000), fileserver_url=helper,
           download_to=lambda payload: got.append, **FAST)
    assert sum(len(c) for c in got) <= 1000, "more than the declared size reached the sink"


def test_downloads_to_a_folder_stay_inside_it_whatever_the_dataname():
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    tmp = need("NATSBRIDGE_TMP")
    folder = tmp + "/" + unique("inbox")
    os.mkdir(folder)
    outside_before = sorted(os.listdir(tmp))
    data = pattern(3000)
    hostile = ["../escape.bin", "/etc/natsbridge-abs.bin", "a\x00b.bin", "..", ".", "", "sub/../../x.bin", "..\\win.bin"]
    env = nb.smartsend("s", [(name, data, "binary") for name in hostile], fileserver_url=webdav,
                       fileserver_upload_handler=nb.http_put_upload, size_threshold=100, is_publish=False)
    got = nb.smartreceive(env, download_to=folder, fileserver_url=webdav)
    assert [g[0] for g in got] == hostile
    for name, path, _ in got:
        rest = path[len(folder) + 1:]
        assert path.startswith(folder + "/") and "/" not in rest and rest not in ("", ".", ".."), (name, path)
        assert read(path) == data, path
    assert sorted(os.listdir(tmp)) == outside_before, "something was written beside the folder"
    assert len(os.listdir(folder)) >= 4
