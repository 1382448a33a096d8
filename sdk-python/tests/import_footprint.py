"""Measures the heap the modules take when imported from a ROMFS image, on the 64-bit unix
port the tests use and on a 32-bit MicroPython (the WebAssembly port, run by Node):

    python3 sdk-python/tests/import_footprint.py

The 32-bit figure needs `node` and `npm install @micropython/micropython-webassembly-pyscript`
in NATSBRIDGE_WASM_DIR (default /tmp/natsbridge-wasm; the script runs the install there when
it is missing). That port has no socket module: a stub `socket` is put beside the code, only
so the import runs; nothing is sent. Prints a Markdown table.
"""

import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import romfs  # noqa: E402
import servers  # noqa: E402

WASM_PACKAGE = "@micropython/micropython-webassembly-pyscript@1.29.0-6"
RUN_WASM = """
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import fs from "fs";
const romfs = new Uint8Array(fs.readFileSync(process.argv[2]));
const mp = await loadMicroPython({ romfs, stdout: (t) => process.stdout.write(t + "\\n") });
mp.runPython("import sys; print('bits', 64 if sys.maxsize > 1 << 32 else 32); import import_probe");
"""


def figures(text):
    """{"nats_bridge": bytes, "nats_bridge_aio": bytes, "qstr": bytes[, "machine": str]} of a probe's output."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"(nats_bridge\w*) (\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
        m = re.search(r"n_total_bytes=(\d+)", line)
        if m:
            out["qstr"] = int(m.group(1))
        if line.startswith("bits "):
            out["machine"] = "WebAssembly port, %s-bit" % line[len("bits "):]
    if "nats_bridge_typed" not in out or "qstr" not in out:
        raise SystemExit("FAIL: the probe printed no figures:\n" + text[-3000:])
    return out


def unix(tmp):
    image = os.path.join(tmp, "unix.romfs")
    size = romfs.build_image([os.path.join(SDK, m) for m in ("nats_bridge.py", "nats_bridge_aio.py", "nats_bridge_typed.py")] + [os.path.join(HERE, "import_probe.py")], image)
    argv, env = romfs.command("512K", "import_probe", image, size, dict(os.environ))
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    got = figures(out.stdout + out.stderr)
    bits = subprocess.run([servers.program("micropython"), "-c", "import sys; print(64 if sys.maxsize > 1 << 32 else 32)"],
                          capture_output=True, text=True).stdout.strip()
    got["machine"] = "unix port, %s-bit" % bits
    return got


def wasm(tmp):
    where = os.environ.get("NATSBRIDGE_WASM_DIR", "/tmp/natsbridge-wasm")
    if not os.path.isdir(os.path.join(where, "node_modules", "@micropython", "micropython-webassembly-pyscript")):
        os.makedirs(where, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", where, WASM_PACKAGE], check=True, timeout=300)
    stub = os.path.join(tmp, "socket.py")
    with open(stub, "w") as f:
        f.write("# a stub: the WebAssembly port has no sockets; the import measurement sends nothing\n")
    image = os.path.join(tmp, "wasm.romfs")
    romfs.build_image([os.path.join(SDK, m) for m in ("nats_bridge.py", "nats_bridge_aio.py", "nats_bridge_typed.py")] + [os.path.join(HERE, "import_probe.py"), stub], image)
    script = os.path.join(where, "run_import_probe.mjs")
    with open(script, "w") as f:
        f.write(RUN_WASM)
    out = subprocess.run(["node", script, image], capture_output=True, text=True, timeout=120, cwd=where)
    return figures(out.stdout + out.stderr)


def main():
    with tempfile.TemporaryDirectory(prefix="natsbridge-footprint-") as tmp:
        rows = [unix(tmp), wasm(tmp)]
    print("| MicroPython 1.29 | nats_bridge | nats_bridge_aio (beside it) | nats_bridge_typed (beside both) | qstr pool after all |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| %s | %.1f KB | %.1f KB | %.1f KB | %.1f KB |" % (r["machine"], r["nats_bridge"] / 1000, r["nats_bridge_aio"] / 1000,
                                                     r["nats_bridge_typed"] / 1000, r["qstr"] / 1000))
    print("\n32-bit / 64-bit: nats_bridge %.2f, both %.2f" % (rows[1]["nats_bridge"] / rows[0]["nats_bridge"],
          (rows[1]["nats_bridge"] + rows[1]["nats_bridge_aio"]) / (rows[0]["nats_bridge"] + rows[0]["nats_bridge_aio"])))


if __name__ == "__main__":
    main()
