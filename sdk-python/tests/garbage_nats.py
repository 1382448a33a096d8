"""A scripted NATS server for the bad-input tests (CPython): it greets like nats-server,
answers the handshake's PING, then sends the bytes of the scenario the client named in
its CONNECT (`name`; `raw:HEX` sends those bytes and closes). A second port greets with an INFO line that is not JSON.

    python3 garbage_nats.py PORT BAD_INFO_PORT
"""

import json
import socket
import sys
import threading
import time

INFO = b'INFO {"server_id":"garbage","version":"2.15.1","proto":1,"headers":true,"max_payload":1048576}\r\n'

# What follows the PONG of the handshake, per scenario; "close" cuts the connection after.
SCENARIOS = {
    "unknown_op": (b"BOGUS stuff\r\n", False),
    "binary_junk": (b"\x00\xff\xfe\x80\x01junk\r\n", False),
    "msg_missing_args": (b"MSG only.subject\r\n", False),
    "msg_negative_size": (b"MSG a.b 1 -5\r\nhello\r\n", False),
    "msg_size_not_a_number": (b"MSG a.b 1 five\r\nhello\r\n", False),
    "msg_huge_size": (b"MSG a.b 1 99999999999999\r\nhello\r\n", False),
    "msg_wrong_byte_count": (b"MSG a.b 1 3\r\nhello\r\n", False),
    "hmsg_headers_longer_than_total": (b"HMSG a.b 1 20 5\r\nNATS/1.0\r\n\r\nhello\r\n", False),
    "hmsg_headers_not_utf8": (b"HMSG a.b 1 14 16\r\nNATS/1.0\r\n\xff\xfe\r\nhi\r\n", False),
    "subject_not_utf8": (b"MSG \xff\xfe 1 2\r\nhi\r\n", False),
    "control_line_without_crlf": (b"MSG a.b 1 2" + b" " * 40000, False),
    "bare_newlines": (b"PING\n" * 5000, False),
    "err_not_utf8": (b"-ERR '\xff\xfe'\r\n", False),
    "info_not_an_object": (b"INFO [1,2]\r\n", False),
    "info_update_max_payload_not_an_integer": (b'INFO {"server_id":"garbage","max_payload":"big"}\r\n', False),
    "info_update": (b'INFO {"server_id":"garbage","connect_urls":["127.0.0.1:1"],"max_payload":512}\r\nPING\r\n', False),
    "truncated_body": (b"MSG a.b 1 100\r\nonly a few bytes", True),
    "closed_mid_line": (b"MSG a.b 1", True),
}


def serve(conn, bad_info):
    try:
        conn.settimeout(10)
        if bad_info:
            conn.sendall(b"INFO {not json at all\r\n")
            time.sleep(2)
            return
        conn.sendall(INFO)
        got = b""
        while b"PING\r\n" not in got:
            chunk = conn.recv(4096)
            if not chunk:
                return
            got += chunk
        line = got.split(b"\r\n")[0]
        name = json.loads(line[len(b"CONNECT "):]).get("name", "")
        if name.startswith("raw:"):  # the fuzz test's own bytes, hex-encoded, then a close
            data, close = bytes.fromhex(name[4:]), True
        else:
            data, close = SCENARIOS.get(name, (b"", False))
        conn.sendall(b"PONG\r\n" + data)
        if not close:
            time.sleep(5)
    except OSError:
        pass
    finally:
        conn.close()


def listen(port, bad_info):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", port))
    server.listen(16)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn, bad_info), daemon=True).start()


if __name__ == "__main__":
    threading.Thread(target=listen, args=(int(sys.argv[2]), True), daemon=True).start()
    listen(int(sys.argv[1]), False)
