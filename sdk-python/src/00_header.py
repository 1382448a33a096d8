"""nats_bridge: the NATSBridge wire contract (version 1) for CPython and MicroPython.

One file, nothing imported that a small board lacks. smartsend() and smartreceive()
move lists of (dataname, data, type) over NATS with its own socket client
(NatsClient), small payloads inside the envelope and large ones through a file server
(plik_upload, http_put_upload, download). It decodes the JSON envelope
published as a NATS message body into plain classes (MessageEnvelope, MessagePayload)
and writes them back in the canonical form every NATSBridge SDK produces byte for
byte (WIRE.md section 8).

    env = smartsend("chat.room1", [("message", "hello", "text")], nats_url=url)
    for dataname, data, payload_type in smartreceive(msg): ...

    env = MessageEnvelope.from_json(msg_body)    # bytes, bytearray or str
    env.payloads[0].dataname
    body = env.to_json()                         # canonical JSON text

Every refusal raises NatsBridgeError, whose .kind is one of ERROR_KINDS (KIND_NOT_JSON,
KIND_WRONG_TYPE, ...: the schema's x-error-kinds) and whose .at names the place, e.g.
"payloads[0].size" ("" for the whole message).
"""

try:
    import json
except ImportError:  # old MicroPython ports only have ujson
    import ujson as json


class NatsBridgeError(Exception):
    """A message this module refuses: .kind says why (one of ERROR_KINDS, the schema's
    x-error-kinds, as the KIND_* constants), .at says where."""

    def __init__(self, kind, at, detail):
        if kind not in ERROR_KINDS:
            raise ValueError("%r is not an error kind (ERROR_KINDS)" % (kind,))
        super().__init__("%s at %s: %s" % (kind, at or "the message", detail))
        self.kind = kind
        self.at = at
        self.detail = detail
