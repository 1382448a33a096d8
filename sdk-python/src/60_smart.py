# smartsend and smartreceive, the original NATSBridge API: a list of
# (dataname, data, type) in, an envelope on NATS out, and back again.
#
# smartsend keeps one connection per NATS URL and reuses it for later calls; payloads
# at or above size_threshold, or too large for the server's max_payload, go to the file
# server first (link), the rest travel inside the envelope (direct, base64).

_CLIENTS = {}  # nats_url -> connected NatsClient, reused by smartsend
_SENDER_ID = []  # the UUID of this process, made on first use
_BYTES_TYPES = ("image", "audio", "video", "binary")


def default_sender_id():
    """The sender_id of this process: a UUID v4 made once."""
    if not _SENDER_ID:
        _SENDER_ID.append(uuid4())
    return _SENDER_ID[0]


def connection(nats_url="nats://localhost:4222"):
    """The shared NatsClient of nats_url, connected (again) when it is not."""
    client = _CLIENTS.get(nats_url)
    if client is None:
        client = _CLIENTS[nats_url] = NatsClient(nats_url)
    if not client.is_connected():
        client.connect()
    return client


def close_connections():
    """Closes every connection smartsend opened."""
    for url in list(_CLIENTS):
        _CLIENTS.pop(url).close()


def serialize(data, payload_type, at=""):
    """The serialized bytes of data for payload_type (WIRE.md section 4): text as
    UTF-8, dictionary as canonical JSON (a nats_bridge_typed value: its checked to_json),
    table as Arrow IPC stream bytes (bytes, or a
    pyarrow Table on CPython), the others as the bytes given. NatsBridgeError
    wrong_type/bad_value naming the payload at."""
    if payload_type == "text":
        if not isinstance(data, str):
            raise _wrong_type(data, at, "a str for a text payload")
        return data.encode("utf-8")
    if payload_type == "dictionary":
        if isinstance(data, _Struct):  # a typed payload (nats_bridge_typed): its checked canonical JSON
            try:
                return data.to_json().encode("utf-8")
            except NatsBridgeError as e:
                raise NatsBridgeError(e.kind, at + "." + e.at if at and e.at else at or e.at, e.detail)
        if not isinstance(data, (dict, list, tuple)):
            raise _wrong_type(data, at, "a dict or list for a dictionary payload")
        try:
            return dumps(data).encode("utf-8")
        except TypeError as e:
            raise NatsBridgeError(KIND_WRONG_TYPE, at, "not JSON data: %s" % e)
    if payload_type == "table" and hasattr(data, "schema") and hasattr(data, "to_batches"):
        import pyarrow  # a pyarrow Table: only where pyarrow is installed

        sink = pyarrow.BufferOutputStream()
        writer = pyarrow.ipc.new_stream(sink, data.schema)
        writer.write_table(data)
        writer.close()
        return sink.getvalue().to_pybytes()
    # The bytes types, and any other type the schema lets senders send (a variant's new one):
    # its data is the bytes given (WIRE.md section 4).
    if payload_type == "table" or payload_type in _BYTES_TYPES or payload_type in PayloadType.SENT:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise _wrong_type(data, at, "bytes for a %s payload" % payload_type)
        return data if isinstance(data, (bytes, bytearray)) else bytes(data)
    raise NatsBridgeError(KIND_BAD_VALUE, at, "unknown payload type %r (one of %s)" % (payload_type, ", ".join(PayloadType.SENT)))


PYARROW_MIN = (14, 0, 1)  # older pyarrow runs code from crafted IPC data (CVE-2023-47248)


def _pyarrow():
    # The pyarrow module where it is installed (CPython), else None.
    try:
        import pyarrow
        import pyarrow.ipc  # noqa: F401
    except ImportError:
        return None
    return pyarrow


def _version_tuple(text):
    # (14, 0, 1) of "14.0.1" or "14.0.1.dev3"; missing or odd parts count as 0.
    out = []
    for part in (str(text).split(".") + ["0", "0", "0"])[:3]:
        digits = ""
        for c in part:
            if c not in "0123456789":
                break
            digits += c
        out.append(int(digits or "0"))
    return tuple(out)


def _safe_pyarrow(at):
    # pyarrow to decode a table from a sender, refused when missing or too old.
    pyarrow = _pyarrow()
    if pyarrow is None:
        raise NatsBridgeError(KIND_INVALID_INPUT, at, "arrow_tables=True needs pyarrow, which is not installed")
    version = getattr(pyarrow, "__version__", "0")
    if _version_tuple(version) < PYARROW_MIN:
        raise NatsBridgeError(KIND_INVALID_INPUT, at, "pyarrow %s runs code from crafted Arrow IPC data (CVE-2023-47248): install pyarrow>=14.0.1, or leave arrow_tables off to get bytes" % version)
    return pyarrow


def deserialize(raw, payload_type, at="", arrow_tables=None):
    """The value a receiver gets back for the serialized bytes raw: text as str,
    dictionary and jsontable as the JSON value, every other type as bytes; a table
    as a pyarrow Table only when arrow_tables is True (pyarrow 14.0.1 or later, else
    NatsBridgeError invalid_input): by default a table from a sender stays bytes, and
    no Arrow decoder sees untrusted data unless asked."""
    if payload_type == "text":
        try:
            return raw.decode("utf-8")
        except UnicodeError:
            raise NatsBridgeError(KIND_BAD_VALUE, at, "a text payload that is not UTF-8")
    if payload_type == "dictionary" or payload_type == "jsontable":
        try:
            return loads(raw)
        except NatsBridgeError as e:
            raise NatsBridgeError(KIND_NOT_JSON, at, "a %s payload that is not JSON: %s" % (payload_type, e.detail))
    if payload_type == "table" and arrow_tables:
        pyarrow = _safe_pyarrow(at)
        try:
            return pyarrow.ipc.open_stream(pyarrow.py_buffer(bytes(raw))).read_all()
        except pyarrow.ArrowException as e:
            raise NatsBridgeError(KIND_BAD_VALUE, at, "a table payload that is not Arrow IPC stream data: %s" % e)
    return raw if isinstance(raw, bytes) else bytes(raw)


def _envelope_parts(env, big):
    # The canonical JSON of env as a list of bytes, with the base64 bytes big[i] as the
    # data of payload i (whose .data is "" meanwhile): a large payload is neither
    # quoted, joined nor encoded again on the way to the socket. The pieces are found
    # with list.index (in C), not a loop over every piece.
    out = []
    env._write(out)
    parts = []
    start = 0
    k = -1
    j = 0
    while True:
        try:
            j = out.index(',"data":', j) + 1  # j: the placeholder "" of payload k
        except ValueError:
            break
        k += 1
        if k in big:
            parts.append(("".join(out[start:j]) + '"').encode("utf-8"))
            parts.append(big[k])
            out[j] = '"'
            start = j
    parts.append("".join(out[start:]).encode("utf-8"))
    return parts


def _filled(cls, values, subject, nats_url):
    # values with every x-sender-fills key of cls the caller left empty filled in.
    for f in cls.FIELDS:
        fill = f[6]
        if fill is None or fill == "computed" or values.get(f[0]):
            continue
        if fill == "uuid4":
            values[f[0]] = uuid4()
        elif fill == "timestamp":
            values[f[0]] = utc_timestamp()
        elif fill == "subject":
            values[f[0]] = subject
        elif fill == "sender_id":
            values[f[0]] = default_sender_id()
        elif fill == "broker_url":
            values[f[0]] = nats_url
    return values


def _payload_fields(extra, at):
    # The checked payload fields of a data item's fourth element: a dict of payload
    # fields (the settable keys of MessagePayload but dataname and payload_type, which
    # the item gives), or else, as in the original API, the payload's metadata.
    names = [k for k in MessagePayload.settable() if k != "dataname" and k != "payload_type"]
    for key in extra:
        if key not in names:
            extra = {"metadata": extra}
            break
    values = _settable(MessagePayload, extra, at + ".")
    if "metadata" in values:
        values["metadata"] = dict(values["metadata"])  # smartsend adds the checksum
    return values


def smartsend(subject, data, nats_url="nats://localhost:4222", fileserver_url="http://localhost:8080",
              fileserver_upload_handler=plik_upload, size_threshold=SIZE_THRESHOLD, is_publish=True, client=None,
              jetstream=False, fileserver_token=None, payload_ids=None, max_payload=None, **fields):
    """Sends data, a list of (dataname, data, type) or (dataname, data, type, dict),
    as one envelope on subject and returns its MessageEnvelope.

    type is text, dictionary, table, image, audio, video or binary. The dict is
    either payload fields ({"id": ..., "metadata": {...}}, any settable key of
    MessagePayload) or, when it holds another key, the payload's metadata.
    fields are the envelope's fields (MessageEnvelope.settable(): correlation_id,
    msg_purpose="chat", sender_name="NATSBridge", receiver_name, receiver_id,
    reply_to, reply_to_msg_id, msg_id, timestamp, sender_id, metadata, and whatever
    the schema adds): None or "" for a filled one (ids, timestamp, send_to=subject,
    sender_id, broker_url=nats_url) means "fill it"; an unknown name or a value of the
    wrong type is NatsBridgeError invalid_input naming it.

    A payload of size_threshold bytes or more is uploaded with
    fileserver_upload_handler(fileserver_url, dataname, bytes, payload_id,
    fileserver_token) (plik_upload or http_put_upload, or your own returning a dict
    with "url"; with fileserver_url "nats-object-store://BUCKET" and no handler given,
    object_store_handler(client): the JetStream Object Store over the NATS connection) and sent as a link; so are the largest direct ones while the envelope
    exceeds the server's max_payload. With fileserver_url None such an envelope fails
    before anything is published. reply_to is also the NATS reply subject.
    jetstream=True publishes with Nats-Msg-Id and waits for the stream's ack.
    is_publish=False only builds the envelope. client is a connected NatsClient to
    use instead of the shared one of nats_url: smartsend then returns once the frame
    is written, as NatsClient.publish does (client.flush() waits for the server); the
    one-call form, without client, flushes before it returns. msg_id, timestamp, sender_id and
    payload_ids (a list) fix what is otherwise generated. Errors: NatsBridgeError
    naming the payload, subject, field or URL.
    """
    if not isinstance(data, (list, tuple)):
        raise _wrong_type(data, "data", "a list of (dataname, data, type)")
    if payload_ids is not None and len(payload_ids) != len(data):
        raise NatsBridgeError(KIND_BAD_VALUE, "payload_ids", "%d ids for %d payloads" % (len(payload_ids), len(data)))
    values = _filled(MessageEnvelope, _settable(MessageEnvelope, fields, ""), subject, nats_url)
    one_call = is_publish and client is None  # flushes before returning: nothing reported sent is lost
    if one_call:
        client = connection(nats_url)
    if fileserver_upload_handler is plik_upload and isinstance(fileserver_url, str) and fileserver_url.startswith(OBJECT_STORE_SCHEME):
        fileserver_upload_handler = object_store_handler(client if client is not None else connection(nats_url))
    if max_payload is None:
        max_payload = client.max_payload if client is not None else DEFAULT_MAX_PAYLOAD
    raws = []
    payloads = []
    for i in range(len(data)):
        item = data[i]
        at = "data[%d]" % i
        if not isinstance(item, (list, tuple)) or len(item) not in (3, 4) or not isinstance(item[0], str) or not isinstance(item[2], str):
            raise NatsBridgeError(KIND_WRONG_TYPE, at, "expected (dataname, data, type[, fields]), got %r" % (item,))
        extra = item[3] if len(item) == 4 else {}
        if not isinstance(extra, dict):
            raise _wrong_type(extra, at, "a dict of payload fields or metadata")
        at = "data[%d] (%s)" % (i, item[0])
        pvalues = _payload_fields(extra, at)
        raw = serialize(item[1], item[2], at)
        if isinstance(item[1], _Struct):  # a typed payload: its type (the $defs key) in the metadata
            pvalues.setdefault("metadata", {})["schema_type"] = getattr(type(item[1]), "TYPE_NAME", "") or type(item[1]).__name__
        if payload_ids is not None and not pvalues.get("id"):
            pvalues["id"] = payload_ids[i]
        raws.append(raw)
        payloads.append(MessagePayload(item[0], item[2], "direct", "base64", len(raw), "", **_filled(MessagePayload, pvalues, subject, nats_url)))
    env = MessageEnvelope(payloads, **values)

    big = {}  # payload index -> base64 bytes of a direct payload

    def to_link(i):
        p = payloads[i]
        if i in big:
            raws[i] = binascii.a2b_base64(big.pop(i))
        if not fileserver_url:
            raise NatsBridgeError(KIND_TOO_LARGE, "data[%d] (%s)" % (i, p.dataname), "%d bytes need the link transport, and no fileserver_url is given" % p.size)
        result = fileserver_upload_handler(fileserver_url, p.dataname, raws[i], p.id, fileserver_token)
        if not isinstance(result, dict) or not isinstance(result.get("url"), str):
            raise NatsBridgeError(KIND_UPLOAD, fileserver_url, "the upload handler returned no url for %s: %r" % (p.dataname, result))
        p.transport, p.encoding, p.data = "link", "none", result["url"]
        p.metadata["checksum"] = "sha256:" + sha256_hex(raws[i])
        raws[i] = None

    for i in range(len(payloads)):
        if payloads[i].size >= size_threshold:
            to_link(i)
        else:
            big[i] = _b64_bytes(raws[i])
            raws[i] = None
    while True:
        body = _envelope_parts(env, big)
        total = 0
        for part in body:
            total += len(part)
        if total <= max_payload:
            break
        largest = -1
        for i in range(len(payloads)):
            if payloads[i].transport == "direct" and (largest < 0 or payloads[i].size > payloads[largest].size):
                largest = i
        if largest < 0:
            raise NatsBridgeError(KIND_TOO_LARGE, subject, "the envelope is %d bytes with every payload linked; the server takes %d" % (total, max_payload))
        body = None
        to_link(largest)
    raws = None
    if is_publish:
        if jetstream:
            client.jetstream_publish(subject, body, env.msg_id)
        else:
            client.publish(subject, body, env.reply_to)
            if one_call:
                client.flush()
    body = None
    for i in big:
        payloads[i].data = big[i].decode("ascii")
    return env


def _envelope_of(msg):
    if isinstance(msg, MessageEnvelope):
        return msg
    if isinstance(msg, dict):
        return MessageEnvelope.from_dict(msg)
    if not isinstance(msg, (str, bytes, bytearray, memoryview)) and hasattr(msg, "data"):
        msg = msg.data
    return MessageEnvelope.from_json(msg)


# The loopback's spellings, one host for the allow rule (as in the std SDK): a sender on the
# original's default fileserver_url "http://localhost:8080" reaches a receiver allowing 127.0.0.1.
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _allows(entry, scheme, host, port):
    # Whether the allow entry "host[:port]" (no port: the scheme's default port) is host:port.
    h, p = _split_host_port(entry.strip(), 443 if scheme == "https" else 80, entry)
    h = h.lower()
    return (h == host or (h in _LOOPBACK and host.lower() in _LOOPBACK)) and p == port


def _check_link(p, at, fileserver_url, allowed_hosts, allow_any_host, max_download):
    # A link is a URL chosen by the sender: fetch only http(s) URLs that http_request can
    # send as they are checked, from an allowed host and port, and nothing over the cap
    # (the download itself never takes more than the declared size).
    where = "%s (%s)" % (at, p.dataname)
    try:
        scheme, host, port, _ = http_url(p.data, KIND_LINK_REFUSED)
    except NatsBridgeError as e:
        raise NatsBridgeError(e.kind, where, "%r: %s" % (p.data, e.detail))
    if not allow_any_host:
        entries = list(allowed_hosts or ())
        if fileserver_url:
            server = http_url(fileserver_url)
            entries.append("%s:%d" % (("[%s]" % server[1]) if ":" in server[1] else server[1], server[2]))
        if not [e for e in entries if _allows(e, scheme, host, port)]:
            raise NatsBridgeError(KIND_LINK_REFUSED, where, "%r: %s port %d is not allowed (allowed: %s; pass fileserver_url, allowed_hosts=[\"host[:port]\"] or allow_any_host=True)" % (p.data, host, port, ", ".join(entries) or "none"))
    if p.size > max_download:
        raise NatsBridgeError(KIND_TOO_LARGE, where, "%s: %d bytes are over the cap of %d" % (p.data, p.size, max_download))


def _object_client(p, at, allowed_buckets, allow_any_bucket, max_download, client, msg):
    # The NATS connection to read an Object Store link over (client=, else the one msg
    # came on), once the link is one: from an allowed bucket, not over the cap.
    where = "%s (%s)" % (at, p.dataname)
    try:
        bucket = object_store_link(p.data)[0]
    except NatsBridgeError as e:
        raise NatsBridgeError(e.kind, where, e.detail)
    if not allow_any_bucket and bucket not in (allowed_buckets or ()):
        raise NatsBridgeError(KIND_LINK_REFUSED, where, "%r: the Object Store bucket %r is not allowed (allowed: %s; pass allowed_buckets=[\"BUCKET\"] or allow_any_bucket=True)" % (p.data, bucket, ", ".join(allowed_buckets or ()) or "none"))
    if p.size > max_download:
        raise NatsBridgeError(KIND_TOO_LARGE, where, "%s: %d bytes are over the cap of %d" % (p.data, p.size, max_download))
    client = client if client is not None else getattr(msg, "client", None)
    if not isinstance(client, NatsClient):
        raise NatsBridgeError(KIND_INVALID_INPUT, where, "%s: an Object Store link is read over NATS: pass client= (a connected NatsClient), or the NatsMsg itself" % p.data)
    return client


def _check_in_memory(env, download_to, max_in_memory):
    # Before any download: the link payloads that would be held in memory, counted each
    # time they are named, stay within max_in_memory bytes.
    total = 0
    for i in range(len(env.payloads)):
        p = env.payloads[i]
        if p.transport == "link" and download_to is None:
            total += p.size
            if total > max_in_memory:
                raise NatsBridgeError(KIND_TOO_LARGE, "payloads[%d] (%s)" % (i, p.dataname), "the link payloads up to this one total %d bytes, over the in-memory budget of %d (max_in_memory=; or stream them with download_to=)" % (total, max_in_memory))


def _os():
    try:
        import os
    except ImportError:
        import uos as os
    return os


def _exists(os, path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _local_name(dataname):
    # The link file name (no "/", no leading dot, no control characters) percent-encoded,
    # cut to 200 characters (file systems take 255 bytes) between two escapes.
    name = quote_path(link_file_name(dataname))
    if len(name) > 200:
        name = name[:200]
        i = name.rfind("%", len(name) - 2)
        if i >= 0:
            name = name[:i]
    return name


def _unused_path(os, folder, dataname):
    # folder/name, or name-2.ext, name-3.ext, ... when it exists (as the CLI numbers them).
    name = _local_name(dataname)
    path = "%s/%s" % (folder, name)
    if not _exists(os, path):
        return path
    i = name.rfind(".")
    stem, ext = (name[:i], name[i:]) if i > 0 else (name, "")
    n = 2
    while _exists(os, "%s/%s-%d%s" % (folder, stem, n, ext)):
        n += 1
    return "%s/%s-%d%s" % (folder, stem, n, ext)


class _FileWriter:
    # A file's write (given each chunk as a view of the receive buffer, no copy) raising
    # NatsBridgeError io naming the file and the payload (where).

    def __init__(self, f, path, where):
        self.f = f
        self.path = path
        self.where = where

    def write(self, chunk):
        try:
            self.f.write(chunk)
        except OSError as e:
            raise NatsBridgeError(KIND_IO, self.where, "cannot write %s: %s" % (self.path, e))


def _download_to_folder(folder, p, where, fetch):
    # fetch(sink) downloads p into a hidden temporary file of folder; the file gets its
    # final name only once size and checksum are verified, never over an existing file,
    # and is removed after any failure. The final path is returned.
    os = _os()
    folder = folder.rstrip("/") or "/"
    temp = "%s/.natsbridge-%s.part" % (folder, uuid4())
    try:
        f = open(temp, "wb")
    except OSError as e:
        raise NatsBridgeError(KIND_IO, where, "cannot create %s: %s" % (temp, e))

    done = False
    try:
        fetch(_FileWriter(f, temp, where))
        f.close()
        path = _unused_path(os, folder, p.dataname)
        try:
            os.rename(temp, path)
        except OSError as e:
            raise NatsBridgeError(KIND_IO, where, "cannot rename %s to %s: %s" % (temp, path, e))
        done = True
        return path
    finally:
        if not done:
            f.close()
            try:
                os.remove(temp)
            except OSError:
                pass


def smartreceive(msg, fileserver_download_handler=None, max_retries=MAX_RETRIES, base_delay=BASE_DELAY_MS, max_delay=MAX_DELAY_MS,
                 download_to=None, arrow_tables=None, fileserver_url=None, allowed_hosts=None, allow_any_host=False,
                 max_download=MAX_DOWNLOAD_BYTES, with_envelope=False, max_in_memory=MAX_IN_MEMORY_BYTES,
                 allowed_buckets=None, allow_any_bucket=False, client=None):
    """The payloads of a received envelope as a list of (dataname, data, type); with
    with_envelope=True, (envelope, that list), the MessageEnvelope holding every
    field of the schema as an attribute (env.payloads[i] the payloads' fields).

    msg is a dict, JSON text (str or bytes), a MessageEnvelope, or a message object
    with .data (NatsMsg, nats-py's Msg). Direct payloads are decoded from base64 (or
    the legacy json/none encodings) and their size checked; link payloads are
    downloaded (download(), retried with backoff) and their size and checksum
    verified. fileserver_download_handler(url, max_retries, base_delay, max_delay,
    correlation_id), when given, returns the bytes instead. download_to streams link
    payloads instead of holding them: a folder path (data is then the file's path) or
    a function(payload) returning a file-like object or callable (data is then what
    it returned); a file is written under a hidden temporary name and gets its own
    (numbered name-2.ext, ... when taken: never over an existing file) only once its
    size and checksum are verified, and is removed after a failure. Tables come back
    as bytes, as pyarrow Tables only with arrow_tables=True (pyarrow>=14.0.1).

    Link payloads are fetched only from the host:port of fileserver_url and the
    entries "host[:port]" of allowed_hosts (no port: 80 for http, 443 for https; http
    and https only; allow_any_host=True trusts every sender), and only when their size
    is at most max_download bytes and the links held in memory (not streamed to
    download_to) total at most max_in_memory bytes, each naming counted (NatsBridgeError
    link_refused, too_large, before anything is fetched); redirects are not followed.
    URLs with spaces or control characters, user@ or backslashes in the host are
    link_refused. A custom fileserver_download_handler decides for itself.

    Object Store links (nats-object-store://BUCKET/PAYLOAD-ID/DATANAME, std senders with
    --upload object-store, smartsend to "nats-object-store://BUCKET") are read with
    read_object() over client (a connected NatsClient; default: the client msg came
    on, when msg is a NatsMsg), only from the buckets of allowed_buckets
    (allow_any_bucket=True: any the account reads), with the same caps, sinks and
    verification (plus the object's own size, chunk count and digest).
    Errors: NatsBridgeError naming the payload (payloads[i].data ...).
    """
    env = _envelope_of(msg)
    _check_in_memory(env, download_to, max_in_memory)
    out = []
    for i in range(len(env.payloads)):
        p = env.payloads[i]
        at = "payloads[%d]" % i
        if p.transport == "link":
            where = "%s (%s)" % (at, p.dataname)
            nats = None
            if isinstance(p.data, str) and p.data.startswith(OBJECT_STORE_SCHEME) and (fileserver_download_handler is None or download_to is not None):
                nats = _object_client(p, at, allowed_buckets, allow_any_bucket, max_download, client, msg)
            elif fileserver_download_handler is None or download_to is not None:
                _check_link(p, at, fileserver_url, allowed_hosts, allow_any_host, max_download)
            if download_to is not None:

                def fetch(sink):
                    if nats is not None:
                        read_object(nats, p.data, p.size, p.metadata.get("checksum"), sink, where)
                    else:
                        download(p.data, p.size, p.metadata.get("checksum"), sink, max_retries, base_delay, max_delay, where)
                    return sink

                if isinstance(download_to, str):
                    value = _download_to_folder(download_to, p, where, fetch)
                else:
                    value = fetch(download_to(p))
                out.append((p.dataname, value, p.payload_type))
                continue
            if fileserver_download_handler is not None:
                raw = fileserver_download_handler(p.data, max_retries, base_delay, max_delay, env.correlation_id)
                _verify(raw, p, at)
            elif nats is not None:
                raw = read_object(nats, p.data, p.size, p.metadata.get("checksum"), None, where)
            else:
                raw = download(p.data, p.size, p.metadata.get("checksum"), None, max_retries, base_delay, max_delay, where)
        elif p.encoding == "base64" or p.encoding == "arrow-ipc":
            raw = b64decode(p.data, at + ".data")
        else:  # json, none: the text itself
            raw = p.data.encode("utf-8")
        if p.transport != "link" and len(raw) != p.size:
            raise NatsBridgeError(KIND_SIZE_MISMATCH, at + ".size", "%s: the data is %d bytes, size says %d" % (p.dataname, len(raw), p.size))
        out.append((p.dataname, deserialize(raw, p.payload_type, at + ".data", arrow_tables), p.payload_type))
        raw = None
    return (env, out) if with_envelope else out


def _verify(raw, p, at):
    # A download handler's bytes against the payload's size and checksum.
    if len(raw) != p.size:
        raise NatsBridgeError(KIND_SIZE_MISMATCH, at + ".size", "%s: %s gave %d bytes, size says %d" % (p.dataname, p.data, len(raw), p.size))
    checksum = p.metadata.get("checksum")
    if checksum and not isinstance(checksum, str):
        raise NatsBridgeError(KIND_BAD_VALUE, at + ".metadata.checksum", "%s: the checksum is not a string" % p.dataname)
    if checksum and checksum != "sha256:" + sha256_hex(raw):
        raise NatsBridgeError(KIND_CHECKSUM_MISMATCH, at, "%s: %s gave bytes whose sha256 differs from %s" % (p.dataname, p.data, checksum))
