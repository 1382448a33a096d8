# Link payloads in a NATS JetStream Object Store bucket (nats-object-store://BUCKET/
# PAYLOAD-ID/DATANAME, as the std SDK writes them), over the plain NATS client: no HTTP
# file server. The layout is the Object Store's (NATS ADR-20), as async-nats writes it:
# the stream OBJ_<bucket> holds the object's info (JSON) on $O.<bucket>.M.<base64url of
# the name> and its chunks (128 KiB) on $O.<bucket>.C.<nuid>; the info's digest is
# "SHA-256=<base64url>". Reads are JetStream direct gets (a plain request; each chunk's
# body streamed into the sink, never held whole), verified against the info's size,
# chunk count and digest and the payload's size and checksum.

OBJECT_STORE_SCHEME = "nats-object-store://"
OBJECT_CHUNK_SIZE = 128 * 1024  # as async-nats (the std SDK) writes objects
_BUCKET_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
_NUID_CHARS = _BUCKET_CHARS


def _unquote_path(segment):
    # The str a percent-encoded URL path segment stands for; None when an escape is
    # broken or the bytes are not UTF-8.
    out = bytearray()
    raw = segment.encode("utf-8")
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x25:  # %
            h = raw[i + 1:i + 3]
            if len(h) != 2 or [b for b in h if b not in b"0123456789abcdefABCDEF"]:
                return None
            out.append(int(h.decode("ascii"), 16))
            i += 3
        else:
            out.append(c)
            i += 1
    try:
        return bytes(out).decode("utf-8")
    except UnicodeError:
        return None


def _b64url(data):
    # Base64url ("=" padded) of bytes, as str: the Object Store's names and digests.
    return _b64_bytes(data).decode("ascii").replace("+", "-").replace("/", "_")


def _bucket_ok(bucket):
    return bool(bucket) and not [c for c in bucket if c not in _BUCKET_CHARS]


def object_store_link(url, kind=KIND_LINK_REFUSED):
    """(bucket, object name) of nats-object-store://BUCKET/PAYLOAD-ID/DATANAME (the
    object is "PAYLOAD-ID/DATANAME", both percent-decoded). NatsBridgeError kind naming
    the URL for anything else: a bucket outside A-Z a-z 0-9 _ - (no wildcards, dots or
    spaces), a missing part, a broken escape."""
    if not isinstance(url, str) or not url.startswith(OBJECT_STORE_SCHEME):
        raise NatsBridgeError(kind, repr(url), "not a %s link" % OBJECT_STORE_SCHEME)
    parts = url[len(OBJECT_STORE_SCHEME):].split("/")
    if len(parts) != 3 or not _bucket_ok(parts[0]):
        raise NatsBridgeError(kind, url, "%r: not %sBUCKET/PAYLOAD-ID/DATANAME with a bucket of A-Z a-z 0-9 _ -" % (url, OBJECT_STORE_SCHEME))
    payload_id, dataname = _unquote_path(parts[1]), _unquote_path(parts[2])
    if not payload_id or dataname is None or [c for c in url if ord(c) <= 0x20 or ord(c) == 0x7F]:
        raise NatsBridgeError(kind, url, "%r: the payload id and dataname must be percent-encoded UTF-8, without spaces or control characters" % url)
    return parts[0], "%s/%s" % (payload_id, dataname)


def _direct_get(client, bucket, request, url, write=None):
    # One JetStream direct get on OBJ_<bucket>: the answer (its body streamed to write
    # when given), or None when the stream has no such message.
    api = "$JS.API.DIRECT.GET.OBJ_%s" % bucket
    try:
        msg = client.request_streamed(api, dumps(request).encode("utf-8"), write)
    except NatsBridgeError as e:
        if e.kind == KIND_NO_RESPONDERS:
            raise NatsBridgeError(KIND_DOWNLOAD, url, "no Object Store bucket %r answers direct gets on %s (no such bucket, or its stream lacks allow_direct)" % (bucket, client.url))
        raise NatsBridgeError(e.kind, url, "%s: %s" % (api, e.detail))
    if msg.status == "404":
        return None
    if msg.status:
        raise NatsBridgeError(KIND_JETSTREAM, url, "%s answered status %s %s" % (api, msg.status, msg.headers))
    return msg


def _object_info(client, bucket, name, url, size):
    # The object's info, checked to be what an Object Store writes for this name and
    # to add up with the payload's size.
    got = _direct_get(client, bucket, {"last_by_subj": "$O.%s.M.%s" % (bucket, _b64url(name.encode("utf-8")))}, url)
    if got is None:
        raise NatsBridgeError(KIND_DOWNLOAD, url, "no object %r in the bucket %r" % (name, bucket))
    try:
        info = loads(got.data)
    except NatsBridgeError as e:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info is not JSON: %s" % e.detail)
    if not isinstance(info, dict):
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info is not a JSON object")
    for key, types in (("name", str), ("bucket", str), ("nuid", str), ("size", int), ("chunks", int), ("digest", str)):
        value = info.get(key)
        if not isinstance(value, types) or isinstance(value, bool):
            raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info's %s is %r, not a %s" % (key, value, "string" if types is str else "whole number"))
    if info.get("deleted"):
        raise NatsBridgeError(KIND_DOWNLOAD, url, "the object %r was deleted" % name)
    if info["name"] != name or info["bucket"] != bucket:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info names %r in %r, not %r in %r" % (info["name"], info["bucket"], name, bucket))
    if not info["nuid"] or [c for c in info["nuid"] if c not in _NUID_CHARS]:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info's nuid %r is not a NATS subject token" % info["nuid"])
    options = info.get("options")
    if isinstance(options, dict) and options.get("link"):
        raise NatsBridgeError(KIND_LINK_REFUSED, url, "the object is a link to another object, which is not followed")
    n, chunks = info["size"], info["chunks"]
    if n < 0 or chunks < 0 or (chunks == 0) != (n == 0) or chunks > n:
        raise NatsBridgeError(KIND_BAD_VALUE, url, "the object info's %d chunks do not add up to %d bytes" % (chunks, n))
    if size is not None and n != size:
        raise NatsBridgeError(KIND_SIZE_MISMATCH, url, "the object is %d bytes, the payload says %d" % (n, size))
    if not info["digest"].startswith("SHA-256="):
        raise NatsBridgeError(KIND_BAD_VALUE, url, "unsupported object digest %r" % info["digest"][:80])
    return info


def read_object(client, url, size=None, checksum=None, sink=None, dataname=""):
    """The bytes of the Object Store link url read over client (a connected
    NatsClient), or, with sink (an object with write() or a callable), their count,
    streamed there chunk by chunk (pieces of at most 1 KiB on MicroPython: a 5 MB
    object fits a 64 KiB heap). Verified against the object's info (size, chunk count,
    SHA-256 digest) and size and checksum ("sha256:<hex>") when given. The bucket is
    not checked against an allow list here: smartreceive does that. Errors are
    NatsBridgeError naming the payload (dataname) or the URL: link_refused,
    download, bad_value, size_mismatch, checksum_mismatch, jetstream."""
    at = dataname or url
    bucket, name = object_store_link(url)
    want_hex = _want_hex(checksum, at)
    info = _object_info(client, bucket, name, url, size)
    write = _sink_writer(sink)[0] if sink is not None else None
    got = _Body(url, at, info["size"], write)
    subject = "$O.%s.C.%s" % (bucket, info["nuid"])
    seq = 1
    for i in range(info["chunks"]):
        msg = _direct_get(client, bucket, {"seq": seq, "next_by_subj": subject}, url, got.take)
        if msg is None:
            raise NatsBridgeError(KIND_SIZE_MISMATCH, at, "%s: chunk %d of the %d the object info counts is missing (%d bytes came)" % (url, i + 1, info["chunks"], got.n))
        found = _digits(msg.headers.get("Nats-Sequence", ""), "0123456789", 10)
        if found is None or found < seq:
            raise NatsBridgeError(KIND_JETSTREAM, url, "a direct get answered without a usable Nats-Sequence header: %r" % msg.headers)
        seq = found + 1
    got.finish(None)  # the size the object info gives (== the payload's, checked above)
    if "SHA-256=" + _b64url(got.digest()) != info["digest"]:
        raise NatsBridgeError(KIND_CHECKSUM_MISMATCH, at, "%s: the chunks' SHA-256 is not the object's digest %s" % (url, info["digest"]))
    return got.finish(want_hex)


def _js_ack(client, subject, data, url, headers=None):
    # A JetStream publish waiting for the stream's ack; upload errors naming url.
    try:
        msg = client.request(subject, data, None, headers)
        ack = loads(msg.data)
    except NatsBridgeError as e:
        raise NatsBridgeError(KIND_UPLOAD, url, "publishing to %s failed: %s" % (subject, e.detail))
    if not isinstance(ack, dict) or "error" in ack or "stream" not in ack:
        raise NatsBridgeError(KIND_UPLOAD, url, "the stream refused the publish to %s: %r" % (subject, bytes(msg.data[:200])))


def _js_api(client, subject, request, url):
    # A JetStream API request's JSON answer (a dict); upload errors naming url.
    try:
        answer = loads(client.request(subject, dumps(request).encode("utf-8")).data)
    except NatsBridgeError as e:
        raise NatsBridgeError(KIND_UPLOAD, url, "%s failed (is JetStream enabled?): %s" % (subject, e.detail))
    if not isinstance(answer, dict):
        raise NatsBridgeError(KIND_UPLOAD, url, "%s answered %r" % (subject, answer))
    return answer


def _object_bucket(client, bucket, url):
    # Opens the stream of bucket, created as async-nats creates an Object Store bucket.
    answer = _js_api(client, "$JS.API.STREAM.INFO.OBJ_%s" % bucket, {}, url)
    error = answer.get("error")
    if not error:
        return
    if not isinstance(error, dict) or error.get("code") != 404:
        raise NatsBridgeError(KIND_UPLOAD, url, "cannot open the Object Store bucket %r: %r" % (bucket, error))
    config = {"name": "OBJ_%s" % bucket, "subjects": ["$O.%s.C.>" % bucket, "$O.%s.M.>" % bucket], "retention": "limits",
              "storage": "file", "discard": "new", "num_replicas": 1, "allow_rollup_hdrs": True, "allow_direct": True}
    answer = _js_api(client, "$JS.API.STREAM.CREATE.OBJ_%s" % bucket, config, url)
    if answer.get("error"):
        raise NatsBridgeError(KIND_UPLOAD, url, "cannot create the Object Store bucket %r: %r" % (bucket, answer["error"]))


def object_store_upload(client, bucket, dataname, data, payload_id="", chunk_size=OBJECT_CHUNK_SIZE):
    """Puts data (bytes) into the JetStream Object Store bucket (created when missing,
    as the std SDK creates it) over client, a connected NatsClient, as the object
    "PAYLOAD-ID/DATANAME" in chunks of chunk_size bytes, each acknowledged, then its
    info; returns {"status": 200, "uploadid": payload_id, "fileid": dataname, "url":
    "nats-object-store://BUCKET/PAYLOAD-ID/DATANAME"} (percent-encoded), the link every
    SDK of this edition reads. NatsBridgeError upload naming that URL on failure,
    invalid_input for a bucket outside A-Z a-z 0-9 _ -."""
    payload_id = payload_id or uuid4()
    if not isinstance(bucket, str) or not _bucket_ok(bucket):
        raise NatsBridgeError(KIND_INVALID_INPUT, "bucket", "%r: an Object Store bucket is A-Z a-z 0-9 _ - only" % (bucket,))
    url = "%s%s/%s/%s" % (OBJECT_STORE_SCHEME, bucket, quote_path(payload_id), quote_path(dataname))
    _object_bucket(client, bucket, url)
    nuid = uuid4().replace("-", "")
    subject = "$O.%s.C.%s" % (bucket, nuid)
    view = memoryview(data)
    chunks = 0
    for i in range(0, len(data), chunk_size):
        _js_ack(client, subject, bytes(view[i:i + chunk_size]), url)  # bytes: MicroPython joins no memoryview
        chunks += 1
    view = None
    name = "%s/%s" % (payload_id, dataname)
    info = {"name": name, "bucket": bucket, "nuid": nuid, "size": len(data), "chunks": chunks, "mtime": utc_timestamp(),
            "digest": "SHA-256=" + _b64url(hashlib.sha256(data).digest()), "options": {"max_chunk_size": chunk_size}}
    _js_ack(client, "$O.%s.M.%s" % (bucket, _b64url(name.encode("utf-8"))), dumps(info).encode("utf-8"), url, {"Nats-Rollup": "sub"})
    return {"status": 200, "uploadid": payload_id, "fileid": dataname, "url": url}


def object_store_handler(client):
    """A smartsend fileserver_upload_handler putting link payloads into the Object Store
    over client (a connected NatsClient): fileserver_url is then
    "nats-object-store://BUCKET". smartsend uses it by itself, over its own client, when
    fileserver_url names a bucket so and no other handler is given."""

    def upload(fileserver_url, dataname, data, payload_id="", token=None):
        if not isinstance(fileserver_url, str) or not fileserver_url.startswith(OBJECT_STORE_SCHEME):
            raise NatsBridgeError(KIND_INVALID_INPUT, "fileserver_url", "%r: the Object Store handler wants nats-object-store://BUCKET" % (fileserver_url,))
        return object_store_upload(client, fileserver_url[len(OBJECT_STORE_SCHEME):].rstrip("/"), dataname, data, payload_id)

    return upload
