# Base64, ids, timestamps and checksums, the same on CPython and MicroPython.
#
# b64encode/b64decode follow WIRE.md section 3 strictly (standard alphabet, "=" padded,
# no line breaks): MicroPython's a2b_base64 skips characters outside the alphabet, so a
# decoded text is re-encoded and compared, which also refuses non-zero padding bits.

import binascii
import hashlib

try:
    import os
except ImportError:  # pragma: no cover - very old MicroPython ports
    import uos as os
try:
    import time
except ImportError:  # pragma: no cover
    import utime as time
try:
    import random
except ImportError:  # pragma: no cover
    import urandom as random


def _b64_bytes(data):
    # Standard base64 of data as bytes without the newline, copied once where the port
    # knows newline=False.
    try:
        return binascii.b2a_base64(data, newline=False)
    except TypeError:  # pragma: no cover - ports without the keyword
        return binascii.b2a_base64(data)[:-1]


def b64encode(data):
    """Standard base64 (RFC 4648, "=" padded, no line breaks) of bytes, as str."""
    return _b64_bytes(data).decode("ascii")


def b64decode(text, at=""):
    """The bytes of the standard base64 text (str or bytes); NatsBridgeError
    bad_base64 at the place at for anything else (other alphabets, line breaks,
    missing padding, non-zero padding bits).

    Both interpreters' a2b_base64 skip characters outside the alphabet, so the decoded
    length is checked against the text's, and the last group re-encoded: no copy of a
    large text is made."""
    n = len(text)
    eq = "=" if isinstance(text, str) else b"="
    if n % 4:
        raise NatsBridgeError(KIND_BAD_BASE64, at, "length %d is not a multiple of 4" % n)
    if text.find(eq, 0, max(n - 2, 0)) >= 0:
        raise NatsBridgeError(KIND_BAD_BASE64, at, "padding before the end")
    try:
        data = binascii.a2b_base64(text)
    except (ValueError, TypeError) as e:
        raise NatsBridgeError(KIND_BAD_BASE64, at, "not base64: %s" % e)
    if len(data) != n // 4 * 3 - text.count(eq, max(n - 2, 0)):
        raise NatsBridgeError(KIND_BAD_BASE64, at, "characters outside the base64 alphabet")
    if n:
        last = text[n - 4:]
        if isinstance(last, str):
            last = last.encode("utf-8")
        if _b64_bytes(binascii.a2b_base64(last)) != last:
            raise NatsBridgeError(KIND_BAD_BASE64, at, "not standard padded base64")
    return data


def uuid4():
    """A new random UUID v4, lower case and hyphenated."""
    b = bytearray(os.urandom(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = binascii.hexlify(b).decode("ascii")
    return "%s-%s-%s-%s-%s" % (h[0:8], h[8:12], h[12:16], h[16:20], h[20:32])


# MicroPython boards count seconds from 2000; time.gmtime follows the same epoch, so
# the difference only matters for the raw number, never for the text written here.
def utc_timestamp():
    """The current UTC time as RFC 3339 with milliseconds and Z (WIRE.md section 2)."""
    if hasattr(time, "time_ns"):
        ms = time.time_ns() // 1000000
    else:  # pragma: no cover
        ms = int(time.time() * 1000)
    t = time.gmtime(ms // 1000)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ" % (t[0], t[1], t[2], t[3], t[4], t[5], ms % 1000)


def sha256_hex(data):
    """The lower-case hex SHA-256 of bytes."""
    return binascii.hexlify(hashlib.sha256(data).digest()).decode("ascii")


def _sleep_ms(ms):
    if hasattr(time, "sleep_ms"):
        time.sleep_ms(int(ms))
    else:
        time.sleep(ms / 1000.0)


def _ticks_ms():
    if hasattr(time, "ticks_ms"):
        return time.ticks_ms()
    return int(time.monotonic() * 1000)


def _ms_since(start):
    if hasattr(time, "ticks_diff"):
        return time.ticks_diff(time.ticks_ms(), start)
    return _ticks_ms() - start


def backoff_delay_ms(attempt, base_delay=BASE_DELAY_MS, max_delay=MAX_DELAY_MS):
    """A delay drawn uniformly from [0, min(max_delay, base_delay * 2**attempt)] ms
    (exponential backoff with full jitter, WIRE.md section 6)."""
    cap = min(max_delay, base_delay * (1 << min(attempt, 30)))
    return (random.getrandbits(16) * cap) // 65535
