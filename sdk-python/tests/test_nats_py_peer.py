# nats_bridge against the official CPython client, nats-py, as a real peer on a real
# nats-server (NATSBRIDGE_NATS_URL): each side receives what the other sends. CPython only.

import asyncio

import nats
import nats_bridge as nb
from nbtest import need, pattern, unique


def test_nats_py_receives_what_smartsend_publishes():
    url = need("NATSBRIDGE_NATS_URL")
    subject = unique("peer.in")
    data = [("hello", "from nats_bridge", "text"), ("blob", pattern(5000), "binary")]

    async def main():
        nc = await nats.connect(url)
        sub = await nc.subscribe(subject)
        await nc.flush()
        env = await asyncio.get_running_loop().run_in_executor(
            None, lambda: nb.smartsend(subject, data, nats_url=url, reply_to="peer.reply"))
        msg = await sub.next_msg(timeout=5)
        await nc.close()
        return env, msg

    env, msg = asyncio.run(main())
    assert msg.reply == "peer.reply", msg.reply
    assert msg.data == env.to_json().encode("utf-8")
    assert nb.smartreceive(msg) == data, "smartreceive takes nats-py's Msg (.data)"


def test_nats_bridge_client_receives_what_nats_py_publishes_and_answers_its_request():
    url = need("NATSBRIDGE_NATS_URL")
    c = nb.NatsClient(url).connect()
    try:
        subject = unique("peer.out")
        service = unique("peer.svc")
        c.subscribe(subject)
        c.subscribe(service, lambda m: m.respond(b"ack:" + m.data))
        c.flush()
        body = nb.smartsend(subject, [("cfg", {"a": [1, "é"]}, "dictionary")], is_publish=False).to_json()

        async def main():
            nc = await nats.connect(url)
            await nc.publish(subject, body.encode("utf-8"), headers={"X-From": "nats-py"})
            await nc.flush()
            fut = asyncio.ensure_future(nc.request(service, b"ping", timeout=5))
            return nc, fut

        loop = asyncio.new_event_loop()
        nc, fut = loop.run_until_complete(main())
        msg = c.wait_msg(5)
        assert msg is not None and msg.headers.get("X-From") == "nats-py", msg
        assert nb.smartreceive(msg) == [("cfg", {"a": [1, "é"]}, "dictionary")]
        # answer the request while nats-py waits for it
        deadline = 50
        while not fut.done() and deadline:
            c.wait_msg(0.1)
            loop.run_until_complete(asyncio.sleep(0.01))
            deadline -= 1
        assert fut.done() and fut.result().data == b"ack:ping", "nats-py got no answer"
        loop.run_until_complete(nc.close())
        loop.close()
    finally:
        c.close()
