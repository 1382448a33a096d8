# TLS on both interpreters against a real nats-server that requires TLS and an nginx https
# server, both with a certificate for "localhost" signed by a test CA that run_all.py makes
# with openssl: trusted, untrusted, the wrong host name, the explicit opt-out, https links.

import nats_bridge as nb
from nbtest import FAST, need, pattern, raises, unique


def _port():
    return int(need("NATSBRIDGE_TLS_URL").rsplit(":", 1)[1])


def _round_trip(c):
    subject = unique("tls")
    c.subscribe(subject)
    c.publish(subject, b"over TLS")
    msg = c.wait_msg(5)
    assert msg is not None and msg.data == b"over TLS", msg


def test_tls_url_with_the_test_ca_verifies_and_round_trips():
    c = nb.NatsClient("tls://localhost:%d" % _port(), tls_ca_file=need("NATSBRIDGE_TLS_CA")).connect()
    try:
        assert c.server_info.get("tls_required") is True, c.server_info
        _round_trip(c)
        assert c.request is not None
    finally:
        c.close()


def test_nats_url_to_a_server_that_requires_tls_upgrades():
    c = nb.NatsClient("nats://localhost:%d" % _port(), tls_ca_file=need("NATSBRIDGE_TLS_CA")).connect()
    try:
        _round_trip(c)
    finally:
        c.close()


def test_a_client_that_does_not_trust_the_ca_gets_a_connect_error():
    c = nb.NatsClient("tls://localhost:%d" % _port(), tls_ca_file=need("NATSBRIDGE_TLS_OTHER_CA"))
    e = raises(nb.KIND_CONNECT, c.connect)
    assert "TLS handshake with localhost failed" in e.detail and e.at == c.url, e
    assert not c.is_connected()


def test_the_default_trust_does_not_trust_the_test_ca():
    # CPython: the system store; MicroPython: no store, so a CA file or the opt-out is asked for.
    c = nb.NatsClient("tls://localhost:%d" % _port())
    e = raises(nb.KIND_CONNECT, c.connect)
    assert "TLS" in e.detail or "certificate" in e.detail, e


def test_the_host_name_is_checked():
    # the certificate names localhost only: 127.0.0.1 is another host to it
    c = nb.NatsClient("tls://127.0.0.1:%d" % _port(), tls_ca_file=need("NATSBRIDGE_TLS_CA"))
    raises(nb.KIND_CONNECT, c.connect)


def test_tls_verify_false_is_the_explicit_opt_out():
    c = nb.NatsClient("tls://127.0.0.1:%d" % _port(), tls_ca_file=need("NATSBRIDGE_TLS_OTHER_CA"), tls_verify=False).connect()
    try:
        _round_trip(c)
    finally:
        c.close()


def test_smartsend_over_tls_with_tls_defaults():
    url = "tls://localhost:%d" % _port()
    nb.tls_defaults(need("NATSBRIDGE_TLS_CA"))
    try:
        c = nb.NatsClient(url).connect()
        subject = unique("tls.smart")
        c.subscribe(subject)
        env = nb.smartsend(subject, [("t", "hello over TLS", "text")], nats_url=url)
        got = nb.smartreceive(c.wait_msg(5))
        assert got == [("t", "hello over TLS", "text")], got
        assert env.payloads[0].dataname == "t"
        c.close()
    finally:
        nb.close_connections()
        nb.tls_defaults()


def test_https_link_download_verified_and_refused():
    data = pattern(3000)
    name = unique("tls-link")
    nb.http_put_upload(need("NATSBRIDGE_WEBDAV_URL"), "f.bin", data, payload_id=name)
    url = "%s/%s/f.bin" % (need("NATSBRIDGE_HTTPS_URL"), name)
    nb.tls_defaults(need("NATSBRIDGE_TLS_CA"))
    try:
        got = nb.download(url, size=len(data), max_retries=1, **FAST)
        assert got == data, len(got)
        nb.tls_defaults(need("NATSBRIDGE_TLS_OTHER_CA"))
        e = raises(nb.KIND_DOWNLOAD, nb.download, url, size=len(data), max_retries=1, **FAST)
        assert "TLS handshake" in e.detail, e
    finally:
        nb.tls_defaults()
