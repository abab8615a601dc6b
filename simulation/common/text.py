"""Text typed by users, shown to people: what counts as a control character, and what to do
with one.

One definition serves every place a user's text is shown: a scenario or plan name is refused
when it holds a control character (:func:`refuse_controls`), an error message or a chart
writes it out instead (:func:`escape_controls`, :func:`excerpt`). A control character is an
ASCII or C1 control code (escape sequences, NUL, a bell), a Unicode line or paragraph
separator, or a bidirectional control, which reorders what the reader sees
(``"pay\\u202egnp.exe"`` is displayed as ``payexe.png``).

This module imports nothing from ``simulation``: every layer may use it.
"""

from __future__ import annotations

import re
import reprlib
from typing import Any

#: Most characters of one user value an error message shows; a message must stay one short line
#: whatever was typed (a key of 1 MB, a list of a million numbers).
EXCERPT_CHARS = 80

#: Unicode bidirectional controls: embeddings and overrides (U+202A-202E), isolates
#: (U+2066-2069) and the marks (left-to-right, right-to-left, Arabic letter).
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"

#: Every control character: Unicode categories Cc (C0, DEL, C1: fixed by Unicode's stability
#: policy), Zl (U+2028) and Zp (U+2029), and the bidirectional controls. A regular expression,
#: so checking a long description costs next to nothing (sweeps validate thousands).
CONTROL = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}]")

#: The control characters that lay text out (line breaks, tabs): kept where text may span lines.
LAYOUT = "\n\t"

_REPR = reprlib.Repr(maxlevel=2, maxlist=4, maxtuple=4, maxdict=4, maxset=4, maxstring=40)
_REPR.maxother = 40


def escape_controls(text: str, keep: str = "") -> str:
    """``text`` with each control character (but those in ``keep``) written out as Python
    would (``\\x07``, ``\\x1b``, ``\\u202e``), so it shows what it holds and cannot drive a
    terminal, reorder a line or break an XML file."""
    return CONTROL.sub(lambda m: m[0] if m[0] in keep else ascii(m[0])[1:-1], text)


def excerpt(value: Any, limit: int = EXCERPT_CHARS) -> str:
    """A short rendering of a user value for an error message, control characters escaped.

    Never renders more than it shows (``reprlib`` stops after a few items), so a huge nested
    value costs nothing.
    """
    text = escape_controls(value[: limit + 1] if isinstance(value, str) else _REPR.repr(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def refuse_controls(text: str, allowed: str = "") -> str:
    """``text`` unchanged, or ``ValueError`` naming its first control character (but those in
    ``allowed``).

    Names end up in terminals, file names, charts and slides, where a control character is at
    best invisible and at worst rewrites what the reader sees.
    """
    for m in CONTROL.finditer(text):
        if m[0] not in allowed:
            raise ValueError(
                f"contains a control character (U+{ord(m[0]):04X}) at position {m.start() + 1}; "
                "use printable text"
            )
    return text
