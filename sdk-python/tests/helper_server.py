"""HTTP behaviours that nginx cannot be asked for, for the download retry tests (CPython).

    python3 helper_server.py PORT

GET /flaky/N/NAME       HTTP 503 for the first N requests of that path, then 200
GET /status/CODE/NAME   always HTTP CODE (404, 403, 429, 500 ...)
GET /short/N/NAME       announces N bytes, sends half, hangs up (a connection error)
GET /drop-once/N/NAME   like /short the first time, then the N bytes
GET /bytes/N/NAME       N bytes: byte i is (i * 7) % 251
GET /count/PATH         how many requests PATH has had, as decimal text
GET /drip/N/MS/NAME     N bytes of the /bytes pattern, 256 bytes every MS milliseconds (a slow
                        file server: the asyncio download must not stall the loop)
POST /upload, POST /file/ID, GET /file/ID/FID/NAME
                        a stand-in for the Plik API subset of WIRE.md section 6, so the
                        Plik client runs on every run; the real server is serve-files.
Bodies of /flaky, /short, /drop-once and /bytes are the /bytes pattern.
"""

import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
FILES = {}
LOCK = threading.Lock()


def pattern(n):
    return bytes((i * 7) % 251 for i in range(n))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", content_type="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def count(self):
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            return COUNTS[self.path]

    def do_GET(self):
        if self.path.startswith("/count/"):
            self.reply(200, str(COUNTS.get(self.path[6:], 0)).encode())
            return
        seen = self.count()
        m = re.match(r"^/drip/(\d+)/(\d+)/", self.path)
        if m:
            n, ms = int(m.group(1)), int(m.group(2))
            body = pattern(n)
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.send_header("Connection", "close")
            self.end_headers()
            for i in range(0, n, 256):
                time.sleep(ms / 1000.0)
                self.wfile.write(body[i:i + 256])
                self.wfile.flush()
            return
        m = re.match(r"^/(flaky|status|short|drop-once|bytes)/(\d+)/", self.path)
        if m:
            kind, n = m.group(1), int(m.group(2))
            if kind == "flaky" and seen <= n:
                self.reply(503, b"try again")
            elif kind == "status":
                self.reply(n, b"status %d" % n)
            elif kind == "short" or (kind == "drop-once" and seen == 1):
                self.send_response(200)
                self.send_header("Content-Length", str(n))
                self.end_headers()
                self.wfile.write(pattern(n // 2))
                self.wfile.flush()
                self.close_connection = True
            else:
                self.reply(200, pattern(n if kind != "flaky" else 1000))
            return
        m = re.match(r"^/file/([^/]+)/([^/]+)/", self.path)
        if m and (m.group(1), m.group(2)) in FILES:
            self.reply(200, FILES[(m.group(1), m.group(2))])
            return
        self.reply(404, b"not found")

    def do_POST(self):
        self.count()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/upload":
            json.loads(body or b"{}")
            answer = {"id": uuid.uuid4().hex[:8], "uploadToken": uuid.uuid4().hex}
            self.reply(200, json.dumps(answer).encode(), "application/json")
            return
        m = re.match(r"^/file/([^/]+)$", self.path)
        if not m or not self.headers.get("X-UploadToken"):
            self.reply(400, b"bad request")
            return
        boundary = self.headers["Content-Type"].split("boundary=")[1].encode()
        part = body.split(b"--" + boundary)[1]
        head, data = part.split(b"\r\n\r\n", 1)
        data = data[:-2]  # the CRLF before the closing boundary
        name = re.search(rb'filename="([^"]*)"', head).group(1).decode()
        if b'name="file"' not in head:
            self.reply(400, b"no part named file")
            return
        file_id = uuid.uuid4().hex[:8]
        FILES[(m.group(1), file_id)] = data
        answer = {"id": file_id, "fileName": name, "fileSize": len(data)}
        self.reply(200, json.dumps(answer).encode(), "application/json")


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
