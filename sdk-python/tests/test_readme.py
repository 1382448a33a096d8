# The Python examples of sdk-python/README.md and of the top README, run as written on both
# interpreters: only the ports of their URLs (and ca.pem, /sd) point at this run's servers.
# Where a block receives a message its text takes as given (msg, body), the test subscribes
# before the send and sets it; each hook names the line it goes before, so a block that no
# longer has that line fails here, and each test checks what the block left behind.

import nats_bridge as nb
from nbtest import need, pattern, read

try:
    import os
except ImportError:
    import uos as os

PRELUDE = "import nats_bridge\nfrom nats_bridge import *\n"


def _port(url):
    return url.rsplit(":", 1)[1]


def _block(readme, heading, nth=0):
    """The nth ```python block after heading in readme (a path under NATSBRIDGE_ROOT)."""
    text = read(need("NATSBRIDGE_ROOT") + "/" + readme).decode("utf-8")
    start = text.index(heading)
    for _ in range(nth + 1):
        start = text.index("```python", start) + len("```python")
    return text[start:text.index("```", start)]


def _run(code, replace, hooks, names):
    """Runs code with each (old, new) of replace applied and each (line prefix, code) of
    hooks inserted before the first line after the previous hook that starts with the
    prefix; names are the globals it starts with. Returns its globals."""
    for old, new in replace:
        assert old in code, "the README example no longer holds %r" % old
        code = code.replace(old, new)
    lines = []
    pending = list(hooks)
    for line in code.split("\n"):
        if pending and line.lstrip().startswith(pending[0][0]):
            lines.append(pending.pop(0)[1])
        lines.append(line)
    assert not pending, "the README example no longer has a line starting %r" % pending[0][0]
    scope = dict(names)
    try:
        exec(PRELUDE + "\n".join(lines), scope)
    finally:
        nb.close_connections()
    return scope


def _receiver(subject, url=None):
    """A connected NatsClient subscribed to subject (for the message a block takes as given)."""
    c = nb.NatsClient(url or need("NATSBRIDGE_NATS_URL")).connect()
    c.subscribe(subject)
    c.flush()
    return c


def _local(url_var):
    return "localhost:" + _port(need(url_var))


def _original_api(readme, heading, png, replace):
    rx = _receiver("/chat/room1")
    try:
        scope = _run(_block(readme, heading), [("localhost:4222", _local("NATSBRIDGE_NATS_URL"))] + replace,
                     [("for dataname, data, payload_type in", "msg = _rx.wait_msg(5)")],
                     {"_rx": rx, "png_bytes": png})
    finally:
        rx.close()
    assert scope["msg"] is not None, "no message on /chat/room1"
    return scope


def test_the_original_api_example():
    png = pattern(1200 * 1000)  # over the size threshold: a link through the Plik stand-in
    scope = _original_api("sdk-python/README.md", "## Use: the original API", png,
                          [("localhost:8080", _local("NATSBRIDGE_HELPER_URL"))])
    env = scope["env"]
    assert [p.transport for p in env.payloads] == ["direct", "direct", "link"], [p.transport for p in env.payloads]
    # the loop's last item: the photo, downloaded from the link and verified
    assert (scope["dataname"], scope["payload_type"]) == ("photo", "image")
    assert scope["data"] == png, len(scope["data"])


def test_the_top_readme_python_example():
    scope = _original_api("README.md", "**Python (MicroPython and CPython)**", b"", [])
    assert (scope["dataname"], scope["data"], scope["payload_type"]) == ("message", "Hello!", "text")
    assert scope["env"].send_to == "/chat/room1"


def test_the_object_store_example():
    png = pattern(1100 * 1000)
    download_dir = need("NATSBRIDGE_TMP") + "/readme-object-store"
    os.mkdir(download_dir)
    scope = _run(_block("sdk-python/README.md", "### Object Store links"),
                 [('download_to="/sd"', "download_to=%r" % download_dir)],
                 [("env = smartsend(", 'c.subscribe("files")'),
                  ("items = smartreceive(msg", "msg = c.wait_msg(5)\nbody = msg.data")],
                 {"url": need("NATSBRIDGE_NATS_URL"), "png": png})
    scope["c"].close()
    assert scope["env"].payloads[0].transport == "link"
    assert scope["env"].payloads[0].data.startswith("nats-object-store://natsbridge/"), scope["env"].payloads[0].data
    (name, path, kind), = scope["items"]  # the last call streamed it to a file in download_dir
    assert (name, kind) == ("scan.png", "image") and path.startswith(download_dir), (name, path)
    assert read(path) == png


def test_the_schema_fields_example():
    rx = _receiver("chat.room1")
    try:
        scope = _run(_block("sdk-python/README.md", "## Use: schema fields"), [],
                     [("env, payloads = nats_bridge.smartreceive(msg", "msg = _rx.wait_msg(5)")],
                     {"_rx": rx, "url": need("NATSBRIDGE_NATS_URL"), "png": b"\x89PNG", "my_id": nb.uuid4()})
    finally:
        rx.close()
    env = scope["env"]
    assert (env.msg_purpose, env.receiver_id) == ("ACK", "device-7"), (env.msg_purpose, env.receiver_id)
    assert scope["payloads"] == [("message", "hi", "text")], scope["payloads"]


def test_the_nats_client_example():
    # the user server (alice/s3cret, JetStream); the block's request needs a responder and its
    # JetStream publish a stream: both set up on its own client before they are used
    scope = _run(_block("sdk-python/README.md", "## Use: the NATS client"),
                 [("127.0.0.1:4222", "127.0.0.1:" + _port(need("NATSBRIDGE_NATS_USER_URL")))],
                 [("reply = c.request(", 'c.subscribe("service.time", lambda m: c.publish(m.reply, b"12:00"))'),
                  ("ack = c.jetstream_publish(",
                   'c.request("$JS.API.STREAM.CREATE.ORDERS", \'{"name": "ORDERS", "subjects": ["orders.>"]}\')')],
                 {})
    assert scope["reply"].data == b"12:00", scope["reply"]
    assert scope["ack"]["stream"] == "ORDERS" and scope["ack"]["seq"] == 1, scope["ack"]
    assert scope["msg"] is not None and scope["msg"].data == b"21.5", scope["msg"]


def test_the_tls_example():
    try:
        scope = _run(_block("sdk-python/README.md", "## Use: TLS"),
                     [("nats.example.org:4222", "localhost:" + _port(need("NATSBRIDGE_TLS_URL"))),
                      ('"ca.pem"', repr(need("NATSBRIDGE_TLS_CA")))],
                     [], {})
        c = scope["c"]
        assert c.server_info.get("tls_required") is True, c.server_info
        c.close()
        # tls_defaults: a connection naming no CA now verifies with it
        nb.NatsClient("tls://localhost:" + _port(need("NATSBRIDGE_TLS_URL"))).connect().close()
    finally:
        nb.tls_defaults()
