# The small-payload and streaming cases, run again on a 64 KiB MicroPython heap with
# nats_bridge precompiled (run_all.py), as a microcontroller would run them: a few
# hundred bytes direct through NATS, and a multi-megabyte link payload streamed to a
# file in 1 KiB chunks (NATSBRIDGE_LARGE_URL, put on nginx by run_all.py).

import gc

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb
from nbtest import FAST, need, raises, unique


def _fresh_folder(what):
    # A new folder of NATSBRIDGE_TMP: each case may run alone, in a run of its own (run_all.py)
    path = "%s/%s" % (need("NATSBRIDGE_TMP"), unique(what))
    os.mkdir(path)
    return path


def test_small_payloads_round_trip_through_nats():
    c = nb.NatsClient(need("NATSBRIDGE_NATS_URL")).connect()
    try:
        subject = unique("small")
        c.subscribe(subject)
        data = [("t", "temperature 21.5 °C", "text"), ("cfg", {"led": True, "rate": 5}, "dictionary"), ("raw", b"\x00\x10\xff" * 20, "binary")]
        env = nb.smartsend(subject, data, client=c, nats_url=c.url)
        msg = c.wait_msg(5)
        assert msg is not None and nb.MessageEnvelope.from_json(msg.data) == env
        got = nb.smartreceive(msg)
        assert got[0] == data[0] and got[2] == data[2], got
        assert got[1][1] == {"led": True, "rate": 5}, got[1]
    finally:
        c.close()


def test_multi_megabyte_link_payload_streams_to_a_file():
    size = int(need("NATSBRIDGE_LARGE_SIZE"))
    payload = nb.MessagePayload("large.bin", "binary", "link", "none", size, need("NATSBRIDGE_LARGE_URL"),
                                id="p-1", metadata={"checksum": "sha256:" + need("NATSBRIDGE_LARGE_SHA256")})
    tmp = _fresh_folder("small-link")
    gc.collect()
    got = nb.smartreceive(nb.MessageEnvelope([payload]).to_json(), download_to=tmp, fileserver_url=need("NATSBRIDGE_WEBDAV_URL"))
    assert got == [("large.bin", tmp + "/large.bin", "binary")], got
    assert os.stat(tmp + "/large.bin")[6] == size
    os.remove(tmp + "/large.bin")


def test_multi_megabyte_object_store_link_streams_to_a_file():
    # issue 19 item 3: the std sender's 128 KiB chunks (run_all.py recorded its envelope)
    # come through a JetStream direct get in pieces of 1 KiB, never a whole chunk
    size = int(need("NATSBRIDGE_LARGE_SIZE"))
    tmp = _fresh_folder("small-object")
    f = open(need("NATSBRIDGE_OBJECT_MSG"), "rb")
    body = f.read()
    f.close()
    c = nb.NatsClient(need("NATSBRIDGE_NATS_URL")).connect()
    try:
        gc.collect()
        got = nb.smartreceive(body, client=c, allowed_buckets=[need("NATSBRIDGE_OBJECT_BUCKET")], download_to=tmp)
    finally:
        c.close()
    assert got == [("large-object.bin", tmp + "/large-object.bin", "binary")], got
    assert os.stat(tmp + "/large-object.bin")[6] == size
    os.remove(tmp + "/large-object.bin")


def test_small_link_upload_and_download():
    webdav = need("NATSBRIDGE_WEBDAV_URL")
    data = b"0123456789abcdef" * 64
    url = nb.http_put_upload(webdav, "small.bin", data)["url"]
    assert nb.download(url, len(data), "sha256:" + nb.sha256_hex(data)) == data


def test_download_retry_and_refusal():
    helper = need("NATSBRIDGE_HELPER_URL")
    assert len(nb.download(helper + "/flaky/1/" + unique("s"), 1000, None, None, **FAST)) == 1000
    raises("download", nb.download, helper + "/status/404/" + unique("s"), 10, **FAST)
    raises("size_mismatch", nb.download, helper + "/bytes/50/" + unique("s"), 49, **FAST)


def test_hostile_subjects_and_urls_are_refused_on_a_small_heap():
    # issue 14 items 1 and 2 on a board's heap (the full tests are in test_hostile_input.py)
    c = nb.NatsClient(need("NATSBRIDGE_NATS_URL"))
    for bad in ["a\tb", "a\r\nPUB x 1", "a b", "a\x7f"]:
        raises("invalid_input", c.publish, "ok", b"x", bad)  # refused before anything is sent
        raises("invalid_input", c.publish, bad, b"x")
    raises("invalid_input", nb.download, "http://127.0.0.1:1/a HTTP/1.1\r\nX: y", 1)
    raises("link_refused", nb.http_url, "http://127.0.0.1@evil/", "link_refused")
