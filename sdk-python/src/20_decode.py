# The one generic reader and writer of the generated structures. Each generated class is
# a _Struct with a table FIELDS, one row per key in canonical order:
#
#   (key, kind, default, aliases, capacity, nested, fill, text)
#
# kind is str, uuid, date-time (strings with that format, "" allowed), const (nested is the
# value), bool, u64, i64, f64, obj (free-form dict), enum, struct or list; nested is the
# enumeration or structure class, or for a list the item's (kind, nested); default is
# _REQUIRED, None for an optional key, or the schema's JSON default ({} for a structure
# means "every field its own default"); aliases are the other keys a receiver accepts,
# space-separated; fill is the x-sender-fills name; text is ',"key":', the JSON before the
# value. capacity is
# informational: only the no_std SDK has buffers to enforce it (WIRE.md section 9).
# A new schema field is a new row: no Python code changes.

_REQUIRED = object()  # the default of a key that has none
_U64_MAX = 0xFFFFFFFFFFFFFFFF
_I64_MIN = -0x8000000000000000
_I64_MAX = 0x7FFFFFFFFFFFFFFF
_UUID = "hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh"
_DATE_TIME = "dddd-dd-ddTdd:dd:dd"


def _json_type(v):
    # The JSON name of the type of a decoded value, for error messages.
    if isinstance(v, str):
        return "a string"
    if v is True or v is False:
        return "a boolean"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, dict):
        return "an object"
    if isinstance(v, list):
        return "an array"
    return type(v).__name__


def _wrong_type(v, at, expected):
    return NatsBridgeError(KIND_WRONG_TYPE, at, "expected %s, got %s" % (expected, _json_type(v)))


def _like(s, pattern):
    # True when s starts with pattern: h a hex digit, d a decimal digit, T either T or t,
    # any other character itself.
    if len(s) < len(pattern):
        return False
    for i in range(len(pattern)):
        p, c = pattern[i], s[i]
        if not (c in "0123456789abcdefABCDEF" if p == "h" else c.isdigit() if p == "d" else c in "Tt" if p == "T" else c == p):
            return False
    return True


def _formatted(fmt, s):
    # uuid: 8-4-4-4-12 hex digits, either case. date-time: RFC 3339,
    # YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM), T/t and Z/z.
    if fmt == "uuid":
        return len(s) == 36 and _like(s, _UUID)
    if not _like(s, _DATE_TIME) or not (0 < int(s[5:7]) < 13 and 0 < int(s[8:10]) < 32 and int(s[11:13]) < 24 and int(s[14:16]) < 60 and int(s[17:19]) < 61):
        return False
    rest = s[19:]
    if rest[:1] == ".":
        i = 1
        while i < len(rest) and rest[i].isdigit():
            i += 1
        if i == 1:
            return False
        rest = rest[i:]
    return rest in ("Z", "z") or (_like(rest, "+dd:dd") or _like(rest, "-dd:dd")) and len(rest) == 6


def _read(kind, nested, v, at):
    # The value a receiver keeps for the decoded JSON value v of a key of this type, at the
    # place at; NatsBridgeError wrong_type or bad_value naming it.
    if kind == "str" or kind == "uuid" or kind == "date-time" or kind == "const":
        if not isinstance(v, str):
            raise _wrong_type(v, at, "a string")
        if (v != nested) if kind == "const" else (kind != "str" and v and not _formatted(kind, v)):
            raise NatsBridgeError(KIND_BAD_VALUE, at, "%s is not %s" % (_quote(v), _quote(nested) if nested else "a " + kind))
        return v
    if kind == "enum":
        return nested.normalize(v, at)
    if kind == "u64" or kind == "i64":
        if v is True or v is False or not isinstance(v, int):
            raise _wrong_type(v, at, "an integer")
        if kind == "u64":  # out of range is wrong_type, as the v1 goldens (size_negative) say
            if v < 0 or v > _U64_MAX:
                raise _wrong_type(v, at, "an integer from 0 to 2^64-1")
        elif v < _I64_MIN or v > _I64_MAX:
            raise NatsBridgeError(KIND_BAD_VALUE, at, "%d is out of the i64 range" % v)
        return v
    if kind == "f64":
        if v is True or v is False or not isinstance(v, (int, float)):
            raise _wrong_type(v, at, "a number")
        try:
            f = float(v)
        except OverflowError:
            f = _INF
        if f != f or f == _INF or f == -_INF:
            raise NatsBridgeError(KIND_BAD_VALUE, at, "%r is not a finite number" % (v,))
        return f
    if kind == "bool":
        if v is not True and v is not False:
            raise _wrong_type(v, at, "a boolean")
        return v
    if kind == "obj":
        if not isinstance(v, dict):
            raise _wrong_type(v, at, "an object")
        return v
    if kind == "struct":
        if not isinstance(v, dict):
            raise _wrong_type(v, at, "an object")
        return nested.from_dict(v, at)
    if not isinstance(v, list):
        raise _wrong_type(v, at, "an array")
    items = []
    for i in range(len(v)):
        items.append(_read(nested[0], nested[1], v[i], "%s[%d]" % (at, i)))
    return items


def _default_of(f):
    # A fresh value of the default of row f (an optional key: None).
    d = f[2]
    if isinstance(d, (dict, list)):
        return _read(f[1], f[5], type(d)(), f[0])
    return d


def _read_key(d, f, prefix):
    # The value of row f in the decoded object d: the key, else its first alias present,
    # else the default; missing_key when there is none; None for an optional key missing
    # or null.
    key = f[0]
    if key in d:
        v = d[key]
    else:
        v = _REQUIRED
        for alias in f[3].split():
            if alias in d:
                v = d[alias]
                break
        if v is _REQUIRED:
            if f[2] is _REQUIRED:
                raise NatsBridgeError(KIND_MISSING_KEY, prefix + key, "the key %s is missing" % key)
            return _default_of(f)
    if v is None and f[2] is None:
        return None
    return _read(f[1], f[5], v, prefix + key)


def _write_typed(out, kind, nested, v, at, key=None):
    # Appends the canonical JSON text of v, a value of this type (WIRE.md sections 8, 9);
    # at (with key, when given, after a ".") names it for an error.
    if key is not None and kind in ("f64", "struct", "list"):
        at = at + "." + key if at else key
    if kind == "const":
        out.append(_quote(nested))
    elif kind in ("str", "uuid", "date-time", "enum"):
        out.append(_quote(v))
    elif kind == "bool":
        out.append("true" if v else "false")
    elif kind == "u64" or kind == "i64":
        out.append("%d" % v)
    elif kind == "f64":
        if v != v or v == _INF or v == -_INF:
            raise NatsBridgeError(KIND_INVALID_INPUT, at, "%r is not a finite number" % (v,))
        out.append(_float_text(float(v)))
    elif kind == "obj":
        _write_value(out, v)
    elif kind == "struct":
        v._write(out, at)
    else:
        sep = "["
        for i in range(len(v)):
            out.append(sep)
            _write_typed(out, nested[0], nested[1], v[i], "%s[%d]" % (at, i))
            sep = ","
        out.append("]" if sep == "," else "[]")


def _enum_value(enum_class, v, at):
    # v mapped through enum_class.ALIASES; a value the class does not know is kept when
    # the enumeration is open and bad_value when it is closed.
    if not isinstance(v, str):
        raise _wrong_type(v, at, "a string")
    v = enum_class.ALIASES.get(v, v)
    if enum_class.OPEN or v in enum_class.SENT or v in enum_class.RECEIVE_ONLY:
        return v
    raise NatsBridgeError(
        KIND_BAD_VALUE, at, "%s is not one of %s" % (_quote(v), ", ".join(enum_class.SENT + enum_class.RECEIVE_ONLY))
    )


def _as_json(v):
    # A caller's value as the JSON value the reader expects: structures as dicts.
    if isinstance(v, _Struct):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [_as_json(item) for item in v]
    return v


def _settable(cls, fields, at):
    # The checked values of the caller's fields (a dict key -> value) for structure cls:
    # an unknown or computed key, or a value the reader refuses, is invalid_input naming
    # it. None means "not given" and is left out.
    out = {}
    for key in fields:
        f = None
        for row in cls.FIELDS:
            if row[0] == key:
                f = row
        if f is None or f[6] == "computed" or f[1] == "const":
            raise NatsBridgeError(KIND_INVALID_INPUT, at + key, "%s is not a field a sender sets on %s (fields: %s)" % (
                key, cls.__name__, ", ".join(cls.settable())))
        v = fields[key]
        if v is None:
            continue
        try:
            out[key] = _read(f[1], f[5], _as_json(v), at + key)
        except NatsBridgeError as e:
            raise NatsBridgeError(KIND_INVALID_INPUT, e.at, "%s: %s" % (e.kind, e.detail))
    return out


class _Struct:
    """The base of every generated structure: the generic constructor, reader and writer
    of its FIELDS table (see the class docstrings for the keys)."""

    FIELDS = ()

    def __init__(self, *args, **kwargs):
        """The required keys in canonical order (positional or by name), the others by
        name; a key not given takes its default (an optional key: None)."""
        i = 0
        for f in self.FIELDS:
            if f[0] in kwargs:
                v = kwargs.pop(f[0])
            elif f[2] is not _REQUIRED:
                v = _default_of(f)
            elif i < len(args):
                v = args[i]
                i += 1
            else:
                raise TypeError("%s needs %s" % (type(self).__name__, f[0]))
            setattr(self, f[0], v)
        if kwargs or i < len(args):
            raise TypeError("%s: unexpected arguments %r" % (type(self).__name__, list(kwargs) or args[i:]))

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join(["%s=%r" % (f[0], getattr(self, f[0])) for f in self.FIELDS]))

    def __eq__(self, other):
        if type(other) is not type(self):
            return False
        for f in self.FIELDS:
            if getattr(self, f[0]) != getattr(other, f[0]):
                return False
        return True

    @classmethod
    def settable(cls):
        """The keys a sender sets (smartsend(**fields), payload fields): every key but
        the computed ones and the consts."""
        return [f[0] for f in cls.FIELDS if f[6] != "computed" and f[1] != "const"]

    @classmethod
    def from_dict(cls, d, at=""):
        """The structure of a decoded JSON object d found at the place at.

        Applies the key aliases and defaults, checks every type and normalises the
        enumerations; raises NatsBridgeError (not_object, missing_key, wrong_type,
        bad_value) naming the place, e.g. "payloads[0].size". Unknown keys are ignored.
        """
        if not isinstance(d, dict):
            raise NatsBridgeError(KIND_NOT_OBJECT, at, "expected an object, got %s" % _json_type(d))
        p = at + "." if at else ""
        obj = object.__new__(cls)  # no keyword dict: a small heap decodes many of these
        for f in cls.FIELDS:
            setattr(obj, f[0], _read_key(d, f, p))
        return obj

    @classmethod
    def from_json(cls, data):
        """The structure of the JSON text data (bytes, bytearray or str).

        Raises NatsBridgeError: not_json when data is not UTF-8 JSON, else as from_dict.
        """
        return cls.from_dict(loads(data))

    def to_dict(self):
        """A dict of the wire keys (nested structures as dicts too; absent optional keys
        left out)."""
        d = {}
        for f in self.FIELDS:
            v = getattr(self, f[0])
            if v is not None or f[2] is not None:
                d[f[0]] = _as_json(v)
        return d

    def to_json(self):
        """The canonical JSON text of WIRE.md sections 8 and 9, as str: keys in schema
        order, absent optional keys left out, consts always written."""
        out = []
        self._write(out)
        return "".join(out)

    def _write(self, out, at=""):
        # Appends the canonical JSON text as pieces: the row's text ',"key":' (its first
        # one with "{"), the value; shared strings, nothing new per key on a small heap.
        first = True
        for f in self.FIELDS:
            v = getattr(self, f[0])
            if v is None and f[2] is None:
                continue
            out.append("{" + f[7][1:] if first else f[7])
            _write_typed(out, f[1], f[5], v, at, f[0])
            first = False
        out.append("{}" if first else "}")
