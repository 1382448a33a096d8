# Link payloads in a NATS JetStream Object Store bucket (nats-object-store://BUCKET/
# PAYLOAD-ID/DATANAME, as the std SDK writes them), over the plain NATS client: no HTTP
# file server. The layout is the Object Store's (NATS ADR-20), as async-nats writes it:
# the stream OBJ_<bucket> holds the object's info (JSON) on $O.<bucket>.M.<base64url of
# the name> and its chunks (128 KiB) on $O.<bucket>.C.<nuid>; the info's digest is
# "SHA-256=<base64url>". Reads are JetStream direct gets (a plain request; each chunk's
# body streamed into the sink, never held whole), verified against the info's size,
# chunk count and digest and the payload's size and checksum.

OBJECT_STORE_SCHEME = "nats-object-store://"
# Few names and short strings here: each is a qstr, and on a small heap the qstr pool that
# fills up grows by some 7 KB at once (JSON bodies are therefore format strings).
# Bucket names and nuids; text from a message is checked as bytes: on MicroPython each
# character a str yields is interned, for good, as a qstr.
_TOKEN_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def _is_token(text):
    return bool(text) and not [b for b in text.encode("utf-8") if b not in _TOKEN_BYTES]


def _b64url(data):
    # Base64url ("=" padded) of bytes, as str: the Object Store's names and digests.
    return _b64_bytes(data).decode("ascii").replace("+", "-").replace("/", "_")


def object_store_link(url, kind=KIND_LINK_REFUSED):
    """(bucket, object name) of nats-object-store://BUCKET/PAYLOAD-ID/DATANAME (the
    object is "PAYLOAD-ID/DATANAME", both percent-decoded). NatsBridgeError kind naming
    the URL for anything else: a bucket outside A-Z a-z 0-9 _ - (no wildcards, dots or
    spaces), a missing part, a broken escape, spaces or control characters."""
    if not isinstance(url, str) or not url.startswith(OBJECT_STORE_SCHEME):
        raise NatsBridgeError(kind, repr(url), "not a %s link" % OBJECT_STORE_SCHEME)
    parts = url[len(OBJECT_STORE_SCHEME):].split("/")
    out = []
    for part in parts[1:]:
        raw = part.encode("utf-8")
        text = bytearray()
        i = 0
        while i < len(raw):
            h = raw[i + 1:i + 3] if raw[i] == 0x25 else b""  # %XX
            if raw[i] == 0x25 and (len(h) != 2 or [b for b in h if b not in b"0123456789abcdefABCDEF"]):
                text = None
                break
            text.append(int(h.decode("ascii"), 16) if h else raw[i])
            i += 3 if h else 1
        try:
            out.append(bytes(text).decode("utf-8") if text is not None else None)
        except UnicodeError:
            out.append(None)
    if len(parts) != 3 or not _is_token(parts[0]) or not out[0] or out[1] is None or \
            [b for b in url.encode("utf-8") if b <= 0x20 or b == 0x7F]:
        raise NatsBridgeError(kind, url, "%r: not %sBUCKET/PAYLOAD-ID/DATANAME with a bucket of A-Z a-z 0-9 _ - and percent-encoded UTF-8 without spaces or control characters" % (url, OBJECT_STORE_SCHEME))
    return parts[0], "%s/%s" % (out[0], out[1])


def _direct_get(client, bucket, request, url, write=None):
    # One JetStream direct get on OBJ_<bucket> (request: the JSON text): the answer (its
    # body streamed to write when given), or None when the stream has no such message.
    api = "$JS.API.DIRECT.GET.OBJ_" + bucket
    try:
        msg = client.request(api, request.encode("utf-8"), None, None, write)
    except NatsBridgeError as e:
        if e.kind == KIND_NO_RESPONDERS:
            raise NatsBridgeError(KIND_DOWNLOAD, url, "no Object Store bucket %r answers direct gets on %s (no such bucket, or its stream lacks allow_direct)" % (bucket, client.url))
        raise NatsBridgeError(e.kind, url, "%s: %s" % (api, e.detail))
    if msg.status == "404":
        return None
    if msg.status:
        raise NatsBridgeError(KIND_JETSTREAM, url, "%s answered status %s %s" % (api, msg.status, msg.headers))
    return msg


def read_object(client, url, size=None, checksum=None, sink=None, dataname=""):
    """The bytes of the Object Store link url read over client (a connected
    NatsClient), or, with sink (an object with write() or a callable), their count,
    streamed there chunk by chunk (pieces of at most 1 KiB on MicroPython: a 5 MB
    object fits a small heap). Verified against the object's info (its name, bucket,
    size, chunk count and SHA-256 digest) and against size and checksum
    ("sha256:<hex>") when given. The bucket is not checked against an allow list here:
    smartreceive does that. Errors are NatsBridgeError naming the payload (dataname) or
    the URL: link_refused, download, bad_value, size_mismatch, checksum_mismatch, jetstream."""
    at = dataname or url
    bucket, name = object_store_link(url)
    want_hex = _want_hex(checksum, at)
    got = _direct_get(client, bucket, '{"last_by_subj":"$O.%s.M.%s"}' % (bucket, _b64url(name.encode("utf-8"))), url)
    if got is None:
        raise NatsBridgeError(KIND_DOWNLOAD, url, "no object %r in the bucket %r" % (name, bucket))
    try:
        info = loads(got.data)
    except NatsBridgeError as e:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info is not JSON: %s" % e.detail)
    if not isinstance(info, dict):
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info is not a JSON object")
    # the object info's fields, each checked: strings, then whole numbers
    keys = "name bucket nuid digest size chunks deleted options link".split(" ")
    fields = []
    for k in keys:  # (a loop: a comprehension is one more allocation on a fragmented heap)
        fields.append(info.get(k))
    for i in range(6):
        value = fields[i]
        if not isinstance(value, str if i < 4 else int) or isinstance(value, bool):
            raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info's %s is %r (name, bucket, nuid and digest are strings, size and chunks whole numbers)" % (keys[i], value))
    nuid, digest, n, chunks = fields[2], fields[3], fields[4], fields[5]
    if fields[6]:
        raise NatsBridgeError(KIND_DOWNLOAD, url, "the object %r was deleted" % name)
    if fields[0] != name or fields[1] != bucket:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info names %r in %r, not %r in %r" % (fields[0], fields[1], name, bucket))
    if not _is_token(nuid):
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info's nuid %r is not a NATS subject token" % nuid)
    if isinstance(fields[7], dict) and fields[7].get(keys[8]):
        raise NatsBridgeError(KIND_LINK_REFUSED, url, "the object is a link to another object, which is not followed")
    if n < 0 or chunks < 0 or (chunks == 0) != (n == 0) or chunks > n:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info's %d chunks do not add up to %d bytes" % (chunks, n))
    if size is not None and n != size:
        raise NatsBridgeError(KIND_SIZE_MISMATCH, url, "the object is %d bytes, the payload says %d" % (n, size))
    if not digest.startswith("SHA-256="):
        raise NatsBridgeError(KIND_BAD_VALUE, url, "unsupported object digest %r" % digest[:80])
    info = fields = keys = None
    write = _sink_writer(sink)[0] if sink is not None else None
    got = _Body(url, at, n, write)
    seq = 1
    for i in range(chunks):
        msg = _direct_get(client, bucket, '{"seq":%d,"next_by_subj":"$O.%s.C.%s"}' % (seq, bucket, nuid), url, got)
        if msg is None:
            raise NatsBridgeError(KIND_SIZE_MISMATCH, at, "%s: chunk %d of the %d the object info counts is missing (%d bytes came)" % (url, i + 1, chunks, got.n))
        found = _digits(msg.headers.get("Nats-Sequence", ""), "0123456789", 10)
        if found is None or found < seq:
            raise NatsBridgeError(KIND_JETSTREAM, url, "a direct get answered without a usable Nats-Sequence header: %r" % msg.headers)
        seq = found + 1
    got.finish(None)  # the size the object info gives (== the payload's, checked above)
    if "SHA-256=" + _b64url(got.digest()) != digest:
        raise NatsBridgeError(KIND_CHECKSUM_MISMATCH, at, "%s: the chunks' SHA-256 is not the object's digest %s" % (url, digest))
    return got.finish(want_hex)


def _js_request(client, subject, data, url, headers=None):
    # A JetStream API request or publish: its JSON answer, a dict without "error" (an
    # API answer of error code 404 comes back as None); upload errors naming url.
    try:
        msg = client.request(subject, data, None, headers)
        answer = loads(msg.data)
    except NatsBridgeError as e:
        raise NatsBridgeError(KIND_UPLOAD, url, "%s failed (is JetStream enabled?): %s" % (subject, e.detail))
    error = answer.get("error") if isinstance(answer, dict) else answer
    if isinstance(error, dict) and error.get("code") == 404:
        return None
    if error or not isinstance(answer, dict):
        raise NatsBridgeError(KIND_UPLOAD, url, "%s was refused: %r" % (subject, bytes(msg.data[:300])))
    return answer


def object_store_upload(client, bucket, dataname, data, payload_id="", chunk_size=131072):
    """Puts data (bytes) into the JetStream Object Store bucket over client, a
    connected NatsClient, as the std SDK does: the bucket's stream created when missing
    (OBJ_<bucket>, direct gets allowed), the object "PAYLOAD-ID/DATANAME" in chunks of
    chunk_size bytes (128 KiB, as async-nats writes them), each acknowledged, then its
    info. bucket may also be given as "nats-object-store://BUCKET". Returns {"status": 200,
    "uploadid": payload_id, "fileid": dataname, "url":
    "nats-object-store://BUCKET/PAYLOAD-ID/DATANAME"} (percent-encoded), the link every
    SDK of this edition reads. NatsBridgeError upload naming that URL on failure,
    invalid_input for a bucket outside A-Z a-z 0-9 _ -."""
    payload_id = payload_id or uuid4()
    if isinstance(bucket, str) and bucket.startswith(OBJECT_STORE_SCHEME):
        bucket = bucket[len(OBJECT_STORE_SCHEME):].rstrip("/")
    if not isinstance(bucket, str) or not _is_token(bucket):
        raise NatsBridgeError(KIND_INVALID_INPUT, "bucket", "%r: an Object Store bucket is A-Z a-z 0-9 _ - only" % (bucket,))
    url = "%s%s/%s/%s" % (OBJECT_STORE_SCHEME, bucket, quote_path(payload_id), quote_path(dataname))
    if _js_request(client, "$JS.API.STREAM.INFO.OBJ_" + bucket, b"", url) is None:
        _js_request(client, "$JS.API.STREAM.CREATE.OBJ_" + bucket, ('{"name":"OBJ_%s","subjects":["$O.%s.C.>","$O.%s.M.>"],"retention":"limits","storage":"file","discard":"new","num_replicas":1,"allow_rollup_hdrs":true,"allow_direct":true}' % (bucket, bucket, bucket)).encode("utf-8"), url)
    nuid = uuid4().replace("-", "")
    view = memoryview(data)
    chunks = 0
    for i in range(0, len(data), chunk_size):
        _js_request(client, "$O.%s.C.%s" % (bucket, nuid), bytes(view[i:i + chunk_size]), url)  # bytes: MicroPython joins no memoryview
        chunks += 1
    view = None
    name = "%s/%s" % (payload_id, dataname)
    info = '{"name":%s,"bucket":"%s","nuid":"%s","size":%d,"chunks":%d,"mtime":"%s","digest":"SHA-256=%s","options":{"max_chunk_size":%d}}' % (
        dumps(name), bucket, nuid, len(data), chunks, utc_timestamp(), _b64url(hashlib.sha256(data).digest()), chunk_size)
    _js_request(client, "$O.%s.M.%s" % (bucket, _b64url(name.encode("utf-8"))), info.encode("utf-8"), url, {"Nats-Rollup": "sub"})
    return {"status": 200, "uploadid": payload_id, "fileid": dataname, "url": url}


def object_store_handler(client):
    """A smartsend fileserver_upload_handler putting link payloads into the Object Store
    over client (a connected NatsClient): fileserver_url is then
    "nats-object-store://BUCKET". smartsend uses it by itself, over its own client, when
    fileserver_url names a bucket so and no other handler is given."""
    return lambda fileserver_url, dataname, data, payload_id="", token=None: object_store_upload(client, fileserver_url, dataname, data, payload_id)
