# Fault 1 for the Python client: nats-server killed with SIGKILL in the middle of a stream
# and restarted on the same port. A subscriber (reconnect_client.py) on MicroPython and on
# CPython reconnects with backoff, resubscribes and receives everything sent after.

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time

import nats_bridge as nb
import servers

HERE = os.path.dirname(os.path.abspath(__file__))


class RestartableNats:
    """A nats-server on a fixed port that the test kills (-9) and starts again."""

    def __init__(self):
        self.port = servers.free_port()
        self.url = "nats://127.0.0.1:%d" % self.port
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([servers.program("nats-server"), "-a", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.wait_for_port(self.port, self.proc, "nats-server")

    def kill9(self):
        self.proc.kill()  # SIGKILL: no goodbye to the clients
        self.proc.wait()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Subscriber:
    """A client script (args: its path and arguments) under an interpreter (argv); its
    lines arrive in a queue."""

    def __init__(self, argv, args):
        env = dict(os.environ, MICROPYPATH=".frozen:" + os.path.dirname(HERE) + ":" + HERE, PYTHONPATH=os.path.dirname(HERE) + ":" + HERE)
        self.proc = subprocess.Popen(argv + args,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        self.lines = queue.Queue()
        self.seen = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.decode("utf-8", "replace").strip())
        self.lines.put(None)

    def wait_for(self, want, timeout=30.0, prefix=False):
        """Waits for the line want (with prefix, a line starting with it)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("no %r within %s s; saw %r" % (want, timeout, self.seen[-5:]))
            if line is None:
                raise AssertionError("the subscriber exited (%s) before %r; saw %r" % (self.proc.wait(), want, self.seen[-8:]))
            self.seen.append(line)
            if line == want or (prefix and line.startswith(want)):
                return

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _publish(c, subject, numbers):
    for n in numbers:
        c.publish(subject, str(n))
    c.flush()


def _run(interpreter):
    server = RestartableNats()
    subject = "fault.%s" % nb.uuid4()[:8]
    sub = None
    pub = nb.NatsClient(server.url, timeout=2.0).connect()
    try:
        sub = Subscriber(interpreter, [os.path.join(HERE, "reconnect_client.py"), server.url, subject])
        sub.wait_for("ready")
        _publish(pub, subject, range(0, 50))
        sub.wait_for("got 49")
        # In the middle of a stream: messages still in flight when the server dies.
        for n in range(50, 60):
            pub.publish(subject, str(n))
        server.kill9()
        time.sleep(0.3)
        server.start()
        sub.wait_for("reconnected")
        pub.reconnect(attempts=50, base_delay=20, max_delay=300)
        _publish(pub, subject, range(100, 150))
        pub.publish(subject, "end")
        pub.flush()
        sub.wait_for("end")
        got = [int(line[4:]) for line in sub.seen if line.startswith("got ")]
        assert "lost" in sub.seen, sub.seen
        for n in list(range(0, 50)) + list(range(100, 150)):
            assert got.count(n) == 1, "message %d received %d times" % (n, got.count(n))
        assert all(got.count(n) <= 1 for n in range(50, 60)), "a message in flight was duplicated"
        assert sub.proc.wait(10) == 0
    finally:
        pub.close()
        if sub is not None:
            sub.stop()
        server.stop()


def test_micropython_subscriber_survives_a_killed_server():
    _run([servers.program("micropython"), "-X", "heapsize=2M"])


def test_cpython_subscriber_survives_a_killed_server():
    _run([sys.executable, "-u"])
