# The link transport against our own file server, `natsbridge serve-files`, started by
# run_all.py from the binary named by NATSBRIDGE_SERVE_FILES (with --upload-token and
# --max-upload-bytes). Without it every test here fails, saying what to set.

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb
from nbtest import need, pattern, raises


def server():
    if not os.getenv("NATSBRIDGE_SERVE_FILES_URL"):
        raise AssertionError("NATSBRIDGE_SERVE_FILES is not set: point it at the `natsbridge` binary that has "
                             "the serve-files command, so that run_all.py can start `natsbridge serve-files`")
    return need("NATSBRIDGE_SERVE_FILES_URL"), need("NATSBRIDGE_SERVE_FILES_TOKEN")


def test_plik_upload_and_download():
    url, token = server()
    data = pattern(120000)
    result = nb.plik_upload(url, "scan 1.png", data, "", token)
    assert result["url"] == "%s/file/%s/%s/scan%%201.png" % (url, result["uploadid"], result["fileid"]), result
    assert nb.download(result["url"], len(data), "sha256:" + nb.sha256_hex(data)) == data
    assert nb.download(result["url"], len(data)) == data, "not one-shot: a second download works"


def test_http_put_upload_and_download():
    url, token = server()
    data = pattern(70000)
    result = nb.http_put_upload(url, "put.bin", data, nb.uuid4(), token)
    assert nb.download(result["url"], len(data), "sha256:" + nb.sha256_hex(data)) == data


def test_smartsend_link_through_serve_files():
    url, token = server()
    text = "x" * 5000
    env = nb.smartsend("s", [("notes.txt", text, "text")], fileserver_url=url, fileserver_token=token,
                       size_threshold=1000, is_publish=False)
    assert env.payloads[0].transport == "link"
    assert nb.smartreceive(env.to_json(), fileserver_url=url) == [("notes.txt", text, "text")]


def test_uploads_without_the_token_are_refused():
    url, _ = server()
    e = raises("upload", nb.plik_upload, url, "a.bin", b"abc")
    assert "401" in str(e) and url in str(e), str(e)
    e = raises("upload", nb.http_put_upload, url, "a.bin", b"abc", "p1", "wrong-token")
    assert "401" in str(e), str(e)


def test_upload_over_the_limit_is_refused_with_413():
    url, token = server()
    limit = int(need("NATSBRIDGE_SERVE_FILES_MAX"))
    try:
        nb.http_put_upload(url, "big.bin", b"\x00" * (limit + 1), "p2", token)
        raise AssertionError("an upload over --max-upload-bytes was accepted")
    except nb.NatsBridgeError as e:
        # the server may answer 413 before reading the body, and close the connection
        assert e.kind == "upload", e  # a 413, or the connection closed before it


def test_missing_file_is_a_permanent_404():
    url, _ = server()
    e = raises("download", nb.download, url + "/file/nope/nope/x.bin", 3, base_delay=1, max_delay=5)
    assert "404" in str(e) and "1 attempt" in str(e), str(e)
