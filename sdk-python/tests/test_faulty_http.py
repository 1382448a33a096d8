# Downloads from a misbehaving file server (the `faulty-http` program of tests/support,
# started by run_all.py: NATSBRIDGE_FAULTY_URL serves the files of NATSBRIDGE_FAULTY_DIR):
# it stops in the middle of a download (down 1.2 s), truncates, announces a wrong
# Content-Length, or drips a byte every 200 ms. Each must end in data or a clear error.

import nats_bridge as nb
from nbtest import FAST, need, pattern, raises, unique


def _serve(mode, data):
    # Puts data in the server's folder; returns the URL serving it as mode, and its name.
    name = unique("f") + ".bin"
    f = open(need("NATSBRIDGE_FAULTY_DIR") + "/" + name, "wb")
    try:
        f.write(data)
    finally:
        f.close()
    return "%s/%s/%s" % (need("NATSBRIDGE_FAULTY_URL"), mode, name), name


def _requests(mode, name):
    status, _, body = nb.http_request("GET", "%s/count/%s/%s" % (need("NATSBRIDGE_FAULTY_URL"), mode, name))
    assert status == 200, status
    return int(body)


def test_a_server_that_stops_mid_download_is_retried_until_it_is_back():
    data = pattern(200000)
    url, name = _serve("stop-midway", data)
    got = nb.download(url, len(data), "sha256:" + nb.sha256_hex(data), max_retries=40, base_delay=50, max_delay=400)
    assert got == data
    assert _requests("stop-midway", name) >= 2, "the broken transfer was retried"


def test_a_truncated_body_is_retried_then_a_clear_error():
    url, name = _serve("truncated", pattern(30000))
    e = raises("download", nb.download, url, 30000, max_retries=3, dataname="cut.bin", **FAST)
    assert e.at == "cut.bin" and url in str(e), str(e)
    assert _requests("truncated", name) == 3, "one request per attempt"


def test_a_wrong_content_length_is_a_size_mismatch_at_once():
    url, name = _serve("wrong-length", pattern(5000))
    e = raises("size_mismatch", nb.download, url, 5000, max_retries=5, **FAST)
    assert "4999" in str(e), str(e)
    assert _requests("wrong-length", name) == 1, "not retried"


def test_a_dripping_server_times_out_instead_of_hanging():
    url, name = _serve("drip", pattern(1000))
    e = raises("download", nb.download, url, 1000, max_retries=2, timeout=0.8, min_rate=100, **FAST)
    assert "low-speed" in str(e), str(e)
    assert _requests("drip", name) == 2
