# The link transport (WIRE.md section 6) over a plain HTTP/1.1 client: uploads with the
# Plik API or HTTP PUT, downloads streamed in chunks (1 KiB on MicroPython) to memory, a file or a callback,
# with retries (exponential backoff, full jitter) and the size and sha256 verified.
#
# One request per connection (Connection: close); https verified as tls_defaults() says.

_CHUNK = 1024 if _SMALL_HEAP else 4096  # bytes read at a time from an HTTP body
_SAFE_PATH = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def quote_path(name):
    """name percent-encoded for one URL path segment (UTF-8, RFC 3986 unreserved kept)."""
    out = []
    for c in name.encode("utf-8"):
        out.append(chr(c) if c in _SAFE_PATH else "%%%02X" % c)
    return "".join(out)


_TARGET_ESCAPE = b'"<>\\^`{|}'  # bytes a request target must not carry raw (RFC 3986), beside non-ASCII
_HOST_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._:"


def http_url(url, kind=KIND_INVALID_INPUT):
    """(scheme, host, port, target) of an http(s) URL, exactly as http_request contacts
    and asks it: the request target (path and query, no fragment) percent-encoded where
    RFC 3986 wants it. Refused with NatsBridgeError kind (invalid_input for a URL of the
    caller, link_refused for one from a message) naming the URL: spaces and control
    characters anywhere (they would end the request line and start another request),
    userinfo ("user@"), backslashes or other characters outside a host name in the host,
    a port that is not 1 to 65535, or another scheme."""
    if not isinstance(url, str):
        raise NatsBridgeError(kind, repr(url), "a URL must be a str")
    for b in url.encode("utf-8"):  # bytes: each character a str yields on MicroPython is a qstr for good
        if b <= 0x20 or b == 0x7F:
            raise NatsBridgeError(kind, url, "%r: a URL must not hold spaces or control characters" % url)
    i = url.find("://")
    scheme = url[:i].lower() if i > 0 else ""
    if scheme not in ("http", "https"):
        raise NatsBridgeError(KIND_LINK_REFUSED, url, "only http:// and https:// URLs are supported")
    rest = url[i + 3:]
    end = len(rest)
    for sep in "/?#":  # the host part ends at the first of these (RFC 3986 section 3.2)
        j = rest.find(sep)
        if 0 <= j < end:
            end = j
    hostport, target = rest[:end], rest[end:]
    j = target.find("#")  # a fragment is never sent
    if j >= 0:
        target = target[:j]
    if not target.startswith("/"):
        target = "/" + target
    if hostport.startswith("["):
        ok = hostport.find("]") > 1 and not [b for b in hostport[1:hostport.find("]")].encode("utf-8") if b not in b"0123456789abcdefABCDEF:."]
    else:
        ok = not [b for b in hostport.encode("utf-8") if b not in _HOST_CHARS]
    if not ok or not hostport:
        raise NatsBridgeError(kind, url, "%r: the host must be a name or address, without user@ or backslashes" % url)
    try:
        host, port = _split_host_port(hostport, 443 if scheme == "https" else 80, url)
    except NatsBridgeError as e:
        raise NatsBridgeError(kind, url, e.detail)
    if not host:
        raise NatsBridgeError(kind, url, "%r: no host" % url)
    out = []
    for b in target.encode("utf-8"):
        out.append("%%%02X" % b if b >= 0x80 or b in _TARGET_ESCAPE else chr(b))
    return scheme, host.lower(), port, "".join(out)


def _protocol(r, detail):
    # The server's bytes are not HTTP/1.1 as this client reads it: not retried.
    return NatsBridgeError(KIND_PROTOCOL, r.url, detail)


class _HttpReader:
    # Buffered reads from a socket, each bounded by the socket's timeout; with min_rate,
    # a window of window_ms that brings fewer than min_rate bytes/s is a timeout too
    # (a server dripping bytes would otherwise never trip the socket's timeout).

    def __init__(self, sock, url, min_rate=0, window_ms=0):
        self.sock = sock
        self.url = url
        self.got = _Received(_CHUNK)  # what has been received and not yet read
        self.min_bytes = min_rate * window_ms // 1000
        self.window_ms = window_ms
        self.window_start = _ticks_ms()
        self.window_bytes = 0

    def more(self):
        # One recv into the buffer; False when the peer closed.
        room = self.got.room()
        if room is None:
            raise NatsBridgeError(KIND_DOWNLOAD, self.url, "out of memory for the receive buffer (%d bytes held)" % len(self.got))
        try:
            n = self.sock.recv_into(room)
        except OSError as e:
            raise NatsBridgeError(KIND_DOWNLOAD, self.url, "receive failed: %s" % e)
        self.got.w += n
        if self.min_bytes:
            self.window_bytes += n
            if _ms_since(self.window_start) >= self.window_ms:
                if self.window_bytes < self.min_bytes:
                    raise NatsBridgeError(KIND_DOWNLOAD, self.url, "timed out: %d bytes in %d ms, below the low-speed limit of %d bytes" % (self.window_bytes, self.window_ms, self.min_bytes))
                self.window_start = _ticks_ms()
                self.window_bytes = 0
        return n > 0

    def line(self):
        while True:
            line = self.got.line()
            if line is not None:
                try:
                    return line.decode("utf-8")
                except UnicodeError:
                    raise _protocol(self, "a response header line that is not UTF-8: %r" % line[:80])
            if len(self.got) > 16384:
                raise NatsBridgeError(KIND_PROTOCOL, self.url, "response header line too long")
            if not self.more():
                raise NatsBridgeError(KIND_DOWNLOAD, self.url, "the server closed the connection before answering")

    def take(self, limit):
        # Up to limit bytes (empty at the end of the stream), as a memoryview valid until
        # the next read.
        if not self.got and not self.more():
            return b""
        return self.got.view(limit)


def _request_head(method, url, body, headers):
    # (scheme, host, port, request head bytes, body parts) of one HTTP/1.1 request, as
    # http_request and the asyncio client send it.
    scheme, host, port, path = http_url(url)
    if isinstance(body, (bytes, bytearray, memoryview, str)):
        body = [body]
    parts = []
    for b in body or ():
        parts.append(b.encode("utf-8") if isinstance(b, str) else b)
    length = 0
    for b in parts:
        length += len(b)
    name = ("[%s]" % host) if ":" in host else host
    head = ["%s %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\nContent-Length: %d\r\n" % (method, path, name, port, length)]
    for k in headers or {}:
        v = "%s" % headers[k]
        if [c for c in k + v if ord(c) < 0x20 and c != "\t"] or [c for c in k if c in " :\t"]:
            raise NatsBridgeError(KIND_INVALID_INPUT, "header %s" % k, "%r: %r: no control characters in a header" % (k, v))
        head.append("%s: %s\r\n" % (k, v))
    head.append("\r\n")
    return scheme, host, port, "".join(head).encode("utf-8"), parts


def http_request(method, url, body=None, headers=None, sink=None, timeout=10.0, min_rate=0):
    """Sends one HTTP/1.1 request and returns (status, headers, body).

    body is bytes, str or a list of bytes sent one after the other. headers is a dict.
    The response headers come back as a dict with lower-case names. A 2xx body is
    passed chunk by chunk to sink(chunk) when sink is given (body is then None),
    else returned as bytes; other bodies are returned, cut at 4096 bytes.
    NatsBridgeError connect or download when the server cannot be reached or hangs up, sends
    nothing for timeout seconds or, with min_rate, fewer than min_rate bytes/s over
    any timeout seconds of the response."""
    if sink is not None:  # the chunks are views of the receive buffer: a caller's sink gets copies
        sink = sink.take if isinstance(sink, _Body) else _copying(sink)
    scheme, host, port, head, parts = _request_head(method, url, body, headers)
    sock = _open_socket(host, port, timeout, url)
    try:
        if scheme == "https":
            sock = _tls_wrap(sock, host, url)
        try:
            _send_all(sock, head)
            for b in parts:
                for i in range(0, len(b), 65536):
                    _send_all(sock, memoryview(b)[i:i + 65536])
        except OSError as e:
            raise NatsBridgeError(KIND_DOWNLOAD, url, "send failed: %s" % e)
        return _read_response(_HttpReader(sock, url, min_rate, int(timeout * 1000)), method, sink)
    finally:
        sock.close()


def _read_response(r, method, sink):
    status_line = r.line().split(" ")
    try:
        status = int(status_line[1])
    except (IndexError, ValueError):
        raise NatsBridgeError(KIND_PROTOCOL, r.url, "not an HTTP status line: %r" % " ".join(status_line))
    headers = {}
    while True:
        line = r.line()
        if not line:
            break
        i = line.find(":")
        if i > 0:
            headers[line[:i].strip().lower()] = line[i + 1:].strip()
    ok = 200 <= status < 300
    if method == "HEAD" or status in (204, 304):
        return status, headers, b""
    length = _content_length(r, headers.get("content-length"))
    keep = sink if ok and sink is not None else None
    got = []
    kept = [0]

    def deliver(chunk):
        if keep is not None:
            keep(chunk)
        elif ok or kept[0] < 4096:
            got.append(bytes(chunk))
            kept[0] += len(chunk)

    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            n = _chunk_size(r, r.line())
            if n == 0:
                break
            _copy(r, n, deliver)
            r.line()
    elif length >= 0:
        _copy(r, length, deliver)
    else:
        while True:
            chunk = r.take(_CHUNK)
            if not chunk:
                break
            deliver(chunk)
    if keep is not None:
        return status, headers, None
    body = b"".join(got)
    return status, headers, body if ok else body[:4096]


def _digits(text, alphabet, base):
    # The value of text when it is 1 to 16 characters of alphabet (no sign, blank or "_",
    # which int() would take), else None.
    if not 0 < len(text) <= 16 or [c for c in text if c not in alphabet]:
        return None
    return int(text, base)


def _content_length(r, text):
    # -1 without Content-Length (the body runs to the end of the connection).
    if text is None:
        return -1
    n = _digits(text, "0123456789", 10)
    if n is None:
        raise _protocol(r, "Content-Length %r is not a byte count" % text[:40])
    return n


def _chunk_size(r, line):
    n = _digits(line.split(";")[0].strip(), "0123456789abcdefABCDEF", 16)
    if n is None:
        raise _protocol(r, "chunk size line %r is not hexadecimal" % line[:40])
    return n


def _copy(r, n, deliver):
    # n bytes from the reader to deliver(chunk); connection error when they do not come.
    while n > 0:
        chunk = r.take(min(n, _CHUNK))
        if not chunk:
            raise NatsBridgeError(KIND_DOWNLOAD, r.url, "the server closed the connection %d bytes early" % n)
        n -= len(chunk)
        deliver(chunk)


def _expect_json(status, body, url, what):
    if not 200 <= status < 300:
        raise NatsBridgeError(KIND_UPLOAD, url, "%s answered HTTP %d: %s" % (what, status, body[:200]))
    try:
        value = loads(body)
    except NatsBridgeError:
        raise NatsBridgeError(KIND_UPLOAD, url, "%s answered with something that is not JSON: %r" % (what, body[:200]))
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        raise NatsBridgeError(KIND_UPLOAD, url, "%s answered without an id: %r" % (what, body[:200]))
    return value


def _upload_request(method, url, body, headers):
    # http_request for an upload: a file server that cannot be reached is upload, a URL
    # it cannot use is invalid_input (the caller's fileserver_url).
    try:
        return http_request(method, url, body, headers)
    except NatsBridgeError as e:
        if e.kind == KIND_LINK_REFUSED or e.kind == KIND_INVALID_INPUT:
            raise NatsBridgeError(KIND_INVALID_INPUT, e.at, e.detail)
        if e.kind == KIND_DOWNLOAD or e.kind == KIND_CONNECT:
            raise NatsBridgeError(KIND_UPLOAD, e.at, e.detail)
        raise


def _auth_headers(token):
    return {"Authorization": "Bearer %s" % token} if token else {}


def link_file_name(dataname):
    """The file name a dataname gets on a file server, as every SDK makes it: "/", "\\",
    '"' and control characters become "_", as do leading dots (servers refuse hidden and
    parent names), and an empty name becomes "payload". The envelope keeps the dataname."""
    out = []
    leading = True
    for c in dataname:
        leading = leading and c == "."
        plain = not (leading or c in '/\\"' or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)
        out.append(c if plain else "_")
    return "".join(out) or "payload"


def plik_upload(fileserver_url, dataname, data, payload_id="", token=None):
    """Uploads data with the Plik API (WIRE.md section 6) and returns
    {"status": 200, "uploadid": ..., "fileid": ..., "url": ...}. token, when given,
    is sent as Authorization: Bearer. NatsBridgeError upload (invalid_input for a URL it cannot use) naming the
    URL on failure."""
    base = fileserver_url.rstrip("/")
    url = base + "/upload"
    headers = _auth_headers(token)
    headers["Content-Type"] = "application/json"
    status, _, body = _upload_request("POST", url, b"{}", headers)
    upload = _expect_json(status, body, url, "POST /upload")
    upload_id = upload["id"]
    headers = _auth_headers(token)
    headers["X-UploadToken"] = upload.get("uploadToken", "")
    boundary = "natsbridge-%s" % uuid4().replace("-", "")
    headers["Content-Type"] = "multipart/form-data; boundary=%s" % boundary
    name = link_file_name(dataname)
    first = '--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: application/octet-stream\r\n\r\n' % (boundary, name)
    url = "%s/file/%s" % (base, upload_id)
    status, _, body = _upload_request("POST", url, [first, data, "\r\n--%s--\r\n" % boundary], headers)
    file_id = _expect_json(status, body, url, "POST /file")["id"]
    link = "%s/file/%s/%s/%s" % (base, upload_id, file_id, quote_path(name))
    return {"status": status, "uploadid": upload_id, "fileid": file_id, "url": link}


def http_put_upload(fileserver_url, dataname, data, payload_id="", token=None):
    """Uploads data with PUT {fileserver_url}/{payload_id}/{dataname} (nginx WebDAV,
    rclone, presigned stores) and returns {"status", "uploadid", "fileid", "url"}
    where url is that same URL."""
    payload_id = payload_id or uuid4()
    url = "%s/%s/%s" % (fileserver_url.rstrip("/"), quote_path(payload_id), quote_path(link_file_name(dataname)))
    status, _, body = _upload_request("PUT", url, data, _auth_headers(token))
    if not 200 <= status < 300:
        raise NatsBridgeError(KIND_UPLOAD, url, "PUT answered HTTP %d: %s" % (status, body[:200]))
    return {"status": status, "uploadid": payload_id, "fileid": dataname, "url": url}


def _sink_writer(sink):
    # (write function, rewind function or None) of a file-like object or a callable. A
    # file's write may be given a view of a receive buffer (as io's contract allows); a
    # callable gets bytes of its own, which it may keep.
    if hasattr(sink, "write"):
        rewind = (lambda: sink.seek(0)) if hasattr(sink, "seek") else None
        return sink.write, rewind
    return _copying(sink), None


def _copying(f):
    # f, called with a bytes copy of each chunk.
    return lambda chunk: f(bytes(chunk))


def download(url, size=None, checksum=None, sink=None, max_retries=MAX_RETRIES, base_delay=BASE_DELAY_MS, max_delay=MAX_DELAY_MS, dataname="", timeout=10.0, min_rate=1024):
    """GETs url and returns its bytes, or, with sink (an object with write() or a
    callable taking each chunk), streams them there in chunks (1 KiB on MicroPython) and returns the
    number of bytes. size (int) and checksum ("sha256:<hex>") are verified when given.

    Transient failures (connection errors, HTTP 5xx and 429) are retried, at most
    max_retries attempts in all, after delays drawn from [0, min(max_delay,
    base_delay * 2^attempt)] ms. Permanent ones (another 4xx, a wrong length or
    checksum) raise at once. An attempt times out (and is retried) when the server
    sends nothing for timeout seconds or fewer than min_rate bytes/s over any timeout
    seconds. Errors are NatsBridgeError with .at naming the payload
    (dataname) and the detail naming the URL: kinds download, size_mismatch,
    checksum_mismatch."""
    at = dataname or url
    want_hex = _want_hex(checksum, at)
    write, rewind = _sink_writer(sink) if sink is not None else (None, None)
    attempt = 0
    while True:
        got = _Body(url, at, size, write)
        try:
            status, headers, body = http_request("GET", url, sink=got, timeout=timeout, min_rate=min_rate)
            problem = None if 200 <= status < 300 else "HTTP %d" % status
            transient = status >= 500 or status == 429
        except NatsBridgeError as e:
            if e.kind != KIND_DOWNLOAD and e.kind != KIND_CONNECT:
                raise
            problem = e.detail
            transient = got.n == 0 or write is None or rewind is not None
        if problem is None:
            break
        attempt += 1
        if not transient or attempt >= max_retries:
            raise NatsBridgeError(KIND_DOWNLOAD, at, "GET %s failed after %d attempt(s): %s" % (url, attempt, problem))
        if got.n and rewind is not None:
            rewind()
        _sleep_ms(backoff_delay_ms(attempt - 1, base_delay, max_delay))
    return got.finish(want_hex)


def _want_hex(checksum, at):
    # The hex digest a "sha256:<hex>" checksum wants (None without one).
    if not checksum:
        return None
    if not isinstance(checksum, str) or not checksum.startswith("sha256:"):
        raise NatsBridgeError(KIND_BAD_VALUE, at, "unsupported checksum %r" % checksum)
    return checksum[7:].lower()


class _Body:
    # What one attempt of a download received: hashed, held to the announced size, written
    # to write(chunk) or to a buffer allocated once the server sends the body, not before
    # connecting (a message naming a huge size and a dead link costs nothing; filled in
    # place with a known size: no regrowing on a small heap).

    def __init__(self, url, at, size, write):
        self.url = url
        self.at = at
        self.size = size
        self.write = write
        self.hasher = hashlib.sha256()
        self.sha256 = None
        self.n = 0
        self.buf = None

    def digest(self):
        # The SHA-256 of what came, computed once (a MicroPython hash is final after digest()).
        if self.sha256 is None:
            self.sha256 = self.hasher.digest()
        return self.sha256

    def take(self, chunk):
        n = self.n + len(chunk)
        size = self.size
        if size is not None and n > size:
            raise NatsBridgeError(KIND_SIZE_MISMATCH, self.at, "%s sent more than the %d bytes announced" % (self.url, size))
        self.hasher.update(chunk)
        if self.write is not None:
            self.write(chunk)
        elif self.buf is None:
            self.buf = bytearray(size) if size is not None else bytearray()
        if self.write is None:
            if size is None:
                self.buf.extend(chunk)
            else:
                self.buf[self.n:n] = chunk
        self.n = n

    def finish(self, want_hex):
        # The bytes (or their count, streamed) once size and checksum are verified.
        url, n = self.url, self.n
        if self.size is not None and n != self.size:
            raise NatsBridgeError(KIND_SIZE_MISMATCH, self.at, "%s gave %d bytes, the payload says %d" % (url, n, self.size))
        if want_hex is not None:
            got_hex = binascii.hexlify(self.digest()).decode("ascii")
            if got_hex != want_hex:
                raise NatsBridgeError(KIND_CHECKSUM_MISMATCH, self.at, "%s gave bytes with sha256 %s, the payload says %s" % (url, got_hex, want_hex))
        if self.write is not None:
            return n
        return bytes(self.buf) if self.buf is not None else b""
