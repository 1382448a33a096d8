# Object Store links between this module (CPython) and the std SDK's `natsbridge` CLI
# (the binary NATSBRIDGE_SERVE_FILES names), over the suite's JetStream nats-server: the
# std sender's `--upload object-store` read here, and this module's uploads read by
# `natsbridge listen`. Without the binary every test here fails, saying what to set.

import os
import subprocess
import time

import nats_bridge as nb
from nbtest import need, pattern, unique


def _cli():
    binary = os.getenv("NATSBRIDGE_SERVE_FILES")
    if not binary:
        raise AssertionError("NATSBRIDGE_SERVE_FILES is not set: point it at the `natsbridge` binary, whose "
                             "send and listen commands these tests run")
    return binary


def test_std_sender_object_store_link_is_read_here():
    binary = _cli()
    url = need("NATSBRIDGE_NATS_URL")
    bucket = unique("stdob").replace(".", "_")
    data = pattern(3 * 1000 * 1000 + 17)  # 23 chunks of 128 KiB, the last one short
    path = os.path.join(need("NATSBRIDGE_TMP"), bucket + ".bin")
    with open(path, "wb") as f:
        f.write(data)
    c = nb.NatsClient(url).connect()
    try:
        subject = unique("std.obj")
        c.subscribe(subject)
        c.flush()
        subprocess.run([binary, "send", subject, "--file", path, "--upload", "object-store", "--bucket", bucket,
                        "--server", url], check=True, capture_output=True, timeout=60)
        msg = c.wait_msg(10)
        assert msg is not None, "the std sender's envelope did not arrive"
        env = nb.MessageEnvelope.from_json(msg.data)
        p = env.payloads[0]
        assert p.transport == "link" and p.data.startswith("nats-object-store://%s/" % bucket), p.data
        got = nb.smartreceive(msg, allowed_buckets=[bucket])
        assert got == [(bucket + ".bin", data, "binary")], "the std sender's object came back different"
        pieces = []
        assert nb.read_object(c, p.data, len(data), p.metadata["checksum"], pieces.append) == len(data)
        assert max(len(x) for x in pieces) <= 4096
    finally:
        c.close()


def test_object_store_link_sent_here_is_read_by_std_listen():
    binary = _cli()
    url = need("NATSBRIDGE_NATS_URL")
    bucket = unique("pyob").replace(".", "_")
    folder = os.path.join(need("NATSBRIDGE_TMP"), bucket)
    subject = unique("py.obj")
    data = pattern(2 * 1000 * 1000 + 5)
    listen = subprocess.Popen([binary, "listen", subject, "--dir", folder, "--count", "1", "--allow-link-bucket", bucket,
                               "--server", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = listen.stderr.readline()
        assert line.startswith("listening on"), line
        time.sleep(0.3)  # its SUB reaches the server
        c = nb.NatsClient(url).connect()
        try:
            env = nb.smartsend(subject, [("scan 1.bin", data, "binary"), ("note", "hi", "text")], client=c,
                               fileserver_url="nats-object-store://" + bucket)
            c.flush()
        finally:
            c.close()
        assert env.payloads[0].data == "nats-object-store://%s/%s/scan%%201.bin" % (bucket, env.payloads[0].id)
        out, err = listen.communicate(timeout=60)
        assert listen.returncode == 0 and "failed" not in err, (out, err)
        with open(os.path.join(folder, "scan 1.bin"), "rb") as f:
            assert f.read() == data, "std listen saved other bytes"
        with open(os.path.join(folder, "note"), "rb") as f:
            assert f.read() == b"hi"
    finally:
        if listen.poll() is None:
            listen.kill()
            listen.wait()


def test_std_listen_refuses_a_bucket_it_was_not_given():
    binary = _cli()
    url = need("NATSBRIDGE_NATS_URL")
    bucket = unique("pyob").replace(".", "_")
    folder = os.path.join(need("NATSBRIDGE_TMP"), bucket)
    subject = unique("py.obj")
    listen = subprocess.Popen([binary, "listen", subject, "--dir", folder, "--count", "1", "--server", url],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert listen.stderr.readline().startswith("listening on")
        time.sleep(0.3)
        c = nb.NatsClient(url).connect()
        try:
            nb.smartsend(subject, [("b.bin", pattern(2000), "binary")], client=c, fileserver_url="nats-object-store://" + bucket,
                         size_threshold=1000)
            c.flush()
        finally:
            c.close()
        out, err = listen.communicate(timeout=60)
        assert "link_refused" in err and bucket in err, (out, err)
        assert not os.path.exists(os.path.join(folder, "b.bin"))
    finally:
        if listen.poll() is None:
            listen.kill()
            listen.wait()
