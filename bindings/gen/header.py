"""Parses abi/include/ddata.h into a small model the emitters share.

The public header is written in a regular style (ABI.md, contributing.md):
`DD_API <ret> dd_name(<params>);`, `typedef enum name {...} name;`,
`typedef struct name {...} name;`, opaque `typedef struct x x;` and
`#define DD_X <integer>` constants. This parser understands exactly that
style and stops with a message naming the line for anything else, so a new
construct in the header is noticed at `make bindings` instead of silently
missing from a binding.

Layouts (size, alignment, field offsets) are computed here for the LP64
ABI every supported platform uses; `gen.py check` compiles a C program that
prints the real values and compares, so the table cannot drift from the
compiler.
"""
import re

# Scalar C types the header may use: (size, align, rust, kind).
SCALARS = {
    "void": (0, 1, "c_void", "void"),
    "char": (1, 1, "c_char", "int"),
    "int": (4, 4, "c_int", "int"),
    "unsigned": (4, 4, "c_uint", "int"),
    "unsigned int": (4, 4, "c_uint", "int"),
    "long": (8, 8, "c_long", "int"),
    "double": (8, 8, "f64", "float"),
    "bool": (1, 1, "bool", "bool"),
    "_Bool": (1, 1, "bool", "bool"),
    "size_t": (8, 8, "usize", "int"),
    "int8_t": (1, 1, "i8", "int"),
    "uint8_t": (1, 1, "u8", "int"),
    "int16_t": (2, 2, "i16", "int"),
    "uint16_t": (2, 2, "u16", "int"),
    "int32_t": (4, 4, "i32", "int"),
    "uint32_t": (4, 4, "u32", "int"),
    "int64_t": (8, 8, "i64", "int"),
    "uint64_t": (8, 8, "u64", "int"),
}
POINTER_SIZE = 8
LIMIT_MACROS = {
    "UINT64_MAX": 2**64 - 1,
    "INT64_MAX": 2**63 - 1,
    "UINT32_MAX": 2**32 - 1,
    "INT32_MAX": 2**31 - 1,
    "SIZE_MAX": 2**64 - 1,
}


class HeaderError(Exception):
    pass


class CType:
    """A C type as written: base name, constness, pointer depth, array length."""

    def __init__(self, base, const=False, pointers=(), array=None):
        self.base = base  # "uint8_t", "dd_op", "struct dd_op" is normalised to "dd_op"
        self.const = const  # const applies to the base
        self.pointers = list(pointers)  # one bool per '*': is that pointer const
        self.array = array  # int or None

    def c(self, name=""):
        s = ("const " if self.const else "") + self.base
        if self.pointers:
            s += " "
        for pc in self.pointers:
            s += "*const " if pc else "*"
        s = s.rstrip()
        if name:
            s += name if s.endswith("*") else " " + name
        if self.array is not None:
            s += "[%d]" % self.array
        return s

    def is_pointer(self):
        return bool(self.pointers)


class Field:
    def __init__(self, name, ctype):
        self.name = name
        self.type = ctype


class Struct:
    def __init__(self, name, fields, opaque=False):
        self.name = name
        self.fields = fields
        self.opaque = opaque
        self.size = self.align = 0
        self.offsets = {}


class Enum:
    def __init__(self, name, members):
        self.name = name
        self.members = members  # [(NAME, int)]


class Function:
    def __init__(self, name, ret, params):
        self.name = name
        self.ret = ret  # CType
        self.params = params  # [Field]


class Callback(Function):
    """A function pointer type: `typedef int (*dd_x_fn)(void *ctx, ...);`."""


class Header:
    def __init__(self):
        self.constants = []  # [(NAME, int)]
        self.strings = []  # [(NAME, str)]
        self.enums = []
        self.structs = []  # in declaration order, opaque ones included
        self.functions = []
        self.callbacks = []
        self.order = []  # structs (with a body) and callbacks, as declared

    def callback(self, name):
        for c in self.callbacks:
            if c.name == name:
                return c
        return None

    def struct(self, name):
        for s in self.structs:
            if s.name == name:
                return s
        return None

    def enum(self, name):
        for e in self.enums:
            if e.name == name:
                return e
        return None


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _eval_int(expr, known):
    """Evaluates the integer expressions the header's constants use."""
    e = expr.strip()
    for name, value in LIMIT_MACROS.items():
        e = re.sub(r"\b%s\b" % name, str(value), e)
    e = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", e)
    e = re.sub(r"\b0[xX]([0-9a-fA-F]+)[uUlL]*\b", lambda m: str(int(m.group(1), 16)), e)
    for name, value in sorted(known.items(), key=lambda kv: -len(kv[0])):
        e = re.sub(r"\b%s\b" % re.escape(name), str(value), e)
    if not re.fullmatch(r"[\d\s()+\-*<>|&~^]+", e):
        raise HeaderError("cannot evaluate constant expression %r" % expr)
    return int(eval(e, {"__builtins__": {}}, {}))  # digits and operators only


def parse_type(text, line):
    """Parses `const struct dd_op *` (no declarator name) into a CType."""
    t = " ".join(text.replace("*", " * ").split())
    tokens = t.split(" ") if t else []
    const = False
    base = []
    pointers = []
    for tok in tokens:
        if tok == "*":
            pointers.append(False)
        elif tok == "const":
            if pointers:
                pointers[-1] = True
            else:
                const = True
        elif tok in ("struct", "enum"):
            continue
        else:
            if pointers:
                raise HeaderError("line %d: unexpected %r after '*' in %r" % (line, tok, text))
            base.append(tok)
    if not base:
        raise HeaderError("line %d: no type in %r" % (line, text))
    return CType(" ".join(base), const, pointers)


def parse_decl(text, line):
    """Parses `const uint8_t *key` or `uint8_t id[16]` into a Field."""
    text = text.strip()
    array = None
    m = re.search(r"\[\s*([^\]]*)\s*\]\s*$", text)
    if m:
        array = int(m.group(1), 0)
        text = text[: m.start()].strip()
    m = re.match(r"(.*?)([A-Za-z_][A-Za-z0-9_]*)$", text, re.S)
    if not m or not m.group(1).strip():
        raise HeaderError("line %d: cannot parse declaration %r" % (line, text))
    ctype = parse_type(m.group(1), line)
    ctype.array = array
    return Field(m.group(2), ctype)


def parse(path):
    raw = open(path, encoding="utf-8").read()
    text = _strip_comments(raw)
    # Join macro continuation lines, keeping line numbers roughly right.
    text = re.sub(r"\\\n", " ", text)
    hdr = Header()
    hdr.raw = raw  # the comments, for the generated docs
    known = {}

    # Preprocessor lines: integer constants are kept, everything else
    # (include guards, DD_API, *_INIT initialisers) is dropped here; the
    # _INIT macros have dd_*_init() function twins the bindings use.
    body_lines = []
    for lineno, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        if s.startswith("#"):
            m = re.match(r"#\s*define\s+([A-Z][A-Z0-9_]*)\s+(.+)$", s)
            if m and not m.group(1).endswith("_INIT") and m.group(1) != "DD_API":
                name, value = m.group(1), m.group(2).strip()
                if value.startswith('"'):
                    hdr.strings.append((name, value.strip('"')))
                else:
                    v = _eval_int(value, known)
                    known[name] = v
                    hdr.constants.append((name, v))
            body_lines.append("")
            continue
        body_lines.append(line)
    body = "\n".join(body_lines)
    body = re.sub(r'extern\s+"C"\s*\{', "", body)
    # the closing brace of extern "C" sits in a preprocessor block already dropped

    pos = 0
    stmt_re = re.compile(r"\s*(.*?;)", re.S)
    while True:
        m = stmt_re.match(body, pos)
        if not m:
            rest = body[pos:].strip()
            if rest and rest != "}":
                raise HeaderError("trailing text %r" % rest[:80])
            break
        stmt = m.group(1)
        line = body.count("\n", 0, m.start(1)) + 1
        pos = m.end()
        # A typedef of a struct/enum with a body contains ';' inside; extend.
        if re.match(r"typedef\s+(struct|enum)\s+\w+\s*\{", stmt):
            depth = stmt.count("{") - stmt.count("}")
            while depth > 0:
                m2 = stmt_re.match(body, pos)
                if not m2:
                    raise HeaderError("line %d: unterminated body" % line)
                stmt += m2.group(0)
                pos = m2.end()
                depth = stmt.count("{") - stmt.count("}")
        _statement(hdr, " ".join(stmt.split()), line, known)
    _layout(hdr)
    return hdr


def _statement(hdr, stmt, line, known):
    m = re.match(r"typedef enum (\w+) \{(.*)\} (\w+);$", stmt)
    if m:
        if m.group(1) != m.group(3):
            raise HeaderError("line %d: enum tag and typedef differ" % line)
        members = []
        nxt = 0
        for item in m.group(2).split(","):
            item = item.strip()
            if not item:
                continue
            if "=" in item:
                name, value = [x.strip() for x in item.split("=", 1)]
                nxt = _eval_int(value, known)
            else:
                name = item
            members.append((name, nxt))
            known[name] = nxt
            nxt += 1
        hdr.enums.append(Enum(m.group(1), members))
        return
    m = re.match(r"typedef struct (\w+) \{(.*)\} (\w+);$", stmt)
    if m:
        if m.group(1) != m.group(3):
            raise HeaderError("line %d: struct tag and typedef differ" % line)
        fields = []
        for decl in m.group(2).split(";"):
            if decl.strip():
                for part in _split_declarators(decl):
                    fields.append(parse_decl(part, line))
        prev = hdr.struct(m.group(1))
        if prev:
            prev.fields, prev.opaque = fields, False
        else:
            prev = Struct(m.group(1), fields)
            hdr.structs.append(prev)
        hdr.order.append(prev)
        return
    m = re.match(r"typedef struct (\w+) (\w+);$", stmt)
    if m:
        if m.group(1) != m.group(2):
            raise HeaderError("line %d: struct tag and typedef differ" % line)
        if not hdr.struct(m.group(1)):
            hdr.structs.append(Struct(m.group(1), [], opaque=True))
        return
    m = re.match(r"typedef (.+?)\(\s*\*\s*(dd_\w+)\s*\) ?\((.*)\);$", stmt)
    if m:
        hdr.callbacks.append(Callback(m.group(2), parse_type(m.group(1), line), _params(m.group(3), line)))
        hdr.order.append(hdr.callbacks[-1])
        return
    m = re.match(r"DD_API (.+?)\b(dd_\w+) ?\((.*)\);$", stmt)
    if m:
        hdr.functions.append(Function(m.group(2), parse_type(m.group(1), line), _params(m.group(3), line)))
        return
    raise HeaderError("line %d: the generator does not understand %r" % (line, stmt[:100]))


def _params(plist, line):
    plist = plist.strip()
    if plist == "void":
        return []
    return [parse_decl(p, line) for p in plist.split(",")]


def _split_declarators(decl):
    """`uint32_t a, b` -> ["uint32_t a", "uint32_t b"] (no pointers in the repeats)."""
    parts = [p.strip() for p in decl.split(",")]
    if len(parts) == 1:
        return parts
    m = re.match(r"(.*?)([A-Za-z_]\w*)$", parts[0])
    base = m.group(1)
    return [parts[0]] + [base + p for p in parts[1:]]


def type_layout(hdr, ctype):
    """(size, align) of a field type on LP64."""
    if ctype.pointers or hdr.callback(ctype.base):
        size, align = POINTER_SIZE, POINTER_SIZE
    elif ctype.base in SCALARS:
        size, align = SCALARS[ctype.base][0], SCALARS[ctype.base][1]
    elif hdr.enum(ctype.base):
        size, align = 4, 4
    elif hdr.struct(ctype.base) and not hdr.struct(ctype.base).opaque:
        s = hdr.struct(ctype.base)
        size, align = s.size, s.align
    else:
        raise HeaderError("unknown type %r" % ctype.base)
    if ctype.array is not None:
        size *= ctype.array
    return size, align


def _layout(hdr):
    for s in hdr.structs:
        if s.opaque:
            continue
        off = 0
        align = 1
        for f in s.fields:
            fs, fa = type_layout(hdr, f.type)
            off = (off + fa - 1) // fa * fa
            s.offsets[f.name] = off
            off += fs
            align = max(align, fa)
        s.size = (off + align - 1) // align * align
        s.align = align
