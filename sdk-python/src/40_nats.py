# A small NATS client over a plain socket, in the manner of umqtt.simple: one class,
# bytes end to end, the socket opened in connect() and closed in close().
#
# It speaks the client side of the NATS text protocol: INFO, CONNECT (user/password or
# token), PUB and HPUB, SUB, UNSUB, MSG and HMSG, PING/PONG, +OK and -ERR. request()
# uses one wildcard inbox subscription; jetstream_publish() sends Nats-Msg-Id and waits
# for the stream's acknowledgement.

import gc

try:
    import usocket as socket
except ImportError:
    import socket


import sys

# MicroPython: a board's heap, where a large buffer is the allocation that fails first.
_SMALL_HEAP = sys.implementation.name == "micropython"
# Bytes asked of each recv() for protocol lines and small messages.
_RECV_SIZE = 1024 if _SMALL_HEAP else 4096
_MAX_LINE = 8192  # a control line (INFO of a large cluster included) longer than this is garbage


def _is_timeout(e):
    # A socket timeout: socket.timeout on CPython, OSError(ETIMEDOUT or EAGAIN) elsewhere.
    if e.args and e.args[0] in (11, 110, "timed out"):
        return True
    return type(e).__name__ == "timeout" or str(e) == "timed out"


def _check_token(value, what):
    # A subject, reply subject or queue group goes raw into a protocol line: a byte <= 0x20
    # or 0x7f there would end it or start another command (nats-server splits at tabs too).
    if not isinstance(value, str) or not value:
        raise NatsBridgeError(KIND_INVALID_INPUT, what, "%r: a %s must be a non-empty str" % (value, what))
    for b in value.encode("utf-8"):  # bytes: each character a str yields on MicroPython is interned for good
        if b <= 0x20 or b == 0x7F:
            raise NatsBridgeError(KIND_INVALID_INPUT, what, "%r: a %s must not hold spaces or control characters" % (value, what))


def _header_block(headers):
    # b"NATS/1.0\r\n<name>: <value>\r\n...\r\n" of a dict, refusing what would break the block.
    lines = ["NATS/1.0\r\n"]
    for k in headers:
        _check_token(k, "header name")
        v = headers[k]
        v = v if isinstance(v, str) else str(v)
        if ":" in k or "\r" in v or "\n" in v:
            raise NatsBridgeError(KIND_INVALID_INPUT, "header %s" % k, "%r: %r: no ':' in a header name, no CR or LF in a value" % (k, v))
        lines.append("%s: %s\r\n" % (k, v))
    lines.append("\r\n")
    return "".join(lines).encode("utf-8")


def _split_host_port(hostport, default_port, url):
    # "host:port", "[::1]:port" or "host" as (host, port).
    if hostport.startswith("["):
        end = hostport.find("]")
        host = hostport[1:end]
        rest = hostport[end + 1:]
    elif hostport.count(":") == 1:
        host, rest = hostport.split(":")
        rest = ":" + rest
    else:
        host, rest = hostport, ""
    if rest.startswith(":") and rest[1:]:
        digits = rest[1:]
        # int() would take " 80", "+80" and "8_0": only 1 to 5 ASCII digits are a port
        if len(digits) > 5 or [c for c in digits if c not in "0123456789"] or not 0 < int(digits) < 65536:
            raise NatsBridgeError(KIND_INVALID_INPUT, url, "the port %r is not a number from 1 to 65535" % digits)
        return host, int(digits)
    return host, default_port


_AUTH_REFUSED = "the server refused the credentials: "  # starts the detail of that connect error


def parse_url(url, default_scheme, default_port):
    """(scheme, userinfo, host, port, path) of url; the path keeps its leading "/"."""
    scheme = default_scheme
    rest = url
    i = url.find("://")
    if i >= 0:
        scheme = url[:i].lower()
        rest = url[i + 3:]
    i = rest.find("/")
    hostport, path = (rest, "/") if i < 0 else (rest[:i], rest[i:])
    userinfo = ""
    i = hostport.rfind("@")
    if i >= 0:
        userinfo, hostport = hostport[:i], hostport[i + 1:]
    if not hostport:
        raise NatsBridgeError(KIND_INVALID_INPUT, url, "no host")
    host, port = _split_host_port(hostport, default_port, url)
    return scheme, userinfo, host, port, path


def _open_socket(host, port, timeout, url):
    try:
        addr = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][-1]
        sock = socket.socket()
    except OSError as e:
        raise NatsBridgeError(KIND_CONNECT, url, "cannot resolve %s: %s" % (host, e))
    try:
        sock.settimeout(timeout)
        sock.connect(addr)
    except OSError as e:
        sock.close()
        raise NatsBridgeError(KIND_CONNECT, url, "cannot connect: %s" % e)
    _no_delay(sock)
    if not hasattr(sock, "recv_into"):  # MicroPython
        sock = _MpStream(sock, sock)
        sock.settimeout(timeout)
    return sock


def _no_delay(sock):
    # TCP_NODELAY where the port offers it: each frame goes out in one write, and Nagle's
    # algorithm would hold it back for the peer's delayed ACK (40 ms). MicroPython's unix
    # port passes Linux's numbers through without naming them (IPPROTO_TCP 6, TCP_NODELAY
    # 1, also lwIP's); a port without the option keeps Nagle.
    if not hasattr(sock, "setsockopt"):
        return
    try:
        sock.setsockopt(getattr(socket, "IPPROTO_TCP", 6), getattr(socket, "TCP_NODELAY", 1), 1)
    except (OSError, ValueError, TypeError):
        pass


# TLS for tls:// servers, servers that require it and https links: the certificate chain
# and the host name are verified unless a caller opts out. tls_defaults() sets the CA file
# (PEM or DER) every connection uses when it names none; CPython falls back to the system
# store, MicroPython (no store) needs a CA file or an explicit verify=False.
_TLS = [None, True]


def tls_defaults(ca_file=None, verify=True):
    """Sets the CA file (PEM or DER; None: CPython's system store) and verification
    (verify=False connects to any certificate: unsafe, for a port or server that cannot
    verify) of every TLS connection that does not name its own."""
    _TLS[0] = ca_file
    _TLS[1] = verify


def _ca_der(ca_file):
    # The first certificate of a PEM or DER file as DER (MicroPython's mbedtls takes DER).
    import binascii
    data = open(ca_file, "rb").read()
    i = data.find(b"-----BEGIN CERTIFICATE-----")
    if i < 0:
        return data
    j = data.find(b"-----END", i)
    return binascii.a2b_base64(b"".join(data[i + 27:j].split()))


class _MpStream:
    # A MicroPython socket (plain or TLS) read like CPython's: recv_into returns what has
    # arrived (a blocking readinto would wait to fill the whole buffer) and settimeout is
    # honoured by waiting on the raw socket with poll, the stream itself non-blocking (a
    # timeout inside mbedtls's own blocking read breaks the session).

    def __init__(self, raw, stream):
        import select
        self.raw = raw
        self.stream = stream
        self.timeout = 5.0
        self.poll = select.poll()
        self.poll.register(raw)
        stream.setblocking(False)
        self.select = select
        self.read = getattr(stream, "recv_into", None) or stream.readinto

    def settimeout(self, t):
        self.timeout = t

    def _wait(self, event):
        self.poll.modify(self.raw, event)
        if not self.poll.poll(int(self.timeout * 1000) if self.timeout is not None else -1):
            raise OSError(110)

    def recv_into(self, mv):
        while True:
            n = self.read(mv)
            if n is not None:
                return n
            self._wait(self.select.POLLIN)

    def sendall(self, data):
        mv = memoryview(data)
        while mv:
            n = self.stream.write(mv)
            if n:
                mv = mv[n:]
            else:
                self._wait(self.select.POLLOUT)

    def close(self):
        self.stream.close()


def _tls_wrap(sock, host, url, ca_file=None, verify=None):
    # sock as a TLS client socket for host, verified per tls_defaults() unless ca_file or
    # verify say otherwise; NatsBridgeError connect naming url when the handshake fails
    # (a certificate no trusted CA signed, another host's name, no ssl module).
    ca_file = _TLS[0] if ca_file is None else ca_file
    verify = _TLS[1] if verify is None else verify
    if isinstance(sock, _MpStream):  # the handshake blocks, within the connection's timeout
        timeout = sock.timeout
        sock = sock.raw
        sock.setblocking(True)
        sock.settimeout(timeout)
    try:
        import ssl
    except ImportError:
        raise NatsBridgeError(KIND_CONNECT, url, "TLS needs the ssl module, which this port lacks")
    try:
        if hasattr(ssl, "create_default_context"):  # CPython
            ctx = ssl.create_default_context(cafile=ca_file)
            if not verify:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            return ctx.wrap_socket(sock, server_hostname=host)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if verify:
            if ca_file is None:
                raise NatsBridgeError(KIND_CONNECT, url, "this port has no system certificate store: name a CA file (tls_ca_file, tls_defaults) or opt out with tls_verify=False")
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cadata=_ca_der(ca_file))
        else:
            ctx.verify_mode = ssl.CERT_NONE
        return _MpStream(sock, ctx.wrap_socket(sock, server_hostname=host))
    except (OSError, ValueError) as e:
        sock.close()
        raise NatsBridgeError(KIND_CONNECT, url, "TLS handshake with %s failed: %s" % (host, ("%s" % e).strip()))


def _receive_buffer(n):
    # The bytearray(n) a connection reads into, made once for it (a recv per read would
    # allocate and shrink a buffer each time, fragmenting a small heap); None when it does
    # not fit even after one collection, and the caller raises its own error.
    try:
        return bytearray(n)
    except MemoryError:
        gc.collect()
    try:
        return bytearray(n)
    except MemoryError:
        return None


class _Received:
    # The bytes received and not yet consumed: buf[r:w] of one bytearray that recv_into
    # fills in place (no allocation per read, so a small heap does not fragment); it is
    # made at the first read and grows only for a line longer than it.

    def __init__(self, size):
        self.size = size
        self.buf = None
        self.r = self.w = 0

    def __len__(self):
        return self.w - self.r

    def room(self):
        # A memoryview of the free space after the held bytes, which move to the front
        # (or into a buffer twice the size, when they fill it) first if little is left;
        # None when memory is short.
        buf = self.buf
        if buf is None:
            buf = self.buf = _receive_buffer(self.size)
            if buf is None:
                return None
        n = self.w - self.r
        if self.r and len(buf) - self.w < len(buf) // 4:
            if n <= self.r:  # apart: copied without a temporary
                memoryview(buf)[:n] = memoryview(buf)[self.r:self.w]
            else:
                buf[:n] = buf[self.r:self.w]
            self.r, self.w = 0, n
        elif self.w == len(buf):
            bigger = _receive_buffer(2 * len(buf))
            if bigger is None:
                return None
            memoryview(bigger)[:n] = memoryview(buf)[self.r:self.w]
            buf = self.buf = bigger
            self.r, self.w = 0, n
        return memoryview(buf)[self.w:]

    def view(self, limit, end=None):
        # Up to limit of the held bytes (with end: those before index end, and the two
        # after it) as a memoryview of the buffer, consumed: valid until the next read (a
        # file's write or a hash takes it without a copy; bytes() keeps it).
        start = self.r
        stop = min(start + limit, self.w) if end is None else end
        self.r = stop if end is None else end + 2
        if self.r >= self.w:
            self.r = self.w = 0
        return memoryview(self.buf)[start:stop] if stop > start else memoryview(b"")

    def line(self):
        # The bytes before the next CRLF, consumed with it; None before one has come.
        i = self.buf.find(b"\r\n", self.r, self.w) if self.w else -1
        return bytes(self.view(0, i)) if i >= 0 else None


def _send_all(sock, data):
    # sendall where the port has it; a loop over send() elsewhere.
    if hasattr(sock, "sendall"):
        sock.sendall(data)
        return
    mv = memoryview(data)
    while mv:
        n = sock.send(mv)
        mv = mv[n:]


class NatsMsg:
    """A message received from NATS: subject, reply (the reply subject, "" for none),
    data (bytes, or bytearray for a large body), headers (a dict, {} without headers), status (the HMSG status code
    as str, "" without one) and sid."""

    def __init__(self, client, subject, sid, reply, data, headers=None, status=""):
        self.client = client
        self.subject = subject
        self.sid = sid
        self.reply = reply
        self.data = data
        self.headers = headers or {}
        self.status = status

    def respond(self, data):
        """Publishes data on this message's reply subject."""
        if not self.reply:
            raise NatsBridgeError(KIND_INVALID_INPUT, self.subject, "the message has no reply subject")
        self.client.publish(self.reply, data)

    def __repr__(self):
        return "NatsMsg(subject=%r, reply=%r, data=%r)" % (self.subject, self.reply, self.data)


def _parse_headers(block):
    # ("503", {"Nats-Msg-Id": "x"}) from b"NATS/1.0 503\r\nNats-Msg-Id: x\r\n\r\n".
    lines = block.decode("utf-8").split("\r\n")
    status = lines[0][8:].strip().split(" ")[0] if lines[0].startswith("NATS/1.0") else ""
    headers = {}
    for line in lines[1:]:
        i = line.find(":")
        if i > 0:
            headers[line[:i].strip()] = line[i + 1:].strip()
    return status, headers


class NatsClient:
    """A NATS connection. url is nats:// or tls://[user:password@|token@]host[:port];
    user/password or token given here win over the URL's. tls:// and servers that
    require TLS get a TLS connection verified against tls_ca_file (default: see
    tls_defaults()); tls_verify=False opts out of verification. timeout (seconds) bounds
    connect, flush, request and the reading of a started message.

        c = NatsClient("nats://127.0.0.1:4222")
        c.connect()
        c.subscribe("chat.>", lambda msg: print(msg.data))
        c.publish("chat.room1", b"hello")
        c.wait_msg(1.0)
        c.close()
    """

    def __init__(self, url="nats://localhost:4222", user=None, password=None, token=None, name="nats_bridge", timeout=5.0,
                 tls_ca_file=None, tls_verify=None):
        self.url = url
        scheme, userinfo, self.host, self.port, _ = parse_url(url, "nats", 4222)
        if scheme not in ("nats", "tcp", "tls"):
            raise NatsBridgeError(KIND_INVALID_INPUT, url, "only nats:// and tls:// URLs are supported")
        self.tls = scheme == "tls"
        self.tls_ca_file = tls_ca_file
        self.tls_verify = tls_verify
        if userinfo and user is None and token is None:
            if ":" in userinfo:
                user, password = userinfo.split(":", 1)
            else:
                token = userinfo
        self.user = user
        self.password = password
        self.token = token
        self.name = name
        self.timeout = timeout
        self.sock = None
        self.server_info = {}
        self.max_payload = DEFAULT_MAX_PAYLOAD
        self._in = _Received(_RECV_SIZE)  # what has been received, kept across reconnects
        self._subs = {}
        self._next_sid = 1
        self._pongs = 0
        self._inbox = None
        self._inbox_sid = None
        self._responses = {}
        self._awaiting = {}  # reply subjects of the requests waiting for an answer -> True, or write (request())
        self._pending = []  # messages of subscriptions without callback, for wait_msg()
        self._next_token = 1

    # ---- connection ----

    def connect(self):
        """Opens the socket, reads INFO, sends CONNECT and waits for the server's PONG;
        NatsBridgeError connect on failure (also for refused credentials). Returns self."""
        self.close()
        self._inbox = None  # request() subscribes a fresh inbox on this connection
        self._responses = {}
        self.sock = _open_socket(self.host, self.port, self.timeout, self.url)
        try:
            line = self._read_line(self.timeout)
            if line is None or not line.startswith(b"INFO "):
                raise NatsBridgeError(KIND_PROTOCOL, self.url, "expected INFO, got %r" % line)
            self._on_info(line)
            if self.tls or self.server_info.get("tls_required"):
                self.sock = _tls_wrap(self.sock, self.host, self.url, self.tls_ca_file, self.tls_verify)
            opts = {"verbose": False, "pedantic": False, "lang": "python", "version": "1",
                    "protocol": 1, "headers": True, "no_responders": True, "name": self.name}
            if self.user is not None:
                opts["user"] = self.user
                opts["pass"] = self.password or ""
            if self.token is not None:
                opts["auth_token"] = self.token
            self._send(b"CONNECT " + dumps(opts).encode("utf-8") + b"\r\n")
            self.flush()
        except NatsBridgeError as e:
            self.close()
            if e.kind == KIND_NATS:  # lost in the handshake (a server refusing credentials may reset it before its -ERR is read)
                raise NatsBridgeError(KIND_CONNECT, self.url, "lost while connecting: %s" % e.detail)
            raise
        except OSError as e:
            self.close()
            raise NatsBridgeError(KIND_CONNECT, self.url, "lost while connecting: %s" % e)
        for sid in self._subs:  # a reconnect restores the subscriptions
            self._send_sub(sid)
        return self

    def reconnect(self, attempts=10, base_delay=BASE_DELAY_MS, max_delay=MAX_DELAY_MS):
        """Connects again after a lost connection (NatsBridgeError nats from
        wait_msg, publish, ...): at most attempts tries, waiting between them a delay
        drawn from [0, min(max_delay, base_delay * 2^attempt)] ms. The subscriptions
        are restored; what was published while the connection was down is not
        delivered (use JetStream for that). Raises the last error after the last try,
        and refused credentials at once. Returns self.

            while True:
                try:
                    c.wait_msg(1.0)
                except NatsBridgeError as e:
                    if e.kind != KIND_NATS:
                        raise
                    c.reconnect()
        """
        attempt = 0
        while True:
            try:
                return self.connect()
            except NatsBridgeError as e:
                attempt += 1
                if e.detail.startswith(_AUTH_REFUSED) or attempt >= attempts:
                    raise
            _sleep_ms(backoff_delay_ms(attempt - 1, base_delay, max_delay))

    def is_connected(self):
        """True between a successful connect() and close() or a lost connection."""
        return self.sock is not None

    def close(self):
        """Closes the socket (nothing happens when it is not open)."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self._in.view(len(self._in))  # what was held is dropped (the buffer is kept)

    def _on_info(self, line):
        try:
            info = loads(line[5:])
        except NatsBridgeError as e:
            raise self._bad("INFO is not JSON: %s" % e)
        if not isinstance(info, dict) or not isinstance(info.get("max_payload", 0), int):
            raise self._bad("INFO is not a JSON object with an integer max_payload")
        self.server_info = info
        self.max_payload = info.get("max_payload", self.max_payload)

    def _lost(self, detail):
        self.close()
        return NatsBridgeError(KIND_NATS, self.url, detail)

    def _bad(self, detail):
        # The server's bytes are not the NATS protocol: the stream cannot be trusted further.
        self.close()
        return NatsBridgeError(KIND_PROTOCOL, self.url, detail)

    def _send(self, data):
        if self.sock is None:
            raise NatsBridgeError(KIND_NATS, self.url, "not connected")
        try:
            self.sock.settimeout(self.timeout)  # a read may have left it at 1 ms (check_msg)
            _send_all(self.sock, data)
        except OSError as e:
            raise self._lost("send failed: %s" % e)

    # ---- reading ----

    def _fill(self, timeout):
        # One recv into the buffer; False on timeout. Raises when the server closed.
        if self.sock is None:
            raise NatsBridgeError(KIND_NATS, self.url, "not connected")
        room = self._in.room()
        if room is None:  # a small heap, and a server that sends no CRLF
            raise self._bad("out of memory for the receive buffer, holding %d bytes without CRLF" % len(self._in))
        try:
            self.sock.settimeout(timeout)
            n = self.sock.recv_into(room)
        except OSError as e:
            if _is_timeout(e):
                return False
            raise self._lost("receive failed: %s" % e)
        if not n:
            raise self._lost("the server closed the connection")
        self._in.w += n
        return True

    def _read_line(self, timeout):
        while True:
            line = self._in.line()
            if line is not None:
                return line
            if len(self._in) > _MAX_LINE:
                raise self._bad("no CRLF within %d bytes: %r..." % (_MAX_LINE, bytes(self._in.view(40))))
            if not self._fill(timeout):
                return None

    def _read_exact(self, n):
        # n bytes and their trailing CRLF, waiting at most timeout per recv. A large
        # body is read straight into its own bytearray: no regrowing buffer.
        if len(self._in) >= n:
            data = bytes(self._in.view(n))
        else:
            data = bytearray(n)
            have = len(self._in)
            mv = memoryview(data)
            if have:
                mv[:have] = self._in.view(have)
            while have < n:
                have += self._recv_into(mv[have:])
            mv = None
        while len(self._in) < 2:
            if not self._fill(self.timeout):
                raise self._lost("timed out in the middle of a message")
        if bytes(self._in.view(2)) != b"\r\n":
            raise self._bad("a message body is not followed by CRLF: its byte count is wrong")
        return data

    def _recv_into(self, mv):
        # Fills the start of the memoryview mv; the number of bytes, never 0.
        try:
            self.sock.settimeout(self.timeout)
            n = self.sock.recv_into(mv)
        except OSError as e:
            raise self._lost("receive failed in the middle of a message: %s" % e)
        if not n:
            raise self._lost("the server closed the connection in the middle of a message")
        return n

    def _process_op(self, timeout):
        # Reads and handles one protocol operation; returns the NatsMsg it delivered,
        # True for another operation, None when nothing arrived within timeout.
        line = self._read_line(timeout)
        if line is None:
            return None
        if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
            return self._on_msg(line)
        if line == b"PING":
            self._send(b"PONG\r\n")
        elif line == b"PONG":
            self._pongs += 1
        elif line.startswith(b"-ERR"):
            try:
                text = line[4:].strip().strip(b"'").decode("utf-8")
            except UnicodeError:
                raise self._bad("-ERR with a text that is not UTF-8: %r" % line[:80])
            if "uthoriz" in text or "uthentic" in text:
                self.close()
                raise NatsBridgeError(KIND_CONNECT, self.url, "%s%s" % (_AUTH_REFUSED, text))
            if "maximum payload" in text.lower():
                self.close()
            raise NatsBridgeError(KIND_NATS, self.url, "the server said: %s" % text)
        elif line.startswith(b"INFO "):
            # An update after the handshake's INFO (nats-server sends one after CONNECT,
            # a cluster on topology changes): only its max_payload counts here, read in
            # place, since a small heap mid-transfer has no room for a second INFO object;
            # server_info stays the handshake's.
            k = len(line) - 1
            while k > 5 and line[k] == 32:  # nats-server ends the line with a space
                k -= 1
            if line[5:6] != b"{" or line[k] != 125:
                raise self._bad("an INFO update that is not a JSON object: %r" % line[:80])
            i = line.find(b'"max_payload":') + 14
            if i > 13:
                while i < k and line[i] == 32:
                    i += 1
                j = i
                while j < len(line) and 48 <= line[j] <= 57:
                    j += 1
                if j == i or line[j:j + 1] not in b",}":
                    raise self._bad("an INFO update whose max_payload is not an integer: %r" % line[:120])
                self.max_payload = int(line[i:j])
        elif line != b"+OK":
            raise self._bad("unknown operation %r" % line[:80])
        return True

    def _on_msg(self, line):
        try:
            parts = line.decode("utf-8").split(" ")
            hmsg = parts[0] == "HMSG"
            if len(parts) not in ((5, 6) if hmsg else (4, 5)):
                raise ValueError("arguments")
            reply = parts[3] if len(parts) == (6 if hmsg else 5) else ""
            hdr_len, total = (int(parts[-2]), int(parts[-1])) if hmsg else (0, int(parts[-1]))
            subject, sid = parts[1], int(parts[2])
            if not subject or hdr_len < 0 or total < hdr_len:
                raise ValueError("sizes")
        except (UnicodeError, ValueError):
            raise self._bad("bad message line %r" % line[:120])
        if total > self.max_payload:
            raise self._bad("a message of %d bytes is over the server's max_payload of %d" % (total, self.max_payload))
        write = self._awaiting.get(subject, True) if sid == self._inbox_sid and subject not in self._responses else True
        if write is not True and hdr_len >= 12:
            # the answer to a request() with write: its headers held, a body without a
            # status (a stored message) passed to write in pieces of at most _RECV_SIZE
            # bytes, never held whole; a status answer (404 ...) is kept whole (small)
            block = self._read_exact(hdr_len - 2)  # the block ends in a blank line: its CRLF checked here
            try:
                status, headers = _parse_headers(block)
            except UnicodeError:
                raise self._bad("message headers are not UTF-8")
            body = self._read_exact(total - hdr_len) if status else None
            left = 0 if status else total - hdr_len
            failed = None  # what write raised: the rest is read (the stream stays in step), then raised
            while left > 0:
                if not self._in and not self._fill(self.timeout):
                    raise self._lost("timed out in the middle of a message")
                piece = self._in.view(left)  # write is a _Body's take (request())
                left -= len(piece)
                if failed is None:
                    try:
                        write(piece)
                    except Exception as e:
                        failed = e
            if body is None:
                self._read_exact(0)
            if failed is not None:
                raise failed
            self._responses[subject] = NatsMsg(self, subject, sid, reply, body, headers, status)
            return True
        body = self._read_exact(total)
        status, headers = "", {}
        if hdr_len:
            try:
                status, headers = _parse_headers(body[:hdr_len])
            except UnicodeError:
                raise self._bad("message headers are not UTF-8")
            body = body[hdr_len:]
        msg = NatsMsg(self, subject, sid, reply, body, headers, status)
        if sid == self._inbox_sid:
            # only the first answer to a request still waiting is kept: late, repeated or
            # unasked-for inbox messages are dropped, not held for ever
            if subject in self._awaiting and subject not in self._responses:
                self._responses[subject] = msg
            return True
        sub = self._subs.get(sid)
        if sub is None:
            return True  # a late message of an ended subscription
        if sub[2] is None:
            self._pending.append(msg)
        else:
            sub[2](msg)
        return msg

    def wait_msg(self, timeout=None):
        """Returns the next message: one of a subscription without callback that
        arrived earlier (also while flush() or request() waited), or the next one to
        arrive, after calling its subscription's callback if it has one. None when
        none arrived within timeout seconds (default: self.timeout)."""
        if timeout is None:
            timeout = self.timeout
        start = _ticks_ms()
        while True:
            if self._pending:
                return self._pending.pop(0)
            left = timeout - _ms_since(start) / 1000.0
            if left <= 0:
                return None
            got = self._process_op(left)
            if got is None:
                return None
            if got is not True and not self._pending:
                return got

    def check_msg(self):
        """Like wait_msg() without waiting: handles what has already arrived and
        returns a message (or None)."""
        last = None
        while not self._pending:
            got = self._process_op(0.001 if not self._in else self.timeout)
            if got is None:
                return last
            if got is not True:
                last = got
        return self._pending.pop(0)

    def flush(self, timeout=None):
        """Sends PING and waits for PONG: the server has then seen everything sent."""
        if timeout is None:
            timeout = self.timeout
        want = self._pongs + 1
        self._send(b"PING\r\n")
        start = _ticks_ms()
        while self._pongs < want:
            left = timeout - _ms_since(start) / 1000.0
            if left <= 0 or self._process_op(left) is None:
                raise NatsBridgeError(KIND_TIMEOUT, self.url, "no PONG within %s s" % timeout)

    # ---- publishing and subscribing ----

    def publish(self, subject, data, reply_to="", headers=None):
        """Publishes bytes (or str, sent as UTF-8, or a list of bytes sent one after
        the other as one message) on subject, with an optional reply subject and
        headers (a dict). Refuses, naming the subject, a message larger than the
        server's max_payload before sending anything. Returns once the frame is
        written, without waiting for the server: flush() does that (an -ERR the
        server sends meanwhile is raised by the next call that reads)."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        parts = data if isinstance(data, list) else [data]
        _check_token(subject, "subject")
        if reply_to:
            _check_token(reply_to, "reply subject")
        hdr = _header_block(headers) if headers else b""
        size = len(hdr)
        for part in parts:
            size += len(part)
        if size > self.max_payload:
            raise NatsBridgeError(KIND_TOO_LARGE, subject, "%d bytes exceed the server's max_payload of %d" % (size, self.max_payload))
        reply = (" " + reply_to) if reply_to else ""
        if hdr:
            op = "HPUB %s%s %d %d\r\n" % (subject, reply, len(hdr), size)
        else:
            op = "PUB %s%s %d\r\n" % (subject, reply, size)
        frame = [op.encode("utf-8"), hdr] + parts + [b"\r\n"]
        try:
            frame = b"".join(frame)  # the whole frame in one write
        except MemoryError:  # a small heap: the parts one after the other (a copy would not fit)
            gc.collect()
        if isinstance(frame, list):
            for part in frame:
                self._send(part)
        else:
            self._send(frame)
        frame = None

    def subscribe(self, subject, callback=None, queue=""):
        """Subscribes to subject (wildcards allowed; queue group optional); callback is
        called with each NatsMsg. Returns the subscription id."""
        _check_token(subject, "subject")
        if queue:
            _check_token(queue, "queue group")
        sid = self._next_sid
        self._next_sid += 1
        self._subs[sid] = (subject, queue, callback)
        self._send_sub(sid)
        return sid

    def _send_sub(self, sid):
        subject, queue = self._subs[sid][0], self._subs[sid][1]
        self._send(("SUB %s %s%d\r\n" % (subject, queue + " " if queue else "", sid)).encode("utf-8"))

    def unsubscribe(self, sid):
        """Ends the subscription sid."""
        self._subs.pop(sid, None)
        self._send(("UNSUB %d\r\n" % sid).encode("utf-8"))

    def request(self, subject, data, timeout=None, headers=None, write=None):
        """Publishes data with a fresh reply subject and returns the first NatsMsg that
        answers; NatsBridgeError timeout after timeout seconds, no_responders when no
        one subscribes to subject. With write, the body of an answer that has headers
        and no status (a JetStream direct get's stored message) is passed to
        write(chunk) in pieces as it arrives, never held whole (the NatsMsg then has
        data None); what write raises is raised once the message is read."""
        if timeout is None:
            timeout = self.timeout
        _check_token(subject, "subject")
        if self._inbox is None:
            self._inbox = "_INBOX.%s" % uuid4().replace("-", "")
            self._inbox_sid = self._next_sid
            self._next_sid += 1
            self._send(("SUB %s.* %d\r\n" % (self._inbox, self._inbox_sid)).encode("utf-8"))
        reply = "%s.%d" % (self._inbox, self._next_token)
        self._next_token += 1
        if write is not None:  # the pieces are views of the receive buffer: a caller's write gets copies
            write = write.take if isinstance(write, _Body) else _copying(write)
        self._awaiting[reply] = write or True
        try:
            self.publish(subject, data, reply, headers)
            start = _ticks_ms()
            while reply not in self._responses:
                left = timeout - _ms_since(start) / 1000.0
                if left <= 0 or self._process_op(left) is None:
                    raise NatsBridgeError(KIND_TIMEOUT, subject, "no reply within %s s" % timeout)
        finally:
            self._awaiting.pop(reply, None)
        msg = self._responses.pop(reply)
        if msg.status == "503":
            raise NatsBridgeError(KIND_NO_RESPONDERS, subject, "no one subscribes to %s" % subject)
        return msg

    def jetstream_publish(self, subject, data, msg_id=None, timeout=None):
        """Publishes to a JetStream stream and waits for its acknowledgement, returned
        as a dict ({"stream": ..., "seq": ..., "duplicate": ...}). msg_id goes in the
        Nats-Msg-Id header for de-duplication. NatsBridgeError jetstream when the
        stream refuses the message, no_responders when no stream holds the subject."""
        headers = {"Nats-Msg-Id": msg_id} if msg_id else None
        try:
            msg = self.request(subject, data, timeout, headers)
        except NatsBridgeError as e:
            if e.kind == KIND_NO_RESPONDERS:
                raise NatsBridgeError(KIND_NO_RESPONDERS, subject, "no JetStream stream holds %s" % subject)
            raise
        ack = loads(msg.data)
        if not isinstance(ack, dict) or "error" in ack or "stream" not in ack:
            raise NatsBridgeError(KIND_JETSTREAM, subject, "the stream refused the message: %s" % msg.data.decode("utf-8"))
        return ack
