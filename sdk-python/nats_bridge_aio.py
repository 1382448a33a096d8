"""nats_bridge_aio: the asyncio form of nats_bridge, for CPython asyncio and MicroPython asyncio.

Copy it beside nats_bridge.py (it imports it: envelopes, checks and errors are shared).
Nothing here blocks the loop: NATS and HTTP go over asyncio streams.

    c = await nats_bridge_aio.connect("nats://127.0.0.1:4222")
    sub = await c.subscribe("chat.>")
    env = await nats_bridge_aio.smartsend("chat.room1", [("msg", "hi", "text")], client=c)
    async for msg in sub:
        for dataname, data, payload_type in await nats_bridge_aio.smartreceive(msg): ...

AsyncClient keeps its connection alive by itself (in the manner of mqtt_as): when the
server goes away it reconnects with jittered exponential backoff, restores its
subscriptions and sends what was published meanwhile, held in a buffer of at most
max_buffer bytes (NatsBridgeError reconnect_buffer_full when a publish does not fit).
Plain nats:// and http:// only (TLS: the blocking API).
"""

try:
    import asyncio
except ImportError:
    import uasyncio as asyncio

import nats_bridge as nb
from nats_bridge import NatsBridgeError

_CHUNK = nb._CHUNK


async def _wait(aw, timeout):
    # aw within timeout seconds, else asyncio.TimeoutError
    return await asyncio.wait_for(aw, timeout)


class AsyncMsg(nb.NatsMsg):
    """A received message (as NatsMsg); await msg.respond(data) answers it."""

    def respond(self, data):
        if not self.reply:
            raise NatsBridgeError(nb.KIND_INVALID_INPUT, self.subject, "the message has no reply subject")
        return self.client.publish(self.reply, data)


class AsyncSubscription:
    """An async iterator of the AsyncMsg of one subscription; holds at most max_pending
    messages not yet taken (the oldest is dropped beyond that, counted in .dropped)."""

    def __init__(self, client, sid, subject, queue, max_pending):
        self.client = client
        self.sid = sid
        self.subject = subject
        self.queue = queue
        self.max_pending = max_pending
        self.dropped = 0
        self._msgs = []
        self._event = asyncio.Event()
        self._closed = False

    def _deliver(self, msg):
        if len(self._msgs) >= self.max_pending:
            self._msgs.pop(0)
            self.dropped += 1
        self._msgs.append(msg)
        self._event.set()

    def __aiter__(self):
        return self

    async def __anext__(self):
        while not self._msgs:
            if self._closed:
                raise StopAsyncIteration
            self._event.clear()
            await self._event.wait()
        return self._msgs.pop(0)

    async def next(self, timeout=None):
        """The next message; NatsBridgeError timeout after timeout seconds."""
        try:
            return await _wait(self.__anext__(), timeout if timeout is not None else self.client.timeout)
        except asyncio.TimeoutError:
            raise NatsBridgeError(nb.KIND_TIMEOUT, self.subject, "no message within %s s" % timeout)

    async def unsubscribe(self):
        """Ends the subscription; iteration stops once the held messages are taken."""
        self._closed = True
        self._event.set()
        self.client._subs.pop(self.sid, None)
        await self.client._write_or_hold(("UNSUB %d\r\n" % self.sid).encode("utf-8"))


class AsyncClient:
    """A NATS connection on asyncio that reconnects by itself. url, user, password,
    token, name and timeout as NatsClient's. max_buffer: the bytes of outgoing frames held
    while disconnected. base_delay/max_delay (ms): the reconnect backoff (full jitter).
    is_connected() says whether the link is up now; .reconnects counts the reconnects."""

    def __init__(self, url="nats://localhost:4222", user=None, password=None, token=None, name="nats_bridge",
                 timeout=5.0, max_buffer=65536, base_delay=nb.BASE_DELAY_MS, max_delay=nb.MAX_DELAY_MS, max_pending=256):
        sync = nb.NatsClient(url, user, password, token, name, timeout)  # parses and checks url the same way
        if sync.tls:
            raise NatsBridgeError(nb.KIND_INVALID_INPUT, url, "tls:// needs the blocking NatsClient; the asyncio client speaks nats:// only")
        self.url, self.host, self.port = url, sync.host, sync.port
        self._opts = {"verbose": False, "pedantic": False, "lang": "python", "version": "1",
                      "protocol": 1, "headers": True, "no_responders": True, "name": name}
        if sync.user is not None:
            self._opts["user"] = sync.user
            self._opts["pass"] = sync.password or ""
        if sync.token is not None:
            self._opts["auth_token"] = sync.token
        self.timeout = timeout
        self.max_buffer = max_buffer
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_pending = max_pending
        self.max_payload = nb.DEFAULT_MAX_PAYLOAD
        self.server_info = {}
        self.reconnects = 0
        self._reader = self._writer = None
        self._task = None
        self._closed = False
        self._subs = {}
        self._next_sid = 1
        self._held = []  # frames published while disconnected
        self._held_bytes = 0
        self._pongs = 0
        self._pong = asyncio.Event()
        self._inbox = "_INBOX.%s" % nb.uuid4().replace("-", "")
        self._inbox_sid = 0
        self._next_token = 1
        self._responses = {}  # reply subject -> [Event, msg or None]

    # ---- connection ----

    async def connect(self):
        """Connects (NatsBridgeError connect when the first attempt fails) and starts the
        task that reads, answers PINGs and reconnects. Returns self."""
        await self._open()
        self._task = asyncio.create_task(self._run())
        return self

    def is_connected(self):
        return self._writer is not None

    async def _open(self):
        try:
            self._reader, writer = await _wait(asyncio.open_connection(self.host, self.port), self.timeout)
        except Exception as e:  # OSError, a timeout
            raise NatsBridgeError(nb.KIND_CONNECT, self.url, "cannot connect: %s" % (e or type(e).__name__))
        try:
            line = await _wait(self._reader.readline(), self.timeout)
            if not line.startswith(b"INFO "):
                raise NatsBridgeError(nb.KIND_PROTOCOL, self.url, "expected INFO, got %r" % line[:80])
            info = nb.loads(line[5:].strip())
            if not isinstance(info, dict) or not isinstance(info.get("max_payload", 0), int):
                raise NatsBridgeError(nb.KIND_PROTOCOL, self.url, "INFO is not a JSON object with an integer max_payload")
            if info.get("tls_required"):
                raise NatsBridgeError(nb.KIND_CONNECT, self.url, "the server requires TLS: use the blocking NatsClient")
            self.server_info = info
            self.max_payload = info.get("max_payload", self.max_payload)
            frames = [b"CONNECT " + nb.dumps(self._opts).encode("utf-8") + b"\r\nPING\r\n"]
            frames.append(("SUB %s.* %d\r\n" % (self._inbox, self._inbox_sid)).encode("utf-8"))
            for sid in self._subs:
                s = self._subs[sid]
                frames.append(("SUB %s %s%d\r\n" % (s.subject, s.queue + " " if s.queue else "", sid)).encode("utf-8"))
            writer.write(b"".join(frames))
            await writer.drain()
            while True:  # +OK is off; the PONG (or an -ERR) says whether CONNECT was taken
                line = await _wait(self._reader.readline(), self.timeout)
                if line.startswith(b"PONG"):
                    break
                if line.startswith(b"-ERR") or not line:
                    raise NatsBridgeError(nb.KIND_CONNECT, self.url, "the server refused the connection: %r" % line.strip()[:120])
        except NatsBridgeError:
            writer.close()
            raise
        except Exception as e:
            writer.close()
            raise NatsBridgeError(nb.KIND_CONNECT, self.url, "lost while connecting: %s" % (e or type(e).__name__))
        while self._held:  # also what is published while the held frames drain
            held, self._held, self._held_bytes = self._held, [], 0
            try:
                for frame in held:
                    writer.write(frame)
                await writer.drain()
            except Exception as e:
                writer.close()
                self._held = held + self._held
                self._held_bytes = sum_len(self._held)
                raise NatsBridgeError(nb.KIND_CONNECT, self.url, "lost while sending held frames: %s" % e)
        self._writer = writer  # no await since the last check: nothing is left behind in _held

    async def _run(self):
        attempt = 0
        while not self._closed:
            if self._writer is None:
                try:
                    await self._open()
                    self.reconnects += 1
                    attempt = 0
                except NatsBridgeError:
                    await asyncio.sleep(nb.backoff_delay_ms(attempt, self.base_delay, self.max_delay) / 1000.0)
                    attempt += 1
                    continue
            try:
                await self._read_op()
            except Exception:
                if self._closed:
                    return
                self._drop()

    def _drop(self):
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:
                pass
        self._writer = None

    async def close(self):
        """Closes the connection and stops the reconnect task; subscriptions end."""
        self._closed = True
        if self._writer is not None:
            try:
                await self._writer.drain()
            except Exception:
                pass
        self._drop()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:
                pass
        for sid in self._subs:
            s = self._subs[sid]
            s._closed = True
            s._event.set()

    # ---- reading ----

    async def _read_op(self):
        line = await self._reader.readline()
        if not line:
            raise OSError("the server closed the connection")
        if len(line) > nb._MAX_LINE:
            raise NatsBridgeError(nb.KIND_PROTOCOL, self.url, "a control line longer than %d bytes" % nb._MAX_LINE)
        line = line.rstrip(b"\r\n")
        if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
            await self._on_msg(line)
        elif line == b"PING":
            self._writer.write(b"PONG\r\n")
            await self._writer.drain()
        elif line == b"PONG":
            self._pongs += 1
            self._pong.set()
        # INFO updates and -ERR: a fatal -ERR is followed by the server closing, which
        # the next read sees; the reconnect then follows

    async def _on_msg(self, line):
        try:
            parts = line.decode("utf-8").split(" ")
            hmsg = parts[0] == "HMSG"
            if len(parts) not in ((5, 6) if hmsg else (4, 5)):
                raise ValueError("arguments")
            reply = parts[3] if len(parts) == (6 if hmsg else 5) else ""
            hdr_len, total = (int(parts[-2]), int(parts[-1])) if hmsg else (0, int(parts[-1]))
            subject, sid = parts[1], int(parts[2])
            if total > self.max_payload or hdr_len < 0 or total < hdr_len:
                raise ValueError("sizes")
        except (UnicodeError, ValueError):
            raise NatsBridgeError(nb.KIND_PROTOCOL, self.url, "bad message line %r" % line[:120])
        body = await self._reader.readexactly(total + 2)
        body = body[:total]
        status, headers = "", {}
        if hdr_len:
            status, headers = nb._parse_headers(body[:hdr_len])
            body = body[hdr_len:]
        msg = AsyncMsg(self, subject, sid, reply, body, headers, status)
        if sid == self._inbox_sid:
            slot = self._responses.get(subject)
            if slot is not None and slot[1] is None:
                slot[1] = msg
                slot[0].set()
            return
        sub = self._subs.get(sid)
        if sub is not None:
            sub._deliver(msg)

    # ---- writing ----

    async def _write_or_hold(self, frame):
        # Written now when connected, else held for the reconnect (bounded by max_buffer).
        if self._writer is not None:
            try:
                self._writer.write(frame)
                await self._writer.drain()
                return
            except Exception:
                self._drop()
        if self._closed:
            raise NatsBridgeError(nb.KIND_NATS, self.url, "the client is closed")
        if self._held_bytes + len(frame) > self.max_buffer:
            raise NatsBridgeError(nb.KIND_RECONNECT_BUFFER_FULL, self.url, "disconnected, and %d bytes are already held for the reconnect (max_buffer=%d)" % (self._held_bytes, self.max_buffer))
        self._held.append(frame)
        self._held_bytes += len(frame)

    async def publish(self, subject, data, reply_to="", headers=None):
        """Publishes data (bytes or str) on subject; held for the reconnect while the
        connection is down (NatsBridgeError reconnect_buffer_full when it does not fit)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        nb._check_token(subject, "subject")
        if reply_to:
            nb._check_token(reply_to, "reply subject")
        hdr = nb._header_block(headers) if headers else b""
        size = len(hdr) + len(data)
        if size > self.max_payload:
            raise NatsBridgeError(nb.KIND_TOO_LARGE, subject, "%d bytes exceed the server's max_payload of %d" % (size, self.max_payload))
        reply = (" " + reply_to) if reply_to else ""
        if hdr:
            op = "HPUB %s%s %d %d\r\n" % (subject, reply, len(hdr), size)
        else:
            op = "PUB %s%s %d\r\n" % (subject, reply, size)
        await self._write_or_hold(b"".join([op.encode("utf-8"), hdr, data, b"\r\n"]))

    async def subscribe(self, subject, queue=""):
        """An AsyncSubscription of subject (wildcards allowed, queue group optional),
        restored after every reconnect."""
        nb._check_token(subject, "subject")
        if queue:
            nb._check_token(queue, "queue group")
        self._next_sid += 1
        sub = AsyncSubscription(self, self._next_sid, subject, queue, self.max_pending)
        self._subs[sub.sid] = sub
        await self._write_or_hold(("SUB %s %s%d\r\n" % (subject, queue + " " if queue else "", sub.sid)).encode("utf-8"))
        return sub

    async def flush(self, timeout=None):
        """PING and wait for its PONG: the server has seen everything sent before."""
        timeout = self.timeout if timeout is None else timeout
        want = self._pongs + 1
        await self._write_or_hold(b"PING\r\n")
        try:
            while self._pongs < want:
                self._pong.clear()
                await _wait(self._pong.wait(), timeout)
        except asyncio.TimeoutError:
            raise NatsBridgeError(nb.KIND_TIMEOUT, self.url, "no PONG within %s s" % timeout)

    async def request(self, subject, data, timeout=None, headers=None):
        """The first AsyncMsg answering data published on subject; NatsBridgeError
        timeout after timeout seconds, no_responders when no one subscribes."""
        timeout = self.timeout if timeout is None else timeout
        reply = "%s.%d" % (self._inbox, self._next_token)
        self._next_token += 1
        slot = self._responses[reply] = [asyncio.Event(), None]
        try:
            await self.publish(subject, data, reply, headers)
            await _wait(slot[0].wait(), timeout)
        except asyncio.TimeoutError:
            raise NatsBridgeError(nb.KIND_TIMEOUT, subject, "no reply within %s s" % timeout)
        finally:
            self._responses.pop(reply, None)
        if slot[1].status == "503":
            raise NatsBridgeError(nb.KIND_NO_RESPONDERS, subject, "no one subscribes to %s" % subject)
        return slot[1]

    async def jetstream_publish(self, subject, data, msg_id=None, timeout=None):
        """Publishes to a JetStream stream and returns its acknowledgement (a dict with
        stream, seq, duplicate). Publish again with the same msg_id after an error: the
        stream keeps one copy."""
        try:
            msg = await self.request(subject, data, timeout, {"Nats-Msg-Id": msg_id} if msg_id else None)
        except NatsBridgeError as e:
            if e.kind == nb.KIND_NO_RESPONDERS:
                raise NatsBridgeError(nb.KIND_NO_RESPONDERS, subject, "no JetStream stream holds %s" % subject)
            raise
        ack = nb.loads(msg.data)
        if not isinstance(ack, dict) or "error" in ack or "stream" not in ack:
            raise NatsBridgeError(nb.KIND_JETSTREAM, subject, "the stream refused the message: %s" % bytes(msg.data).decode("utf-8"))
        return ack


def sum_len(frames):
    n = 0
    for f in frames:
        n += len(f)
    return n


async def connect(url="nats://localhost:4222", **options):
    """A connected AsyncClient (options as AsyncClient's)."""
    return await AsyncClient(url, **options).connect()


_CLIENTS = {}


async def connection(nats_url="nats://localhost:4222"):
    """The shared AsyncClient of nats_url, connected on first use."""
    client = _CLIENTS.get(nats_url)
    if client is None:
        client = _CLIENTS[nats_url] = await connect(nats_url)
    return client


async def close_connections():
    for url in list(_CLIENTS):
        await _CLIENTS.pop(url).close()


# ---- HTTP over asyncio streams ----

class _Stream:
    # The response side of one request: the stream, its URL (named in errors) and timeout.

    def __init__(self, reader, url, timeout):
        self.reader = reader
        self.url = url
        self.timeout = timeout

    async def read(self, n):
        try:
            return await _wait(self.reader.read(n), self.timeout)
        except asyncio.TimeoutError:
            raise NatsBridgeError(nb.KIND_DOWNLOAD, self.url, "timed out: nothing for %s s" % self.timeout)
        except OSError as e:
            raise NatsBridgeError(nb.KIND_DOWNLOAD, self.url, "receive failed: %s" % e)

    async def line(self):
        try:
            line = await _wait(self.reader.readline(), self.timeout)
        except asyncio.TimeoutError:
            raise NatsBridgeError(nb.KIND_DOWNLOAD, self.url, "timed out: nothing for %s s" % self.timeout)
        except OSError as e:
            raise NatsBridgeError(nb.KIND_DOWNLOAD, self.url, "receive failed: %s" % e)
        if not line.endswith(b"\n"):
            raise NatsBridgeError(nb.KIND_DOWNLOAD, self.url, "the server closed the connection before answering")
        if len(line) > 16384:
            raise NatsBridgeError(nb.KIND_PROTOCOL, self.url, "response header line too long")
        try:
            return line.rstrip(b"\r\n").decode("utf-8")
        except UnicodeError:
            raise NatsBridgeError(nb.KIND_PROTOCOL, self.url, "a response header line that is not UTF-8: %r" % line[:80])

    async def copy(self, n, deliver):
        while n > 0:
            chunk = await self.read(min(n, _CHUNK))
            if not chunk:
                raise NatsBridgeError(nb.KIND_DOWNLOAD, self.url, "the server closed the connection %d bytes early" % n)
            n -= len(chunk)
            deliver(chunk)


async def http_request(method, url, body=None, headers=None, sink=None, timeout=10.0):
    """nats_bridge.http_request on asyncio: (status, headers, body); a 2xx body goes to
    sink(chunk) when given (body is then None). http:// only."""
    scheme, host, port, head, parts = nb._request_head(method, url, body, headers)
    if scheme != "http":
        raise NatsBridgeError(nb.KIND_LINK_REFUSED, url, "the asyncio client speaks http:// only (https: the blocking API)")
    try:
        reader, writer = await _wait(asyncio.open_connection(host, port), timeout)
    except Exception as e:
        raise NatsBridgeError(nb.KIND_CONNECT, url, "cannot connect: %s" % (e or type(e).__name__))
    try:
        try:
            writer.write(head)
            for b in parts:
                for i in range(0, len(b), 65536):
                    writer.write(memoryview(b)[i:i + 65536])
                    await writer.drain()
            await writer.drain()
        except OSError as e:
            raise NatsBridgeError(nb.KIND_DOWNLOAD, url, "send failed: %s" % e)
        r = _Stream(reader, url, timeout)
        status_line = (await r.line()).split(" ")
        try:
            status = int(status_line[1])
        except (IndexError, ValueError):
            raise NatsBridgeError(nb.KIND_PROTOCOL, url, "not an HTTP status line: %r" % " ".join(status_line))
        got = {}
        while True:
            line = await r.line()
            if not line:
                break
            i = line.find(":")
            if i > 0:
                got[line[:i].strip().lower()] = line[i + 1:].strip()
        ok = 200 <= status < 300
        if method == "HEAD" or status in (204, 304):
            return status, got, b""
        keep = sink if ok and sink is not None else None
        chunks = []

        def deliver(chunk):
            if keep is not None:
                keep(chunk)
            elif ok or len(chunks) < 4:
                chunks.append(chunk)

        length = nb._content_length(r, got.get("content-length"))
        if "chunked" in got.get("transfer-encoding", "").lower():
            while True:
                n = nb._chunk_size(r, await r.line())
                if n == 0:
                    break
                await r.copy(n, deliver)
                await r.line()
        elif length >= 0:
            await r.copy(length, deliver)
        else:
            while True:
                chunk = await r.read(_CHUNK)
                if not chunk:
                    break
                deliver(chunk)
        if keep is not None:
            return status, got, None
        data = b"".join(chunks)
        return status, got, data if ok else data[:4096]
    finally:
        writer.close()


async def download(url, size=None, checksum=None, sink=None, max_retries=nb.MAX_RETRIES, base_delay=nb.BASE_DELAY_MS,
                   max_delay=nb.MAX_DELAY_MS, dataname="", timeout=10.0):
    """nats_bridge.download on asyncio: the bytes of url (or, with sink, their count,
    streamed there in chunks), size and checksum verified, transient failures retried
    with backoff; the loop runs on meanwhile."""
    at = dataname or url
    want_hex = nb._want_hex(checksum, at)
    write, rewind = nb._sink_writer(sink) if sink is not None else (None, None)
    attempt = 0
    while True:
        got = nb._Body(url, at, size, write)
        try:
            status = (await http_request("GET", url, sink=got.take, timeout=timeout))[0]
            problem = None if 200 <= status < 300 else "HTTP %d" % status
            transient = status >= 500 or status == 429
        except NatsBridgeError as e:
            if e.kind != nb.KIND_DOWNLOAD and e.kind != nb.KIND_CONNECT:
                raise
            problem = e.detail
            transient = got.n == 0 or write is None or rewind is not None
        if problem is None:
            return got.finish(want_hex)
        attempt += 1
        if not transient or attempt >= max_retries:
            raise NatsBridgeError(nb.KIND_DOWNLOAD, at, "GET %s failed after %d attempt(s): %s" % (url, attempt, problem))
        if got.n and rewind is not None:
            rewind()
        await asyncio.sleep(nb.backoff_delay_ms(attempt - 1, base_delay, max_delay) / 1000.0)


async def http_put_upload(fileserver_url, dataname, data, payload_id="", token=None):
    """nats_bridge.http_put_upload on asyncio."""
    payload_id = payload_id or nb.uuid4()
    url = "%s/%s/%s" % (fileserver_url.rstrip("/"), nb.quote_path(payload_id), nb.quote_path(nb.link_file_name(dataname)))
    status, _, body = await _upload_request("PUT", url, data, nb._auth_headers(token))
    if not 200 <= status < 300:
        raise NatsBridgeError(nb.KIND_UPLOAD, url, "PUT answered HTTP %d: %s" % (status, body[:200]))
    return {"status": status, "uploadid": payload_id, "fileid": dataname, "url": url}


async def plik_upload(fileserver_url, dataname, data, payload_id="", token=None):
    """nats_bridge.plik_upload on asyncio."""
    base = fileserver_url.rstrip("/")
    url = base + "/upload"
    headers = nb._auth_headers(token)
    headers["Content-Type"] = "application/json"
    status, _, body = await _upload_request("POST", url, b"{}", headers)
    upload = nb._expect_json(status, body, url, "POST /upload")
    headers = nb._auth_headers(token)
    headers["X-UploadToken"] = upload.get("uploadToken", "")
    boundary = "natsbridge-%s" % nb.uuid4().replace("-", "")
    headers["Content-Type"] = "multipart/form-data; boundary=%s" % boundary
    name = nb.link_file_name(dataname)
    first = '--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' % (boundary, name)
    url = "%s/file/%s" % (base, upload["id"])
    status, _, body = await _upload_request("POST", url, [first, data, "\r\n--%s--\r\n" % boundary], headers)
    file_id = nb._expect_json(status, body, url, "POST /file")["id"]
    link = "%s/file/%s/%s/%s" % (base, upload["id"], file_id, nb.quote_path(name))
    return {"status": status, "uploadid": upload["id"], "fileid": file_id, "url": link}


async def _upload_request(method, url, body, headers):
    try:
        return await http_request(method, url, body, headers)
    except NatsBridgeError as e:
        if e.kind == nb.KIND_LINK_REFUSED or e.kind == nb.KIND_INVALID_INPUT:
            raise NatsBridgeError(nb.KIND_INVALID_INPUT, e.at, e.detail)
        if e.kind == nb.KIND_DOWNLOAD or e.kind == nb.KIND_CONNECT:
            raise NatsBridgeError(nb.KIND_UPLOAD, e.at, e.detail)
        raise


# ---- smartsend and smartreceive ----

_PLACEHOLDER = "x" * 400  # a link URL's room in the envelope until the upload gives the real one


async def smartsend(subject, data, nats_url="nats://localhost:4222", fileserver_url="http://localhost:8080",
                    fileserver_upload_handler=plik_upload, size_threshold=nb.SIZE_THRESHOLD, is_publish=True, client=None,
                    jetstream=False, fileserver_token=None, payload_ids=None, max_payload=None, **fields):
    """nats_bridge.smartsend on asyncio, with the same keywords and defaults; client is
    an AsyncClient, fileserver_upload_handler an async function (plik_upload,
    http_put_upload of this module or your own). The envelope is built by
    nats_bridge.smartsend; the uploads then run on the loop."""
    one_call = is_publish and client is None
    if one_call:
        client = await connection(nats_url)
    if max_payload is None:
        max_payload = client.max_payload if client is not None else nb.DEFAULT_MAX_PAYLOAD
    raws = {}

    def hold(url, dataname, raw, payload_id, token):
        raws[payload_id] = raw
        return {"url": _PLACEHOLDER}

    env = nb.smartsend(subject, data, nats_url, fileserver_url, hold, size_threshold, False, None, False,
                       fileserver_token, payload_ids, max_payload, **fields)
    for p in env.payloads:
        if p.transport == "link" and p.data is _PLACEHOLDER:
            result = await fileserver_upload_handler(fileserver_url, p.dataname, raws.pop(p.id), p.id, fileserver_token)
            if not isinstance(result, dict) or not isinstance(result.get("url"), str):
                raise NatsBridgeError(nb.KIND_UPLOAD, fileserver_url, "the upload handler returned no url for %s: %r" % (p.dataname, result))
            p.data = result["url"]
    if is_publish:
        body = env.to_json().encode("utf-8")
        if len(body) > max_payload:
            raise NatsBridgeError(nb.KIND_TOO_LARGE, subject, "the envelope is %d bytes with its link URLs; the server takes %d" % (len(body), max_payload))
        if jetstream:
            await client.jetstream_publish(subject, body, env.msg_id)
        else:
            await client.publish(subject, body, env.reply_to)
            if one_call:
                await client.flush()
    return env


async def smartreceive(msg, fileserver_download_handler=None, max_retries=nb.MAX_RETRIES, base_delay=nb.BASE_DELAY_MS,
                       max_delay=nb.MAX_DELAY_MS, download_to=None, arrow_tables=None, fileserver_url=None, allowed_hosts=None,
                       allow_any_host=False, max_download=nb.MAX_DOWNLOAD_BYTES, with_envelope=False,
                       max_in_memory=nb.MAX_IN_MEMORY_BYTES):
    """nats_bridge.smartreceive on asyncio, with the same keywords, defaults and checks:
    link payloads are downloaded on the loop (download_to streams them to a folder or
    to the sink a function returns); fileserver_download_handler is an async function.
    Direct payloads are decoded by nats_bridge.smartreceive."""
    env = nb._envelope_of(msg)
    nb._check_in_memory(env, download_to, max_in_memory)
    links = {}
    for i in range(len(env.payloads)):
        p = env.payloads[i]
        if p.transport != "link":
            continue
        at = "payloads[%d]" % i
        where = "%s (%s)" % (at, p.dataname)
        if fileserver_download_handler is None or download_to is not None:
            nb._check_link(p, at, fileserver_url, allowed_hosts, allow_any_host, max_download)
        if download_to is not None:
            if isinstance(download_to, str):
                links[i] = await _download_to_folder(download_to, p, where, max_retries, base_delay, max_delay)
            else:
                sink = download_to(p)
                await download(p.data, p.size, p.metadata.get("checksum"), sink, max_retries, base_delay, max_delay, where)
                links[i] = sink
            continue
        if fileserver_download_handler is not None:
            raw = await fileserver_download_handler(p.data, max_retries, base_delay, max_delay, env.correlation_id)
            nb._verify(raw, p, at)
        else:
            raw = await download(p.data, p.size, p.metadata.get("checksum"), None, max_retries, base_delay, max_delay, where)
        links[i] = nb.deserialize(raw, p.payload_type, at + ".data", arrow_tables)
    every = env.payloads
    env.payloads = [p for p in every if p.transport != "link"]
    try:
        direct = nb.smartreceive(env, arrow_tables=arrow_tables)
    finally:
        env.payloads = every
    out = []
    for i in range(len(every)):
        out.append((every[i].dataname, links[i], every[i].payload_type) if i in links else direct.pop(0))
    return (env, out) if with_envelope else out


async def _download_to_folder(folder, p, where, max_retries, base_delay, max_delay):
    # As nats_bridge's: a hidden temporary file renamed only once verified, never over an
    # existing file, removed after a failure.
    os = nb._os()
    folder = folder.rstrip("/") or "/"
    temp = "%s/.natsbridge-%s.part" % (folder, nb.uuid4())
    try:
        f = open(temp, "wb")
    except OSError as e:
        raise NatsBridgeError(nb.KIND_IO, where, "cannot create %s: %s" % (temp, e))
    done = False
    try:
        await download(p.data, p.size, p.metadata.get("checksum"), f, max_retries, base_delay, max_delay, where)
        f.close()
        path = nb._unused_path(os, folder, p.dataname)
        os.rename(temp, path)
        done = True
        return path
    finally:
        if not done:
            f.close()
            try:
                os.remove(temp)
            except OSError:
                pass
