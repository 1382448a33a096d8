# The asyncio API (nats_bridge_aio.py) on both interpreters against the suite's real
# nats-server (JetStream) and nginx WebDAV: publish/subscribe as an async iterator,
# request/respond, JetStream publish with ack, smartsend/smartreceive direct and by link
# (in memory and streamed to a folder), a 5 MB link streamed to a file, and the loop
# running on while a slow file server dribbles a link. The small cases are in
# test_aio_small.py (imported here), which the small-heap run takes alone.

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

import nats_bridge as nb
import nats_bridge_aio as aio
from nbtest import FAST, GOLDEN_DIR, need, pattern, read, unique
from test_aio_small import (  # noqa: F401  (mpy_runner and pytest run what is imported here)
    run,
    test_a_multi_megabyte_link_streams_to_a_file,
    test_a_slow_file_server_does_not_stall_the_loop,
    test_connect_errors_are_clear,
    test_jetstream_publish_with_ack_and_dedup,
    test_publish_subscribe_as_an_async_iterator,
    test_request_with_timeout_and_no_responders,
    test_the_one_call_form_and_a_corrupted_link,
)


def test_smartsend_smartreceive_direct_and_link_while_the_loop_runs():
    async def main():
        c = await aio.connect(need("NATSBRIDGE_NATS_URL"))
        webdav = need("NATSBRIDGE_WEBDAV_URL")
        ticks = [0]

        async def ticker():
            # Every turn of the loop, not every millisecond: a loopback download can take less
            # than one, and the test is whether the download gives the loop its turns at all.
            while True:
                ticks[0] += 1
                await asyncio.sleep(0)

        t = asyncio.create_task(ticker())
        try:
            subject = unique("aio.smart")
            sub = await c.subscribe(subject)
            big = pattern(60000)
            data = [("msg", "hello", "text"), ("cfg", {"a": 1}, "dictionary"), ("big.bin", big, "binary")]
            env = await aio.smartsend(subject, data, client=c, fileserver_url=webdav,
                                      fileserver_upload_handler=aio.http_put_upload, size_threshold=1000)
            assert [p.transport for p in env.payloads] == ["direct", "direct", "link"], env.payloads
            assert env.payloads[2].data.startswith(webdav), env.payloads[2].data
            msg = await sub.next(5)
            before = ticks[0]
            got = await aio.smartreceive(msg, fileserver_url=webdav, **FAST)
            assert got == [("msg", "hello", "text"), ("cfg", {"a": 1}, "dictionary"), ("big.bin", big, "binary")], [g[0] for g in got]
            assert ticks[0] > before, "the loop stood still during the download"
            folder = need("NATSBRIDGE_TMP")
            got = await aio.smartreceive(msg, fileserver_url=webdav, download_to=folder, **FAST)
            assert read(got[2][1]) == big, got[2][1]
            # the policy of the blocking API: a host nobody allowed is refused before any fetch
            try:
                await aio.smartreceive(msg)
                raise AssertionError("no error")
            except nb.NatsBridgeError as e:
                assert e.kind == nb.KIND_LINK_REFUSED, e
        finally:
            t.cancel()
            await c.close()
    run(main())


def test_the_packages_ship_the_asyncio_module():
    # pip (pyproject.toml) and mip (package.json) install nats_bridge_aio.py (and the typed
    # payloads' runtime nats_bridge_typed.py) beside nats_bridge.py
    sdk = need("NATSBRIDGE_ROOT") + "/sdk-python"
    urls = nb.loads(read(sdk + "/package.json"))["urls"]
    for name in ("nats_bridge.py", "nats_bridge_aio.py", "nats_bridge_typed.py"):
        assert [name, name] in urls, urls
    assert 'py-modules = ["nats_bridge", "nats_bridge_aio", "nats_bridge_typed"]' in read(sdk + "/pyproject.toml").decode("utf-8")


def test_the_readme_example_runs():
    # sdk-python/README.md's asyncio program as it stands, its three settings lines pointed
    # at this run's servers (helper_server.py is the Plik stand-in); it asserts as it goes.
    text = read(need("NATSBRIDGE_ROOT") + "/sdk-python/README.md").decode("utf-8")
    start = text.index("```python", text.index("## Use: asyncio")) + len("```python")
    code = text[start:text.index("```", start)]
    table = nb.smartreceive(read(GOLDEN_DIR + "/canonical/table_arrow_ipc.msg"))[0][1]
    settings = {"NATS_URL": repr(need("NATSBRIDGE_NATS_URL")), "FILESERVER_URL": repr(need("NATSBRIDGE_HELPER_URL")),
                "TABLE_IPC": repr(table)}
    lines = []
    for line in code.split("\n"):
        name = line.split(" = ")[0]
        if name in settings:
            line = "%s = %s" % (name, settings.pop(name))
        lines.append(line)
    assert not settings, "the README example no longer sets %s" % list(settings)
    exec("\n".join(lines), {"__name__": "readme_example"})
