"""Runs the mps2-an386 port of the example firmware under QEMU against real servers, checked
by the std SDK (the `natsbridge` CLI) as the host peer.

The firmware (Cortex-M4, LAN9118 driver, DHCP from QEMU's user networking) must:
  1. connect to nats-server, subscribe, and announce itself (a direct envelope on device.status);
  2. answer a request (reply subject) holding a direct text and a 250,000-byte link payload,
     streamed from `natsbridge serve-files`, with a receipt that lists each payload's bytes and
     `ok` (it checked size and SHA-256);
  3. on `updateStatus`, upload its 65,539-byte capture to the file server (HTTP PUT) and
     publish the link; the std receiver downloads, verifies and saves it, and this script
     compares it with the pattern the firmware generates;
  4. survive a `kill -9` and restart of nats-server (reconnect, resubscribe: a new request is
     answered);
  5. typed payloads (codegen/examples/payloads/device.schema.json): the firmware publishes a
     `SensorReading` every 2 s and answers a `Command` with a `CommandReply`. The example peer
     sdk-python/examples/typed_device.py on CPython and on MicroPython, and the std example
     sdk-rust/examples/typed_device.rs, each receive a reading and ask for one; every field they
     decoded is compared with the firmware's values. A command the schema refuses (an unknown
     action, another type's `schema_type`) gets a receipt naming the error kind;
  6. on `shutdown`, exit through semihosting with status 0. A panic exits with status 1 and
     prints its message; a hang is a timeout failure, never a pass.

Runs in a network namespace of its own (`unshare -n`, as root) where 10.0.2.2, which the guest
uses for the host, is also a loopback address: the host's CLIs and the guest then name the file
server by the same URL. Prints each step's time; on failure, QEMU's output and the servers' logs.
`qemu_scenario.py --smallest` searches, buffer by buffer, the smallest sizes with which the
scenario still passes (build.rs's NATSBRIDGE_FW_BUFFERS; a few minutes: one build and run each).
Needs qemu-system-arm, nats-server, `ip`, `unshare`, `micropython`, the CLI
(target/debug/natsbridge, built by the workspace's `cargo test`; NATSBRIDGE_CLI names another)
and the std example (target/debug/examples/typed_device, also built by `cargo test`;
NATSBRIDGE_TYPED_DEVICE names another).
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ELF = os.path.join(HERE, "target/thumbv7em-none-eabihf/release/natsbridge-firmware-example")
CLI = os.environ.get("NATSBRIDGE_CLI", os.path.join(ROOT, "target/debug/natsbridge"))
HOST = "10.0.2.2"  # the host as the guest sees it; a loopback address in our namespace
CAPTURE_BYTES = 65539  # board::CAPTURE_BYTES
LINK_BYTES = 250000
TYPED_DEVICE = os.environ.get("NATSBRIDGE_TYPED_DEVICE",
                              os.path.join(ROOT, "target/debug/examples/typed_device"))
PYTHON_TYPED_DEVICE = os.path.join(ROOT, "sdk-python/examples/typed_device.py")
# The firmware's reading (main.rs `reading()`), as the peers print it: one JSON object per line.
READING = {"sensor": "temp0", "unit": "celsius", "value": 21.5, "offset": -3, "ok": True,
           "samples": [21.25, 21.5, 21.75], "room": "lab", "floor": 2}
STEP_TIMEOUT_S = int(os.environ.get("NATSBRIDGE_QEMU_STEP_TIMEOUT", "60"))
# build.rs's BUFFERS table: the firmware's buffers and their default sizes.
BUFFERS = [("nats_socket_rx", 2048), ("nats_socket_tx", 2048), ("nats_rx", 4096), ("nats_tx", 512),
           ("http_socket_rx", 1024), ("http_socket_tx", 1024), ("http_work", 1024),
           ("envelope_text", 4096)]
STARTED = time.time()


def log(text):
    print("qemu_scenario [%5.1f s]: %s" % (time.time() - STARTED, text), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def capture_pattern():
    """The firmware's capture: byte i is bits 13..20 of i * 2654435761 in 32 bits."""
    return bytes(((i * 2654435761) & 0xFFFFFFFF) >> 13 & 0xFF for i in range(CAPTURE_BYTES))


def wait_port(port, what, deadline_s=10):
    end = time.time() + deadline_s
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("%s did not listen on port %d within %d s" % (what, port, deadline_s))


class Lines:
    """Collects a process's output lines in a thread (so pipes never fill)."""

    def __init__(self, process):
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, args=(process.stdout,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self.lock:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def text(self):
        with self.lock:
            return "\n".join(self.lines)

    def wait_for(self, predicate, what, deadline_s=STEP_TIMEOUT_S):
        end = time.time() + deadline_s
        while time.time() < end:
            with self.lock:
                found = [line for line in self.lines if predicate(line)]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError("no %s within %d s" % (what, deadline_s))


class Scenario:
    def __init__(self, work, nats_port, files_port):
        self.work = work
        self.nats_port = nats_port
        self.files_port = files_port
        self.nats_url = "nats://127.0.0.1:%d" % nats_port
        self.file_server = "http://%s:%d" % (HOST, files_port)
        self.processes = {}
        self.outputs = {}

    def start(self, name, argv, capture=True):
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        self.processes[name] = process
        self.outputs[name] = Lines(process)
        return process

    def start_nats(self):
        self.start("nats-server", ["nats-server", "-a", "127.0.0.1", "-p", str(self.nats_port)])
        wait_port(self.nats_port, "nats-server")

    def cli(self, *args, timeout_s=STEP_TIMEOUT_S):
        """Runs the CLI to its end; returns its output (fails on a non-zero exit)."""
        argv = [CLI] + list(args)
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=timeout_s)
        out = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
        if result.returncode != 0:
            raise AssertionError("%s exited with %d:\n%s" % (" ".join(args[:2]), result.returncode,
                                                              out))
        return out

    def request(self, *args, timeout_s=30):
        return self.cli("request", "device.commands", "-s", self.nats_url,
                        "--timeout", str(timeout_s), *args, timeout_s=timeout_s + 10)

    def run(self):
        files = os.path.join(self.work, "files")
        received = os.path.join(self.work, "received")
        self.start_nats()
        self.start("serve-files", [CLI, "serve-files", "--dir", files,
                                   "--listen", "0.0.0.0:%d" % self.files_port])
        wait_port(self.files_port, "serve-files")
        status = self.start("listen", [CLI, "listen", "device.status", "--dir", received,
                                       "-s", self.nats_url,
                                       "--allow-link-host", "%s:%d" % (HOST, self.files_port)])
        listen = self.outputs["listen"]
        listen.wait_for(lambda line: line.startswith("listening on"), "listen start", 15)
        self.start("qemu", ["qemu-system-arm", "-machine", "mps2-an386", "-nographic",
                            "-semihosting-config", "enable=on,target=native",
                            "-nic", "user,model=lan9118", "-kernel", ELF])
        log("QEMU started; servers on %s and %s" % (self.nats_url, self.file_server))

        listen.wait_for(lambda line: "-> " in line and line.rstrip().endswith("/status"),
                        "announce on device.status")
        log("1. announce received by the std listener (DHCP, connect, subscribe, publish)")

        big = os.urandom(LINK_BYTES)
        big_path = os.path.join(self.work, "big.bin")
        with open(big_path, "wb") as f:
            f.write(big)
        reply = self.request("--text", "hello", "--file", "binary=%s" % big_path,
                             "--size-threshold", "1000", "--fileserver", self.file_server)
        expect_in(reply, "text 5 ok", "the receipt of the direct payload")
        expect_in(reply, "big.bin %d ok" % LINK_BYTES, "the receipt of the link payload")
        expect_in(reply, '"receipt"', "a receipt payload")
        log("2. request answered: direct text and a %d-byte link streamed and verified"
            % LINK_BYTES)

        self.cli("send", "device.commands", "-s", self.nats_url, "--purpose", "updateStatus",
                 "--text", "report")
        saved = listen.wait_for(lambda line: "-> " in line and line.rstrip().endswith("/capture"),
                                "capture link on device.status")
        path = saved[0].rsplit("-> ", 1)[1].strip()
        with open(path, "rb") as f:
            capture = f.read()
        if capture != capture_pattern():
            raise AssertionError("the capture the std receiver saved (%d bytes, sha256 %s) is not "
                                 "the firmware's pattern (%d bytes)" % (
                                     len(capture), hashlib.sha256(capture).hexdigest(),
                                     CAPTURE_BYTES))
        log("3. capture uploaded by the firmware (%d bytes, HTTP PUT), downloaded and verified "
            "by the std receiver" % len(capture))

        nats = self.processes["nats-server"]
        nats.kill()
        nats.wait()
        killed = time.time()
        self.start_nats()
        end = time.time() + STEP_TIMEOUT_S
        while True:
            try:
                reply = self.request("--text", "again", timeout_s=3)
                break
            except AssertionError:
                if time.time() > end:
                    raise AssertionError("no reply within %d s of restarting nats-server"
                                         % STEP_TIMEOUT_S)
        expect_in(reply, "text 5 ok", "the receipt after the restart")
        log("4. nats-server killed (-9) and restarted: answered again after %.1f s"
            % (time.time() - killed))

        self.typed()

        reply = self.request("--purpose", "shutdown", "--text", "bye")
        expect_in(reply, "text 3 ok", "the receipt of shutdown")
        qemu = self.processes["qemu"]
        try:
            code = qemu.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError("QEMU still runs 20 s after shutdown")
        if code != 0:
            raise AssertionError("QEMU exited with %d (semihosting), not 0" % code)
        self.outputs["qemu"].thread.join(5)
        mark = self.outputs["qemu"].wait_for(lambda line: "stack high-water mark" in line,
                                             "stack high-water mark from the firmware", 5)
        log("6. shutdown: the firmware exited through semihosting with status 0; %s"
            % mark[0].strip())

    def typed(self):
        """Step 5: the typed example peers against the firmware, every value compared."""
        env = dict(os.environ, NATS_URL=self.nats_url)
        peers = [("CPython", [sys.executable, PYTHON_TYPED_DEVICE]),
                 ("MicroPython", ["micropython", PYTHON_TYPED_DEVICE]),
                 ("std", [TYPED_DEVICE])]
        for name, argv in peers:
            result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, env=env,
                                    timeout=STEP_TIMEOUT_S)
            out = result.stdout.decode(errors="replace")
            if result.returncode != 0:
                raise AssertionError("the %s typed peer exited with %d:\n%s%s" % (
                    name, result.returncode, out, result.stderr.decode(errors="replace")))
            lines = {}
            for line in out.splitlines():
                at, _, text = line.partition(": ")
                lines[at] = json.loads(text)
            expected = {"reading": READING, "reply": {"action": "read_sensor", "ok": True, "message": ""},
                        "reply reading": READING}
            for at, want in expected.items():
                got = lines.get(at)
                if got != want:
                    raise AssertionError("the %s typed peer's %s: %r, not the firmware's %r\n%s"
                                         % (name, at, got, want, out))
        log("5. typed: CPython, MicroPython and std each decoded the firmware's SensorReading and "
            "its CommandReply to a Command, every field as the firmware sent it")
        refusals = [
            (["--json", 'command={"action":"dance"}'], "command 0 error bad_value"),
            (["--json", 'command={"action":"read_sensor"}', "--payload-metadata",
              "command:schema_type=SensorReading"], "command 0 error bad_value"),
            (["--json", 'command={"sensor":"temp0"}'], "command 0 error missing_key"),
            (["--text", "command=read_sensor"], "command 0 error wrong_type"),
        ]
        for args, receipt in refusals:
            expect_in(self.request(*args), receipt, "the receipt of a refused command")
        reply = self.request("--json", 'command={"action":"restart"}')
        expect_in(reply, "not supported by this example", "the reply to an untyped restart command")
        log("   refused commands (unknown action, another schema_type, no action, not a dictionary) "
            "got receipts naming the error kind; an untyped command got a typed reply")

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
            process.wait()

    def dump(self):
        for name, lines in self.outputs.items():
            sys.stderr.write("---- %s output:\n%s\n" % (name, lines.text()[-6000:]))


def expect_in(text, needle, what):
    if needle not in text:
        raise AssertionError("%s: %r not in:\n%s" % (what, needle, text))


def inner():
    nats_port = int(os.environ["NATSBRIDGE_QEMU_NATS_PORT"])
    files_port = int(os.environ["NATSBRIDGE_QEMU_FILES_PORT"])
    with tempfile.TemporaryDirectory(prefix="qemu-scenario-") as work:
        scenario = Scenario(work, nats_port, files_port)
        try:
            scenario.run()
        except BaseException:
            scenario.stop()
            scenario.dump()
            raise
        scenario.stop()
    log("ok")


def build(env):
    """Builds the firmware (outside the namespace: cargo may need the registry)."""
    subprocess.run(["cargo", "build", "--release", "--locked", "--features", "mps2-an386"],
                   cwd=HERE, env=env, check=True)


def run_in_namespace(env, quiet=False):
    """Runs the scenario in a network namespace of its own; returns its exit status."""
    env = dict(env, NATSBRIDGE_QEMU_IN_NETNS="1")
    setup = "ip link set lo up && ip addr add %s/32 dev lo && exec %s %s" % (
        HOST, sys.executable, os.path.abspath(__file__))
    output = subprocess.DEVNULL if quiet else None
    try:
        return subprocess.run(["unshare", "-n", "sh", "-c", setup], env=env, stdout=output,
                              stderr=output).returncode
    except OSError as error:
        raise SystemExit("qemu_scenario FAILED: cannot run unshare -n (%s): it needs root" % error)


def smallest(env):
    """For each buffer in turn (the others at their defaults), the smallest size in 64-byte
    steps with which the whole scenario passes: halving from the default, then bisecting."""
    env = dict(env, NATSBRIDGE_QEMU_STEP_TIMEOUT="20")

    def passes(name, size):
        trial = dict(env, NATSBRIDGE_FW_BUFFERS="%s=%d" % (name, size))
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet", "--features",
                        "mps2-an386"], cwd=HERE, env=trial, check=True)
        ok = run_in_namespace(trial, quiet=True) == 0
        log("%s = %d: %s" % (name, size, "passes" if ok else "fails"))
        return ok

    results = []
    for name, default in BUFFERS:
        good, bad = default, None
        while good // 2 >= 64 and bad is None:
            if passes(name, good // 2):
                good //= 2
            else:
                bad = good // 2
        bad = bad if bad is not None else 0
        while good - bad > 64:
            middle = (good + bad) // 2 // 64 * 64
            if middle <= bad or middle >= good:
                break
            if passes(name, middle):
                good = middle
            else:
                bad = middle
        results.append((name, default, good))
    print("| buffer | default | smallest that passes (64-byte steps) |")
    print("|---|---|---|")
    for name, default, good in results:
        print("| `%s` | %d | %d |" % (name, default, good))


def main():
    if os.environ.get("NATSBRIDGE_QEMU_IN_NETNS") == "1":
        inner()
        return
    for program in ("qemu-system-arm", "nats-server", "unshare", "ip", "micropython"):
        if subprocess.run(["sh", "-c", "command -v %s" % program],
                          capture_output=True).returncode != 0:
            raise SystemExit("qemu_scenario FAILED: %s is not installed" % program)
    if not os.access(CLI, os.X_OK):
        raise SystemExit("qemu_scenario FAILED: no CLI at %s (run the workspace's cargo test or "
                         "`cargo build -p natsbridge-cli`, or set NATSBRIDGE_CLI)" % CLI)
    if not os.access(TYPED_DEVICE, os.X_OK):
        raise SystemExit("qemu_scenario FAILED: no std typed example at %s (run the workspace's "
                         "cargo test or `cargo build -p natsbridge --example typed_device`, or set "
                         "NATSBRIDGE_TYPED_DEVICE)" % TYPED_DEVICE)
    env = dict(os.environ, NATSBRIDGE_QEMU_NATS_PORT=str(free_port()),
               NATSBRIDGE_QEMU_FILES_PORT=str(free_port()))
    if sys.argv[1:] == ["--smallest"]:
        smallest(env)
        return
    build(env)
    log("firmware built for NATS at %s:%s, files at %s:%s" % (
        HOST, env["NATSBRIDGE_QEMU_NATS_PORT"], HOST, env["NATSBRIDGE_QEMU_FILES_PORT"]))
    code = run_in_namespace(env)
    if code != 0:
        raise SystemExit("qemu_scenario FAILED (exit %d)" % code)


if __name__ == "__main__":
    main()
