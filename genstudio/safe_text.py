"""Text from files and paths, made safe to show: one visible line, whatever it holds.

A checkpoint's header, a file name or an image's text chunk can hold newlines (a forged second
line of output), terminal escape sequences (colours, cursor moves, a changed window title) or bytes
that are not UTF-8 (a folder name read with ``surrogateescape``). :func:`safe_text` shows each of
those visibly instead: ``\\n``, ``\\x1b``, ``\\u202e`` and ``\\xff`` for an undecodable byte. Every
string from a file or a path that reaches the terminal or a dialog goes through it.
"""

from __future__ import annotations

import os
import unicodedata
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def safe_text(value: Any, limit: int | None = None) -> str:
    """``str(value)`` with every control, format or otherwise invisible character escaped.

    Parameters
    ----------
    value : a string, a path or anything with a ``str``.
    limit : cut the result to this many characters (ending in "…"), if given.

    Printable text (accents, CJK, emoji) is kept; a lone surrogate from ``surrogateescape``
    decoding (an undecodable byte of a file name) is shown as ``\\xNN``.
    """
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    text = text if isinstance(text, str) else str(text)
    out = []
    for ch in text:
        code = ord(ch)
        if ch == " " or (ch.isprintable() and unicodedata.category(ch) not in ("Cf", "Co", "Cs")):
            out.append(ch)
        elif ch in _NAMED:
            out.append(_NAMED[ch])
        elif 0xDC80 <= code <= 0xDCFF:  # surrogateescape'd byte
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    result = "".join(out)
    if limit is not None and len(result) > limit:
        result = result[:max(limit - 1, 0)] + "…"
    return result
