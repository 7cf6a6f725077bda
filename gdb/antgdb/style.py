"""Colour for the text output, in the spirit of gdb's own styling.

Only the command layer decides whether to colour (gdb's `style enabled` and
a terminal that can show it); this module only knows how. Addresses take
gdb's address colour (blue), symbols its function colour (yellow), file
names its file colour (green); problems and their verdict are red, a sound
heap green.
"""
import re

_RESET = "\x1b[0m"
_RULES = [
    (re.compile(r"\b(CORRUPT|DAMAGED)\b|\b(overflow|header|link|size|use-after-free|accounting|"
                r"unreadable|coalesce|state|double-free|invalid-free) \((?:I\d+|allocator's report)\)"),
     "\x1b[1;31m"),
    (re.compile(r"\bOK\b"), "\x1b[32m"),
    (re.compile(r"\b0x[0-9a-f]{6,}\b"), "\x1b[34m"),
    (re.compile(r"\b[A-Za-z_][\w.]*\+\d+\b"), "\x1b[33m"),
    (re.compile(r"\b[\w./-]+\.[ch]:\d+\b"), "\x1b[32m"),
]


def paint(line):
    """The line with ANSI colours around what gdb would colour; the text
    itself is unchanged."""
    spans = []
    for pattern, colour in _RULES:
        for match in pattern.finditer(line):
            start, end = match.span()
            if all(end <= s or start >= e for s, e, _ in spans):
                spans.append((start, end, colour))
    out, position = [], 0
    for start, end, colour in sorted(spans):
        out.append(line[position:start])
        out.append(colour + line[start:end] + _RESET)
        position = end
    out.append(line[position:])
    return "".join(out)
