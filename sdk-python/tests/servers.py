"""Real servers for the nats_bridge test suite, started on free 127.0.0.1 ports (CPython).

Each is a context manager whose exit kills the child process, also when a test fails:
nats-server (plain, JetStream, small max_payload, user/password, token), nginx with
WebDAV PUT, the suite's helper HTTP server (helper_server.py) and, when
NATSBRIDGE_SERVE_FILES names the binary, `natsbridge serve-files`.
"""

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def program(name):
    """The path of name on PATH or in pip's scripts folder; fails loudly when missing."""
    found = shutil.which(name) or shutil.which(name, path=sysconfig.get_path("scripts") + os.pathsep + "/usr/sbin")
    if not found:
        raise SystemExit("FAIL: %s is not installed (see scripts/test-all for how to install it)" % name)
    return found


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s before listening" % (what, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), 0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on port %d within %s s" % (what, port, timeout))


class Child:
    """A child process killed (and its temporary folder removed) on exit."""

    def __init__(self, what, argv, port, workdir, stdout=subprocess.DEVNULL):
        self.what = what
        self.port = port
        self.workdir = workdir
        self.proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.STDOUT)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def test_ca(workdir):
    """A test CA made with the openssl CLI in workdir: {"ca": PEM, "cert"/"key": a server
    certificate for the name localhost only (127.0.0.1 is another host to it) signed by it, "other_ca": a CA that signed
    nothing here (a client trusting only it must refuse the server)}."""
    openssl = program("openssl")
    paths = dict((k, os.path.join(workdir, k + ".pem")) for k in ("ca", "ca_key", "cert", "key", "csr", "other_ca", "other_key"))
    ext = os.path.join(workdir, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for argv in (
        ["req", "-x509"] + ec + ["-keyout", paths["ca_key"], "-out", paths["ca"], "-days", "2", "-subj", "/CN=natsbridge test CA"],
        ["req", "-x509"] + ec + ["-keyout", paths["other_key"], "-out", paths["other_ca"], "-days", "2", "-subj", "/CN=untrusted CA"],
        ["req"] + ec + ["-keyout", paths["key"], "-out", paths["csr"], "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", paths["csr"], "-CA", paths["ca"], "-CAkey", paths["ca_key"], "-CAcreateserial",
         "-out", paths["cert"], "-days", "2", "-extfile", ext],
    ):
        subprocess.check_call([openssl] + argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return paths


def nats_server(max_payload=None, jetstream=False, user=None, password=None, token=None, ping_interval=None, tls=None, port=None, workdir=None):
    """A started nats-server; .url is nats://127.0.0.1:PORT (without credentials). tls, a
    test_ca() dict, makes it require TLS with that server certificate. port and workdir
    restart a killed server where it was (its JetStream store kept)."""
    workdir = workdir or tempfile.mkdtemp(prefix="natsbridge-nats-")
    port = port or free_port()
    conf = ["listen: 127.0.0.1:%d" % port]
    if tls:
        conf.append('tls { cert_file: "%s", key_file: "%s" }' % (tls["cert"], tls["key"]))
    if max_payload:
        conf.append("max_payload: %d" % max_payload)
    if ping_interval:
        conf.append('ping_interval: "%s"' % ping_interval)
        conf.append("ping_max: 2")
    if jetstream:
        conf.append('jetstream { store_dir: "%s/js" }' % workdir)
    if user:
        conf.append('authorization { user: "%s", password: "%s" }' % (user, password))
    if token:
        conf.append('authorization { token: "%s" }' % token)
    path = os.path.join(workdir, "nats.conf")
    with open(path, "w") as f:
        f.write("\n".join(conf) + "\n")
    child = Child("nats-server", [program("nats-server"), "-c", path], port, workdir)
    wait_for_port(port, child.proc, "nats-server")
    child.url = "nats://127.0.0.1:%d" % port
    return child


NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    client_max_body_size 256m;
    server {
        listen 127.0.0.1:%(port)d;
        root %(dir)s/root;
        location / {
            dav_methods PUT DELETE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }
    }
%(https)s}
"""

NGINX_HTTPS = """    server {
        listen 127.0.0.1:%(port)d ssl;
        ssl_certificate %(cert)s;
        ssl_certificate_key %(key)s;
        root %(dir)s/root;
    }
"""


def nginx(tls=None):
    """A started nginx serving .root with WebDAV PUT/DELETE; .url is http://127.0.0.1:PORT.
    With tls (a test_ca() dict) it also serves .root read-only at .https_url,
    https://localhost:PORT."""
    workdir = tempfile.mkdtemp(prefix="natsbridge-nginx-")
    os.mkdir(os.path.join(workdir, "root"))
    port = free_port()
    https = ""
    if tls:
        https_port = free_port()
        https = NGINX_HTTPS % {"port": https_port, "cert": tls["cert"], "key": tls["key"], "dir": workdir}
    path = os.path.join(workdir, "nginx.conf")
    with open(path, "w") as f:
        f.write(NGINX_CONF % {"dir": workdir, "port": port, "https": https})
    child = Child("nginx", [program("nginx"), "-c", path, "-p", workdir], port, workdir)
    wait_for_port(port, child.proc, "nginx")
    child.url = "http://127.0.0.1:%d" % port
    child.root = os.path.join(workdir, "root")
    if tls:
        wait_for_port(https_port, child.proc, "nginx https")
        child.https_url = "https://localhost:%d" % https_port
    return child


def _http_script(name):
    # A started HTTP server script of this folder taking its port; .url is http://127.0.0.1:PORT.
    port = free_port()
    child = Child(name, [sys.executable, os.path.join(HERE, name), str(port)], port, None)
    wait_for_port(port, child.proc, name)
    child.url = "http://127.0.0.1:%d" % port
    return child


def helper_server():
    """helper_server.py (flaky downloads, failures on demand, a Plik API stand-in)."""
    return _http_script("helper_server.py")


def hostile_http():
    """hostile_http.py (records the bytes it receives, sends broken responses)."""
    return _http_script("hostile_http.py")


def garbage_nats():
    """garbage_nats.py: .url sends the scenario named in CONNECT, .info_url a bad INFO."""
    port, info_port = free_port(), free_port()
    argv = [sys.executable, os.path.join(HERE, "garbage_nats.py"), str(port), str(info_port)]
    child = Child("garbage_nats.py", argv, port, None)
    wait_for_port(port, child.proc, "garbage_nats.py")
    wait_for_port(info_port, child.proc, "garbage_nats.py")
    child.url = "nats://127.0.0.1:%d" % port
    child.info_url = "nats://127.0.0.1:%d" % info_port
    return child


def faulty_http(binary):
    """The misbehaving file server of tests/support (`faulty-http`), or None when binary is
    unset (its tests then fail, naming NATSBRIDGE_FAULTY_HTTP). Stops for 1.2 s, drips a
    byte every 200 ms."""
    if not binary:
        print("!!! NATSBRIDGE_FAULTY_HTTP is not set: the faulty file server tests will FAIL !!!")
        return None
    workdir = tempfile.mkdtemp(prefix="natsbridge-faulty-")
    argv = [binary, "--dir", workdir, "--down-ms", "1200", "--drip-ms", "200"]
    child = Child("faulty-http", argv, 0, workdir, stdout=subprocess.PIPE)
    line = child.proc.stdout.readline().decode("utf-8", "replace").strip()
    if not line.startswith("listening on http://"):
        child.stop()
        raise RuntimeError("faulty-http printed %r instead of 'listening on http://...'" % line)
    child.url = line[len("listening on "):]
    return child


def serve_files(binary, upload_token, max_upload_bytes):
    """`natsbridge serve-files`, per its contract: it prints `listening on URL` when ready."""
    workdir = tempfile.mkdtemp(prefix="natsbridge-serve-files-")
    argv = [binary, "serve-files", "--dir", workdir, "--listen", "127.0.0.1:0",
            "--upload-token", upload_token, "--max-upload-bytes", str(max_upload_bytes)]
    child = Child("natsbridge serve-files", argv, 0, workdir, stdout=subprocess.PIPE)
    line = child.proc.stdout.readline().decode("utf-8", "replace").strip()
    if not line.startswith("listening on http://"):
        child.stop()
        raise RuntimeError("natsbridge serve-files printed %r instead of 'listening on http://...'" % line)
    child.url = line[len("listening on "):]
    return child
