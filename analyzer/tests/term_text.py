"""The escaped form kstall's text output gives dump strings (analyzer/base/term.h), for the tests.

escape(): C0 controls (tab and newline too), DEL, C1 controls in UTF-8 (each byte) and every byte that
is not valid UTF-8 as \\xNN; everything else as it is, the backslash too. unsafe(): the first byte
offset in a terminal's text that could drive the terminal, or None.
"""
import re

# U+0080-U+009F as UTF-8: 0xc2 0x80-0x9f
_C1 = re.compile(rb"\xc2[\x80-\x9f]")


def _bytes(s):
    return s if isinstance(s, bytes) else s.encode("utf-8", "surrogateescape")


def escape(s):
    b, out, i = _bytes(s), [], 0
    while i < len(b):
        c = b[i]
        if 0x20 <= c < 0x7f:
            out.append(chr(c))
            i += 1
            continue
        n = 2 if 0xc2 <= c <= 0xdf else 3 if 0xe0 <= c <= 0xef else 4 if 0xf0 <= c <= 0xf4 else 0
        if n and not _C1.match(b, i):
            try:
                out.append(b[i:i + n].decode("utf-8"))
                i += n
                continue
            except UnicodeDecodeError:
                pass
        if n == 2 and _C1.match(b, i):
            out.append(f"\\x{b[i]:02x}\\x{b[i + 1]:02x}")
            i += 2
            continue
        out.append(f"\\x{c:02x}")
        i += 1
    return "".join(out)


def unsafe(data, newline=True):
    """Where data (bytes) holds a control (but newline, when newline), DEL, a C1 control or a byte that
    is not UTF-8; None when it holds none."""
    for i, c in enumerate(data):
        if (c < 0x20 and not (newline and c == 0x0a)) or c == 0x7f:
            return i
    m = _C1.search(data)
    if m:
        return m.start()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start
    return None
