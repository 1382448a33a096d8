# Request and response with reply_to: a service answers on the subject the request
# names, keeping its correlation_id and naming the request in reply_to_msg_id.
#     python3 request_reply.py    or        micropython request_reply.py
import os
import sys

sys.path.insert(0, sys.argv[0].rsplit("/", 2)[0] if sys.argv[0].count("/") > 1 else "..")
import nats_bridge  # noqa: E402

NATS_URL = os.getenv("NATS_URL") or "nats://localhost:4222"
client = nats_bridge.NatsClient(NATS_URL).connect()


def serve(msg):
    request = nats_bridge.MessageEnvelope.from_json(msg.data)
    question = nats_bridge.smartreceive(request)[0][1]
    nats_bridge.smartsend(request.reply_to, [("answer", "42 (you asked: %s)" % question, "text")],
                          client=client, nats_url=NATS_URL, msg_purpose="ACK",
                          correlation_id=request.correlation_id, reply_to_msg_id=request.msg_id)


client.subscribe("service.ask", serve)
inbox = "replies.%s" % nats_bridge.uuid4()
client.subscribe(inbox)
request = nats_bridge.smartsend("service.ask", [("question", "the answer?", "text")], client=client,
                                nats_url=NATS_URL, reply_to=inbox)

reply = client.wait_msg(5)
while reply is not None and reply.subject != inbox:
    reply = client.wait_msg(5)
answer = nats_bridge.MessageEnvelope.from_json(reply.data)
assert answer.correlation_id == request.correlation_id and answer.reply_to_msg_id == request.msg_id
print("reply:", nats_bridge.smartreceive(answer)[0][1])
client.close()
