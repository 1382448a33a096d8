# JSON in and out, the same on CPython and MicroPython.
#
# dumps() writes the canonical form of WIRE.md section 8: object keys sorted by code
# point, no whitespace, raw UTF-8, and only '"', '\' and U+0000..U+001F escaped. The
# generated classes write their fixed keys in schema order with the same helpers.
# MicroPython's json.dumps escapes differently and its dicts have no order, so the text
# is built here, piece by piece.
#
# loads() refuses what serde_json refuses, on both interpreters: CPython's json module
# is strict except for NaN/Infinity and lone surrogates; MicroPython's accepts trailing
# commas, missing commas, raw control characters and bad escapes, does not check UTF-8
# fully and does not join "\ud83d\ude00"-style surrogate pairs. Where the json module is
# lenient the text is checked by _check_json first; surrogate pairs are joined by
# _join_surrogates before the json module sees the text.

try:
    import struct
except ImportError:
    import ustruct as struct

_MAX_DEPTH = 128  # nesting limit, as serde_json's
_ESCAPES = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r", 34: '\\"', 92: "\\\\"}
_INF = float("inf")


def _strict_json_module():
    # True when json.loads itself refuses what JSON does not allow (CPython, PyPy).
    for text in ("[1,]", '"\t"', "01", "[1 2]", '"\\x"'):
        try:
            json.loads(text)
            return False
        except ValueError:
            pass
    return True


def _native_escapes():
    # True when json.dumps(s, ensure_ascii=False) writes exactly the escapes of section 8.
    try:
        return json.dumps('\b\x01\x7f\xe9"\\', ensure_ascii=False) == '"\\b\\u0001\x7f\xe9\\"\\\\"'
    except TypeError:
        return False


def _native_quote():
    # CPython's C string encoder behind json.dumps(s, ensure_ascii=False), without the
    # Python-level calls around it (a fifth of smartsend's time at 128 B went to them), when
    # it writes the escapes of section 8; None elsewhere (MicroPython has no json.encoder).
    encoder = getattr(getattr(json, "encoder", None), "encode_basestring", None)
    try:
        if encoder is not None and encoder('\b\x01\x7f\xe9"\\') == '"\\b\\u0001\x7f\xe9\\"\\\\"':
            return encoder
    except TypeError:
        pass
    return None


_STRICT = _strict_json_module()
_NATIVE_ESCAPES = _native_escapes()
_NATIVE_QUOTE = _native_quote()


def _quote_slow(s):
    # A JSON string literal for s, escaped as section 8 says (works everywhere).
    b = s.encode("utf-8")
    parts = None
    start = 0
    i = 0
    for c in b:
        if c < 32 or c == 34 or c == 92:
            if parts is None:
                parts = ['"']
            if start < i:
                parts.append(b[start:i].decode("utf-8"))
            e = _ESCAPES.get(c)
            parts.append(e if e else "\\u%04x" % c)
            start = i + 1
        i += 1
    if parts is None:
        return '"' + s + '"'
    parts.append(b[start:].decode("utf-8"))
    parts.append('"')
    return "".join(parts)


def _quote(s):
    # A JSON string literal for s in canonical form.
    if not isinstance(s, str):
        raise TypeError("expected str, got %s" % type(s).__name__)
    if _NATIVE_QUOTE is not None:
        return _NATIVE_QUOTE(s)
    if _NATIVE_ESCAPES:
        return json.dumps(s, ensure_ascii=False)
    return _quote_slow(s)


def _shortest_repr(v):
    # CPython's repr(v) (WIRE.md section 9), exactly, with integers: the fewest significant
    # digits whose decimal lies in v's rounding interval (the nearest such decimal), fixed
    # notation for a decimal exponent from -4 to 15, else d[.ddd]e+XX. For interpreters
    # whose repr differs (MicroPython), whose %e and float() are not always exact.
    bits = struct.unpack(">Q", struct.pack(">d", v))[0]
    sign = "-" if bits >> 63 else ""
    be = (bits >> 52) & 0x7FF
    m = bits & 0xFFFFFFFFFFFFF
    if not be and not m:
        return sign + "0.0"
    e = be - 1077 if be else -1076  # |v| = n * 2^e with n = 4m: quarter units
    n = (m | (1 << 52) if be else m) * 4
    lo = 1 if (be > 1 and not m) else 2  # the gap below v is half as wide at a power of two
    even = n % 8 == 0
    two = 1 << max(e, 0)
    two_den = 1 << max(-e, 0)
    def above(x):  # 10^x > |v|, compared as integers
        return 10 ** max(x, 0) * two_den > n * two * 10 ** max(-x, 0)

    exp10 = (len(bin(n)) - 3 + e) * 30103 // 100000  # then corrected: 10^exp10 <= |v| < 10^(exp10+1)
    while above(exp10):
        exp10 -= 1
    while not above(exp10 + 1):
        exp10 += 1
    for p in range(1, 18):
        k = exp10 - p + 1
        num = n * two * 10 ** max(-k, 0)  # |v| / 10^k = num / den
        den = two_den * 10 ** max(k, 0)
        d, r = divmod(num, den)
        if 2 * r > den or (2 * r == den and d % 2):  # to nearest, ties to even
            d += 1
        low = (n - lo) * two * 10 ** max(-k, 0)
        high = (n + 2) * two * 10 ** max(-k, 0)
        if (low < d * den < high) or (even and (low == d * den or d * den == high)):
            break
    digits = str(d)
    exp = k + len(digits) - 1
    digits = digits.rstrip("0") or "0"
    if exp < -4 or exp > 15:
        return "%s%s%se%s%02d" % (sign, digits[0], "." + digits[1:] if len(digits) > 1 else "", "-" if exp < 0 else "+", abs(exp))
    if exp < 0:
        return "%s0.%s%s" % (sign, "0" * (-exp - 1), digits)
    digits = digits + "0" * (exp + 1 - len(digits))
    return "%s%s.%s" % (sign, digits[:exp + 1], digits[exp + 1:] or "0")


_REPR_CANONICAL = repr(5e-324) == "5e-324" and repr(1e16) == "1e+16" and repr(8.41e21) == "8.41e+21"


def _float_text(v):
    # The canonical text of a float: CPython's repr on every interpreter. JSON has no NaN
    # or infinity: a free-form object holding one writes null (as serde_json does).
    if v != v or v == _INF or v == -_INF:
        return "null"
    return repr(v) if _REPR_CANONICAL else _shortest_repr(v)


def _write_value(out, v):
    # Appends the canonical JSON text of v (dict, list, tuple, str, int, float, bool,
    # None) to the list out.
    if isinstance(v, str):
        out.append(_quote(v))
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif v is None:
        out.append("null")
    elif isinstance(v, int):
        out.append("%d" % v)
    elif isinstance(v, float):
        out.append(_float_text(v))
    elif isinstance(v, dict):
        # Written into a list of its own and joined: the caller's list gets one piece per
        # object, not three per key (a long list wants one large block of a small heap).
        part = []
        sep = "{"
        for k in sorted(v):
            part.append(sep + _quote(k) + ":")
            _write_value(part, v[k])
            sep = ","
        part.append("}" if sep == "," else "{}")
        out.append("".join(part))
    elif isinstance(v, (list, tuple)):
        part = []
        sep = "["
        for item in v:
            part.append(sep)
            _write_value(part, item)
            sep = ","
        part.append("]" if sep == "," else "[]")
        out.append("".join(part))
    else:
        raise TypeError("cannot write %s as JSON" % type(v).__name__)


def dumps(value):
    """The canonical JSON text (WIRE.md section 8) of a dict, list, str, int, float,
    bool or None: keys sorted by code point, no whitespace, raw UTF-8."""
    out = []
    _write_value(out, value)
    return "".join(out)


def _not_json(detail):
    return NatsBridgeError(KIND_NOT_JSON, "", detail)


def _hex4(b, i):
    # The value of the four hex digits at b[i:i+4], or -1.
    if i + 4 > len(b):
        return -1
    v = 0
    for k in range(i, i + 4):
        c = b[k]
        if 0x30 <= c <= 0x39:
            c -= 0x30
        elif 0x61 <= c <= 0x66:
            c -= 0x57
        elif 0x41 <= c <= 0x46:
            c -= 0x37
        else:
            return -1
        v = v * 16 + c
    return v


def _join_surrogates(b):
    # b with every escaped surrogate pair (\ud83d\ude00) replaced by the raw UTF-8 of its
    # character; an escaped surrogate without its partner is not JSON (as in serde_json).
    # Escapes are found from the backslashes, so "\\ud83d" (an escaped backslash and
    # the letters ud83d) is left alone.
    parts = []
    start = 0
    i = b.find(b"\\")
    while i >= 0:
        if i + 1 < len(b) and b[i + 1] == 0x75:  # \u
            hi = _hex4(b, i + 2)
            if 0xD800 <= hi <= 0xDBFF:
                lo = _hex4(b, i + 8) if b[i + 6:i + 8] == b"\\u" else -1
                if not 0xDC00 <= lo <= 0xDFFF:
                    raise _not_json("escape \\u%04x at byte %d is a lone surrogate" % (hi, i))
                parts.append(b[start:i])
                parts.append(chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).encode("utf-8"))
                start = i + 12
                i = b.find(b"\\", start)
                continue
            if 0xDC00 <= hi <= 0xDFFF:
                raise _not_json("escape \\u%04x at byte %d is a lone surrogate" % (hi, i))
        i = b.find(b"\\", i + 2)
    if not parts:
        return b
    parts.append(b[start:])
    return b"".join(parts)


def _skip_ws(b, i, n):
    while i < n and (b[i] == 0x20 or b[i] == 0x0A or b[i] == 0x0D or b[i] == 0x09):
        i += 1
    return i


def _skip_plain(b, i):
    # The index of the next '"' or '\\' from b[i] when no byte before it is a control
    # character or beyond ASCII, else i. Checked in C (min and max over a memoryview),
    # not byte by byte: a base64 payload is one such run.
    end = b.find(b'"', i)
    slash = b.find(b"\\", i, end)
    if slash >= 0:
        end = slash
    if end - i < 32:
        return i
    run = memoryview(b)[i:end]
    if min(run) < 0x20 or max(run) > 0x7F:
        return i
    return end


def _check_string(b, i, n):
    # b[i] is the byte after an opening quote; returns the index after the closing one.
    i = _skip_plain(b, i)
    while i < n:
        c = b[i]
        if c == 0x22:
            return i + 1
        if c == 0x5C:
            e = b[i + 1] if i + 1 < n else 0
            if e == 0x75:
                if _hex4(b, i + 2) < 0:
                    break
                i += 6
            elif e in b'"\\/bfnrt':
                i += 2
            else:
                break
        elif c < 0x20:
            break
        elif c < 0x80:
            i += 1
        else:
            # UTF-8 as RFC 3629 allows it: no overlong forms, no surrogates, <= U+10FFFF.
            lo, hi = 0x80, 0xBF
            if 0xC2 <= c <= 0xDF:
                more = 1
            elif 0xE0 <= c <= 0xEF:
                more = 2
                if c == 0xE0:
                    lo = 0xA0
                elif c == 0xED:
                    hi = 0x9F
            elif 0xF0 <= c <= 0xF4:
                more = 3
                if c == 0xF0:
                    lo = 0x90
                elif c == 0xF4:
                    hi = 0x8F
            else:
                raise _not_json("byte %d is not UTF-8" % i)
            if i + more >= n or not lo <= b[i + 1] <= hi:
                raise _not_json("byte %d is not UTF-8" % i)
            for k in range(i + 2, i + 1 + more):
                if not 0x80 <= b[k] <= 0xBF:
                    raise _not_json("byte %d is not UTF-8" % i)
            i += 1 + more
    raise _not_json("bad string at byte %d" % i)


def _check_digits(b, i, n):
    j = i
    while j < n and 0x30 <= b[j] <= 0x39:
        j += 1
    if j == i:
        raise _not_json("bad number at byte %d" % i)
    return j


def _check_number(b, i, n):
    if b[i] == 0x2D:
        i += 1
    if i < n and b[i] == 0x30:
        i += 1
    else:
        i = _check_digits(b, i, n)
    if i < n and b[i] == 0x2E:
        i = _check_digits(b, i + 1, n)
    if i < n and (b[i] == 0x65 or b[i] == 0x45):
        i += 1
        if i < n and (b[i] == 0x2B or b[i] == 0x2D):
            i += 1
        i = _check_digits(b, i, n)
    return i


def _check_key(b, i, n):
    # An object key and its colon at b[i]; returns the index of the value.
    if i >= n or b[i] != 0x22:
        raise _not_json("expected a key at byte %d" % i)
    i = _skip_ws(b, _check_string(b, i + 1, n), n)
    if i >= n or b[i] != 0x3A:
        raise _not_json("expected ':' at byte %d" % i)
    return _skip_ws(b, i + 1, n)


def _check_json(b):
    # Raises NatsBridgeError not_json unless b is one UTF-8 JSON text (RFC 8259) nested
    # at most _MAX_DEPTH deep. Iterative: no recursion on a small stack.
    n = len(b)
    stack = []  # the open brackets, as byte values
    i = _skip_ws(b, 0, n)
    while True:
        # a value starts at i
        c = b[i] if i < n else 0
        if c == 0x7B or c == 0x5B:
            if len(stack) >= _MAX_DEPTH:
                raise _not_json("nested deeper than %d at byte %d" % (_MAX_DEPTH, i))
            stack.append(c)
            i = _skip_ws(b, i + 1, n)
            if i < n and b[i] == c + 2:
                stack.pop()
                i += 1
            else:
                if c == 0x7B:
                    i = _check_key(b, i, n)
                continue
        elif c == 0x22:
            i = _check_string(b, i + 1, n)
        elif c == 0x2D or 0x30 <= c <= 0x39:
            i = _check_number(b, i, n)
        elif b[i:i + 4] == b"true" or b[i:i + 4] == b"null":
            i += 4
        elif b[i:i + 5] == b"false":
            i += 5
        else:
            raise _not_json("expected a value at byte %d" % i)
        # a value ended at i: close what it completes
        while True:
            i = _skip_ws(b, i, n)
            if not stack:
                if i != n:
                    raise _not_json("extra data at byte %d" % i)
                return
            c = b[i] if i < n else 0
            if c == 0x2C:
                i = _skip_ws(b, i + 1, n)
                if stack[-1] == 0x7B:
                    i = _check_key(b, i, n)
                break
            if c != stack[-1] + 2:
                raise _not_json("expected ',' or a closing bracket at byte %d" % i)
            stack.pop()
            i += 1


_LONG_STRING = 1024  # plain string values this long are kept out of json.loads (see loads)
_MARK = chr(0xD800)  # a lone surrogate: never in a checked text, so a safe placeholder


def _escaped(b, j):
    # True when the quote at b[j] follows an odd number of backslashes.
    k = j - 1
    while b[k] == 0x5C:
        k -= 1
    return (j - 1 - k) % 2 == 1


def _long_strings(b):
    # [(start, end)] of the string values in the checked JSON text b that are at least
    # _LONG_STRING bytes long and hold no escape (base64 payloads), found with find().
    spans = []
    i = b.find(b'"')
    while i >= 0:
        j = b.find(b'"', i + 1)
        while _escaped(b, j):
            j = b.find(b'"', j + 1)
        after = _skip_ws(b, j + 1, len(b))
        is_key = after < len(b) and b[after] == 0x3A
        if j - i > _LONG_STRING and not is_key and b.find(b"\\", i + 1, j) < 0:
            spans.append((i + 1, j))
        i = b.find(b'"', j + 1)
    return spans


def _without_long_strings(b, spans):
    # b with the content of each span replaced by a placeholder: _MARK and its index.
    parts = []
    start = 0
    for k in range(len(spans)):
        parts.append(b[start:spans[k][0]])
        parts.append(("\\ud800%d" % k).encode("utf-8"))
        start = spans[k][1]
    parts.append(b[start:])
    return b"".join(parts)


def _put_long_strings(value, b, spans):
    # value with every placeholder replaced by its string, copied once from b at its size.
    def real(v):
        if isinstance(v, str) and v.startswith(_MARK):
            start, end = spans[int(v[1:])]
            return bytes(memoryview(b)[start:end]).decode("utf-8")
        if isinstance(v, (dict, list)):
            todo.append(v)
        return v

    todo = []
    value = real(value)
    while todo:
        c = todo.pop()
        for k in (c if isinstance(c, dict) else range(len(c))):
            c[k] = real(c[k])
    return value


def _refuse_constant(name):
    raise ValueError("%s is not JSON" % name)


def loads(data):
    """The JSON value of data (str, bytes or bytearray; bytes must be UTF-8).

    Refuses, with NatsBridgeError kind not_json, what serde_json refuses: invalid UTF-8,
    a byte order mark, NaN and Infinity, numbers beyond the range of a 64-bit float,
    trailing commas, raw control characters in strings, lone surrogate escapes. Surrogate pairs are joined on every interpreter."""
    if isinstance(data, str):
        try:
            b = data.encode("utf-8")
        except UnicodeError:
            raise _not_json("the text holds lone surrogates")
    elif isinstance(data, (bytes, bytearray)):
        b = data  # bytearray as it is: a small heap has no room for a copy
    elif isinstance(data, memoryview):
        b = bytes(data)
    else:
        raise TypeError("expected str, bytes or bytearray, got %s" % type(data).__name__)
    if not _STRICT or b.count(b"[") + b.count(b"{") > _MAX_DEPTH:
        _check_json(b)  # also where the json module would allow deeper nesting
    if b"\\u" in b:
        b = _join_surrogates(b)
    if _STRICT:
        try:
            text = b.decode("utf-8")
        except UnicodeError:
            raise _not_json("the message is not UTF-8")
        b = None  # a small heap needs the room for the decoded value
        spans = None
    else:
        # _check_json checked the UTF-8, so json.loads reads the bytes without a copy of
        # the text; long strings are cut out and copied once at their size afterwards,
        # not grown byte by byte by json.loads (twice their size at its peak).
        spans = _long_strings(b)
        text = _without_long_strings(b, spans) if spans else b
    try:
        if _STRICT:  # numbers checked as they are parsed: no walk over the value afterwards
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_checked_float, parse_int=_checked_int)
        else:
            value = json.loads(text)
    except ValueError as e:
        raise _not_json(str(e))
    except RuntimeError:  # RecursionError on CPython
        raise _not_json("nested too deep")
    text = None
    if spans:
        value = _put_long_strings(value, b, spans)
    if not _STRICT:
        _check_number_range(value)
    return value


def _checked_float(text):
    v = float(text)
    if _beyond_f64(v):
        raise _not_json("a number beyond the range of a 64-bit float")
    return v


def _checked_int(text):
    v = int(text)
    if _beyond_f64(v):
        raise _not_json("a number beyond the range of a 64-bit float")
    return v


def _beyond_f64(v):
    # True when the number v rounds to infinity as a 64-bit float.
    try:
        f = float(v)
    except OverflowError:  # CPython, for a huge int
        return True
    return f == _INF or f == -_INF


def _check_number_range(value):
    # serde_json refuses a number beyond the range of a 64-bit float (1e400, or an integer
    # of 400 digits); both interpreters would keep it as infinity or as a big int instead.
    # Iterative, as _check_json.
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and _beyond_f64(v):
            raise _not_json("a number beyond the range of a 64-bit float")
