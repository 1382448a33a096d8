"""A raw-socket HTTP server for the hostile-input tests (CPython): it records every byte a
client sends and answers with responses no real server would send.

    python3 hostile_http.py PORT

Each connection is read until its head and body end (for /record/ plus whatever follows
within 0.2 s: a pipelined second request), recorded, answered and closed.

GET /bad/NAME           a broken response: NAME is one of RESPONSES below
GET /bytes/N/NAME       N bytes of the pattern (i * 7) % 251, with Content-Length
POST /stage/ID          keeps the request body as the raw response of /replay/ID
GET /replay/ID          sends the staged bytes as they are, then closes
GET /record/NAME        "ok", after waiting 0.2 s for more bytes behind the request
GET /seen/TOKEN         how many request lines ("METHOD TARGET HTTP/1.1") holding TOKEN
                        all connections so far have carried, as decimal text
"""

import re
import socket
import sys
import threading

RESPONSES = {
    "content-length-not-a-number": b"HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\nhello",
    "content-length-negative": b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\nhello",
    "content-length-blank-sign": b"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
    "chunk-size-not-hex": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk-size-negative": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
    "header-not-utf8": b"HTTP/1.1 200 OK\r\nX-Junk: \xff\xfe\r\nContent-Length: 5\r\n\r\nhello",
    "status-line-junk": b"\x00\x01 junk\r\n\r\n",
}
STAGED = {}
SEEN = []  # the raw bytes of every connection
LOCK = threading.Lock()
REQUEST_LINE = re.compile(rb"^[A-Z]+ (\S+) HTTP/1\.[01]\r?$", re.M)


def pattern(n):
    return bytes((i * 7) % 251 for i in range(n))


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    want = int(m.group(1)) if m else 0
    while len(rest) < want:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
        data += chunk
    if not head.split(b" ")[1:2] or not head.split(b" ")[1].startswith(b"/record/"):
        return data
    conn.settimeout(0.2)  # a smuggled request comes right behind the first one
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def answer(data):
    first = data.split(b"\r\n", 1)[0].split(b" ")
    target = first[1].decode("latin-1") if len(first) > 1 else ""
    parts = target.split("/")
    if target.startswith("/bad/") and parts[2] in RESPONSES:
        return RESPONSES[parts[2]]
    if target.startswith("/bytes/"):
        body = pattern(int(parts[2]))
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    if target.startswith("/stage/"):
        with LOCK:
            STAGED[parts[2]] = data.partition(b"\r\n\r\n")[2]
        return b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
    if target.startswith("/replay/"):
        with LOCK:
            return STAGED.pop(parts[2], b"")
    if target.startswith("/record/"):
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    if target.startswith("/seen/"):
        token = parts[2].encode("latin-1")
        with LOCK:
            n = sum(1 for raw in SEEN for m in REQUEST_LINE.finditer(raw)
                    if token in m.group(1) and not m.group(1).startswith(b"/seen/"))
        body = str(n).encode()
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def serve(conn):
    try:
        conn.settimeout(10)
        data = read_request(conn)
        with LOCK:
            SEEN.append(data)
        conn.settimeout(10)
        conn.sendall(answer(data))
    except OSError:
        pass
    finally:
        conn.close()


def main(port):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(64)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main(int(sys.argv[1]))
