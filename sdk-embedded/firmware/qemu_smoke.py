"""Runs the mps2-an386 port of the example firmware under QEMU against a real nats-server.

Proves: the LAN9118 driver, DHCP from QEMU's user networking and a TCP connection to the
host's loopback (10.0.2.2) work, and the firmware's client connects, subscribes to
device.commands and announces itself with a JSON envelope on device.status.

The test picks a free loopback port for nats-server and builds the firmware with it
(NATSBRIDGE_QEMU_NATS_PORT). Prints QEMU's output on failure (the server logs to
target/qemu-nats.log). Needs qemu-system-arm, nats-server and nats-py.
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import nats

HERE = os.path.dirname(os.path.abspath(__file__))
ELF = os.path.join(HERE, "target/thumbv7em-none-eabihf/release/natsbridge-firmware-example")
PORT = None  # set by main(): a free loopback port
TIMEOUT_S = 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def scenario():
    client = await nats.connect("nats://127.0.0.1:%d" % PORT)
    status = await client.subscribe("device.status")
    qemu = subprocess.Popen(
        ["qemu-system-arm", "-machine", "mps2-an386", "-nographic",
         "-semihosting-config", "enable=on,target=native",
         "-nic", "user,model=lan9118", "-kernel", ELF],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        message = await status.next_msg(timeout=TIMEOUT_S)
        envelope = json.loads(message.data)
        if not isinstance(envelope, dict) or "payloads" not in envelope:
            raise AssertionError("device.status is not an envelope: %r" % message.data[:200])
        return envelope, qemu
    except BaseException:
        qemu.kill()
        out = qemu.communicate()[0].decode(errors="replace")
        sys.stderr.write("QEMU output:\n%s\n" % out)
        raise
    finally:
        await client.close()


def main():
    global PORT
    start = time.time()
    PORT = free_port()
    env = dict(os.environ, NATSBRIDGE_QEMU_NATS_PORT=str(PORT))
    subprocess.run(["cargo", "build", "--release", "--locked", "--features", "mps2-an386"],
                   cwd=HERE, env=env, check=True)
    print("qemu_smoke: firmware built for NATS at 10.0.2.2:%d (%.1f s)" % (PORT, time.time() - start))
    log = open(os.path.join(HERE, "target/qemu-nats.log"), "w")
    server = subprocess.Popen(["nats-server", "-a", "127.0.0.1", "-p", str(PORT)],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)
        envelope, qemu = asyncio.run(scenario())
        qemu.kill()
        qemu.wait()
    finally:
        server.kill()
        server.wait()
    print("qemu_smoke: ok: envelope %s from the firmware under QEMU (%.1f s)"
          % (envelope.get("msg_id", "?"), time.time() - start))


if __name__ == "__main__":
    main()
