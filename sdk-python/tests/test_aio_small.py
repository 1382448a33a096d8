# The asyncio API's small cases, on both interpreters (test_aio.py imports them) and on a
# small MicroPython heap (run_all.py's small-heap run, the code in a ROMFS image, this module
# alone beside the SDK so the heap pays for no other test): publish/subscribe, request,
# JetStream, the one-call form and a corrupted link, connect errors, a slow file server
# while the loop ticks, and a 5 MB link streamed to a file.

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

try:
    import os
except ImportError:
    import uos as os

import nats_bridge as nb
import nats_bridge_aio as aio
from nbtest import FAST, need, pattern, unique


def run(coro):
    return asyncio.run(coro)


def test_publish_subscribe_as_an_async_iterator():
    async def main():
        c = await aio.connect(need("NATSBRIDGE_NATS_URL"))
        try:
            subject = unique("aio")
            sub = await c.subscribe(subject)
            for i in range(3):
                await c.publish(subject, "m%d" % i, headers={"X-N": i} if i == 2 else None)
            got = []

            async def take():
                async for msg in sub:
                    got.append(bytes(msg.data))
                    if len(got) == 3:
                        assert msg.headers == {"X-N": "2"}, msg.headers
                        break

            await asyncio.wait_for(take(), 5)
            assert got == [b"m0", b"m1", b"m2"], got
            try:
                await sub.next(0.2)
                raise AssertionError("a message that was never sent")
            except nb.NatsBridgeError as e:
                assert e.kind == nb.KIND_TIMEOUT, e
        finally:
            await c.close()
    run(main())


def test_request_with_timeout_and_no_responders():
    async def main():
        c = await aio.connect(need("NATSBRIDGE_NATS_URL"))
        try:
            subject = unique("aio.svc")
            sub = await c.subscribe(subject)

            async def serve():
                async for msg in sub:
                    await msg.respond(b"re:" + bytes(msg.data))

            task = asyncio.create_task(serve())
            reply = await c.request(subject, b"ping", timeout=2)
            assert reply.data == b"re:ping", reply
            task.cancel()
            try:
                await c.request(unique("aio.nobody"), b"x", timeout=2)
                raise AssertionError("no error")
            except nb.NatsBridgeError as e:
                assert e.kind == nb.KIND_NO_RESPONDERS, e
            await sub.unsubscribe()
            try:
                await c.request(subject, b"x", timeout=0.3)
                raise AssertionError("no error")
            except nb.NatsBridgeError as e:
                assert e.kind in (nb.KIND_TIMEOUT, nb.KIND_NO_RESPONDERS), e
        finally:
            await c.close()
    run(main())


def test_jetstream_publish_with_ack_and_dedup():
    async def main():
        c = await aio.connect(need("NATSBRIDGE_NATS_URL"))
        try:
            name = "AIO" + nb.uuid4()[:8]
            subject = "aio.js.%s" % name
            cfg = '{"name": "%s", "subjects": ["%s"], "storage": "memory"}' % (name, subject)
            created = nb.loads((await c.request("$JS.API.STREAM.CREATE." + name, cfg)).data)
            assert "error" not in created, created
            a = await c.jetstream_publish(subject, b"one", msg_id="id-1")
            b = await c.jetstream_publish(subject, b"one", msg_id="id-1")
            assert a["stream"] == name and a["seq"] == 1 and b.get("duplicate") is True, (a, b)
            try:
                await c.jetstream_publish(unique("aio.nostream"), b"x")
                raise AssertionError("no error")
            except nb.NatsBridgeError as e:
                assert e.kind == nb.KIND_NO_RESPONDERS, e
            await c.request("$JS.API.STREAM.DELETE." + name, b"")
        finally:
            await c.close()
    run(main())


def test_the_one_call_form_and_a_corrupted_link():
    async def main():
        url = need("NATSBRIDGE_NATS_URL")
        webdav = need("NATSBRIDGE_WEBDAV_URL")
        c = await aio.connect(url)
        try:
            subject = unique("aio.one")
            sub = await c.subscribe(subject)
            env = await aio.smartsend(subject, [("t", "one call", "text")], nats_url=url)
            msg = await sub.next(5)
            assert (await aio.smartreceive(msg)) == [("t", "one call", "text")]
            assert env.broker_url == url
        finally:
            await c.close()
            await aio.close_connections()
        env = await aio.smartsend(subject, [("b", pattern(300), "binary")], is_publish=False,
                                  fileserver_url=webdav, fileserver_upload_handler=aio.http_put_upload, size_threshold=10)
        env.payloads[0].metadata["checksum"] = "sha256:" + "0" * 64
        try:
            await aio.smartreceive(env.to_json(), fileserver_url=webdav, **FAST)
            raise AssertionError("no error")
        except nb.NatsBridgeError as e:
            assert e.kind == nb.KIND_CHECKSUM_MISMATCH, e
    run(main())


def test_connect_errors_are_clear():
    async def main():
        try:
            await aio.connect("nats://127.0.0.1:%s" % need("NATSBRIDGE_CLOSED_URL").rsplit(":", 1)[1], timeout=2)
            raise AssertionError("no error")
        except nb.NatsBridgeError as e:
            assert e.kind == nb.KIND_CONNECT, e
        try:
            await aio.connect(need("NATSBRIDGE_NATS_USER_URL"), user="alice", password="wrong", timeout=2)
            raise AssertionError("no error")
        except nb.NatsBridgeError as e:
            assert e.kind == nb.KIND_CONNECT and "refused" in e.detail, e
    run(main())


def test_a_slow_file_server_does_not_stall_the_loop():
    # helper_server.py's /drip sends 256 bytes every 100 ms (about 1.5 s in all, another
    # process); a task ticking every 10 ms must keep ticking through the download:
    # a blocking read would stop it for the whole transfer. Streamed to a sink that
    # counts (download checks the size and checksum), as a board would take it.
    n = 15 * 256
    checksum = "sha256:" + nb.sha256_hex(pattern(n))
    url = "%s/drip/%d/100/%s" % (need("NATSBRIDGE_HELPER_URL"), n, unique("drip"))
    got = []
    state = {"ticks": 0, "gap": 0, "last": nb._ticks_ms()}

    async def ticker():
        while True:
            await asyncio.sleep(0.01)
            state["gap"] = max(state["gap"], nb._ms_since(state["last"]))
            state["last"] = nb._ticks_ms()
            state["ticks"] += 1

    async def main():
        t = asyncio.create_task(ticker())
        try:
            start = nb._ticks_ms()
            count = await aio.download(url, n, checksum, lambda chunk: got.append(len(chunk)), **FAST)
            took = nb._ms_since(start)
        finally:
            t.cancel()
        assert count == n and sum(got) == n and len(got) >= 10, (count, got)
        assert took >= 1000, "the server did not dribble: %d ms" % took
        assert state["ticks"] >= took // 40, "%d ticks in %d ms" % (state["ticks"], took)
        assert state["gap"] < 400, "the loop stood still for %d ms during the download" % state["gap"]
    run(main())


def test_a_multi_megabyte_link_streams_to_a_file():
    size = int(need("NATSBRIDGE_LARGE_SIZE"))
    payload = nb.MessagePayload("large-aio.bin", "binary", "link", "none", size, need("NATSBRIDGE_LARGE_URL"),
                                id="p-1", metadata={"checksum": "sha256:" + need("NATSBRIDGE_LARGE_SHA256")})
    tmp = need("NATSBRIDGE_TMP")
    got = run(aio.smartreceive(nb.MessageEnvelope([payload]).to_json(), download_to=tmp, fileserver_url=need("NATSBRIDGE_WEBDAV_URL")))
    assert got[0][0] == "large-aio.bin" and got[0][1].startswith(tmp + "/large-aio"), got
    assert os.stat(got[0][1])[6] == size
    os.remove(got[0][1])
