# Object Store links (nats-object-store://BUCKET/PAYLOAD-ID/DATANAME) against the suite's
# JetStream nats-server (NATSBRIDGE_NATS_URL): put by this module or by the std SDK
# (NATSBRIDGE_OBJECT_MSG, an envelope run_all.py recorded from `natsbridge send --upload
# object-store`), read back over plain NATS direct gets, on CPython and MicroPython; and
# hostile links and object infos (a bad bucket, info, chunk count, size or digest).

import hashlib

import nats_bridge as nb
from nbtest import is_micropython, need, pattern, raises, read, unique


def _client():
    return nb.NatsClient(need("NATSBRIDGE_NATS_URL")).connect()


def _bucket():
    return unique("ob").replace(".", "_")


def _link(url, data, name="obj.bin", checksum=None):
    if checksum is None:
        checksum = "sha256:" + nb.sha256_hex(data)
    return nb.MessagePayload(name, "binary", "link", "none", len(data), url, id="p-1", metadata={"checksum": checksum})


def _b64url(text):
    return nb.b64encode(text.encode("utf-8")).replace("+", "-").replace("/", "_")


def test_object_round_trip_in_memory_and_streamed_in_small_pieces():
    c = _client()
    try:
        bucket = _bucket()
        data = pattern(300000)  # three chunks of the std SDK's 128 KiB
        result = nb.object_store_upload(c, bucket, "résumé 1.bin", data, "payload-1")
        assert result["url"] == "nats-object-store://%s/payload-1/r%%C3%%A9sum%%C3%%A9%%201.bin" % bucket, result
        assert nb.object_store_link(result["url"]) == (bucket, "payload-1/résumé 1.bin")
        checksum = "sha256:" + nb.sha256_hex(data)
        assert nb.read_object(c, result["url"], len(data), checksum) == data
        pieces = []
        assert nb.read_object(c, result["url"], len(data), checksum, pieces.append) == len(data)
        assert b"".join(pieces) == data
        assert max([len(p) for p in pieces]) <= (1024 if is_micropython() else 4096), "a chunk was held whole"
        empty = nb.object_store_upload(c, bucket, "empty", b"", "payload-2")
        assert nb.read_object(c, empty["url"], 0, "sha256:" + nb.sha256_hex(b"")) == b""
    finally:
        c.close()


def test_smartsend_to_a_bucket_and_smartreceive_from_it():
    c = _client()
    try:
        bucket = _bucket()
        subject = unique("obj")
        c.subscribe(subject)
        text = "a long text, " * 200
        env = nb.smartsend(subject, [("report.txt", text, "text"), ("small", "direct", "text")], client=c,
                           fileserver_url="nats-object-store://" + bucket, size_threshold=1000)
        p = env.payloads[0]
        assert (p.transport, p.data) == ("link", "nats-object-store://%s/%s/report.txt" % (bucket, p.id)), repr(p)
        msg = c.wait_msg(5)
        assert msg is not None
        # the NatsMsg brings its connection: the link is read over it
        assert nb.smartreceive(msg, allowed_buckets=[bucket]) == [("report.txt", text, "text"), ("small", "direct", "text")]
        tmp = need("NATSBRIDGE_TMP") + "/" + bucket
        nb._os().mkdir(tmp)
        got = nb.smartreceive(msg.data, client=c, allowed_buckets=[bucket], download_to=tmp)
        assert got[0] == ("report.txt", tmp + "/report.txt", "text"), got
        assert read(tmp + "/report.txt") == text.encode("utf-8")
        # a handler given explicitly does the same
        env = nb.smartsend(subject, [("b", b"x" * 2000, "binary")], client=c, fileserver_url="nats-object-store://" + bucket,
                           fileserver_upload_handler=nb.object_store_handler(c), size_threshold=1000)
        assert nb.smartreceive(env.to_json(), client=c, allowed_buckets=[bucket]) == [("b", b"x" * 2000, "binary")]
    finally:
        c.close()


def test_object_links_are_read_only_from_allowed_buckets():
    c = _client()
    try:
        bucket = _bucket()
        data = pattern(5000)
        url = nb.object_store_upload(c, bucket, "a.bin", data)["url"]
        body = nb.MessageEnvelope([_link(url, data)]).to_json()
        e = raises("link_refused", nb.smartreceive, body, client=c)
        assert e.at == "payloads[0] (obj.bin)" and bucket in e.detail and "allowed_buckets" in e.detail, e
        raises("link_refused", nb.smartreceive, body, client=c, allowed_buckets=["other"])
        raises("link_refused", nb.smartreceive, body, client=c, allowed_hosts=[bucket], allow_any_host=True)
        e = raises("invalid_input", nb.smartreceive, body, allowed_buckets=[bucket])  # no NATS connection to read it over
        assert url in e.detail, e
        assert nb.smartreceive(body, client=c, allow_any_bucket=True)[0][1] == data
        raises("too_large", nb.smartreceive, body, client=c, allowed_buckets=[bucket], max_download=4999)
    finally:
        c.close()


def test_hostile_object_links_are_refused_before_anything_is_read():
    c = _client()
    try:
        for bad in ["nats-object-store://a*b/p/n", "nats-object-store://a>/p/n", "nats-object-store://a b/p/n",
                    "nats-object-store://a.b/p/n", "nats-object-store:///p/n", "nats-object-store://b/p",
                    "nats-object-store://b/p/n/x", "nats-object-store://b//n", "nats-object-store://b/p/%zz",
                    "nats-object-store://b/p/%C3", "nats-object-store://b/p/a\r\nPUB x 1"]:
            e = raises("link_refused", nb.object_store_link, bad)
            assert e.at == bad or bad in e.detail, e
            bucket = bad[len("nats-object-store://"):].split("/")[0]
            body = nb.MessageEnvelope([_link(bad, b"abc")]).to_json()
            e = raises("link_refused", nb.smartreceive, body, client=c, allowed_buckets=[bucket])
            assert e.at == "payloads[0] (obj.bin)", e
        raises("invalid_input", nb.object_store_upload, c, "a.b", "n", b"x")
        raises("invalid_input", nb.object_store_upload, c, "a*", "n", b"x")
    finally:
        c.close()


def _forge(c, bucket, name, info, chunks=()):
    # An object info (a dict, or raw bytes) and chunks written as a hostile sender could.
    nuid = info.get("nuid", "n1") if isinstance(info, dict) else "n1"
    for chunk in chunks:
        c.jetstream_publish("$O.%s.C.%s" % (bucket, nuid), chunk)
    body = info if isinstance(info, bytes) else nb.dumps(info).encode("utf-8")
    c.jetstream_publish("$O.%s.M.%s" % (bucket, _b64url(name)), body)
    return "nats-object-store://%s/%s" % (bucket, name)


def test_hostile_object_infos_and_chunks_are_clear_errors():
    c = _client()
    try:
        bucket = _bucket()
        nb.object_store_upload(c, bucket, "seed", b"s")  # creates the bucket's stream
        data = b"0123456789" * 30
        good = {"bucket": bucket, "nuid": "n1", "size": len(data), "chunks": 3,
                "digest": "SHA-256=" + nb.b64encode(hashlib.sha256(data).digest()).replace("+", "-").replace("/", "_")}

        def info(name, **changes):
            out = dict(good, name=name)
            out.update(changes)
            return out

        def check(kind, name, forged, chunks, want=data, checksum=None):
            url = _forge(c, bucket, name, forged, chunks)
            e = raises(kind, nb.read_object, c, url, len(want), checksum or ("sha256:" + nb.sha256_hex(want)), None, "payloads[0] (x)")
            assert e.at in ("payloads[0] (x)", url), e
            return e

        thirds = [data[:100], data[100:200], data[200:]]
        assert nb.read_object(c, _forge(c, bucket, "p/ok", info("p/ok"), thirds), len(data)) == data  # the forger gets it right
        check("bad_value", "p/notjson", b"{not json", [])
        check("bad_value", "p/array", b"[1, 2]", [])
        check("bad_value", "p/nosize", info("p/nosize", size="300"), [])
        check("bad_value", "p/othername", info("p/elsewhere", nuid="n2"), [])
        check("bad_value", "p/wildnuid", info("p/wildnuid", nuid="n1.>"), [])
        check("bad_value", "p/nochunks", info("p/nochunks", chunks=0), [])
        check("bad_value", "p/toomanychunks", info("p/toomanychunks", chunks=301), [])
        check("bad_value", "p/md5", info("p/md5", digest="MD5=abc"), [])
        e = check("size_mismatch", "p/bigger", info("p/bigger", size=10 ** 12), [])
        assert "payload says 300" in e.detail, e
        e = check("size_mismatch", "p/missing", info("p/missing", nuid="n3", chunks=4), thirds)
        assert "chunk 4 of the 4" in e.detail, e
        check("size_mismatch", "p/long", info("p/long", nuid="n4"), [data[:100], data[100:200], data[200:] + b"!"])
        check("size_mismatch", "p/short", info("p/short", nuid="n5"), [data[:100], data[100:200], data[200:299]])
        check("checksum_mismatch", "p/digest", info("p/digest", nuid="n6", digest=good["digest"][:-4] + "AAA="), thirds)
        check("checksum_mismatch", "p/changed", info("p/changed", nuid="n7"), [data[:100], b"X" * 100, data[200:]])
        check("checksum_mismatch", "p/checksum", info("p/checksum", nuid="n8"), thirds, data, "sha256:" + "0" * 64)
        check("download", "p/deleted", info("p/deleted", deleted=True), [])
        check("link_refused", "p/linked", info("p/linked", options={"link": {"bucket": "secrets", "name": "key"}}), [])
        e = raises("download", nb.read_object, c, "nats-object-store://%s/p/absent" % bucket, 3)
        assert "no object" in e.detail, e
        e = raises("download", nb.read_object, c, "nats-object-store://%s/p/x" % _bucket(), 3)
        assert "no Object Store bucket" in e.detail, e
        assert nb.read_object(c, "nats-object-store://%s/p/ok" % bucket, len(data)) == data, "the connection is still usable"
    finally:
        c.close()


def test_std_sender_object_link_streams_to_a_file():
    c = _client()
    try:
        tmp = need("NATSBRIDGE_TMP") + "/" + _bucket()
        nb._os().mkdir(tmp)
        size = int(need("NATSBRIDGE_LARGE_SIZE"))
        got = nb.smartreceive(read(need("NATSBRIDGE_OBJECT_MSG")), client=c, allowed_buckets=[need("NATSBRIDGE_OBJECT_BUCKET")], download_to=tmp)
        assert len(got) == 1 and got[0][0] == "large-object.bin" and got[0][1] == tmp + "/large-object.bin", got
        h = hashlib.sha256()
        f = open(got[0][1], "rb")
        try:
            n = 0
            while True:
                block = f.read(4096)
                if not block:
                    break
                n += len(block)
                h.update(block)
        finally:
            f.close()
        assert n == size and nb.binascii.hexlify(h.digest()).decode("ascii") == need("NATSBRIDGE_LARGE_SHA256")
    finally:
        c.close()
