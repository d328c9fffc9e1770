"""Characters that make text display as something other than what is stored.

Anywhere (every text param, node names): the bidi embeddings, overrides and isolates,
which reorder what follows; zero-width spaces and joiners, soft hyphens, the BOM, word
joiners and invisible operators; the Unicode tag block (invisible ASCII look-alikes);
the line and paragraph separators; blank fillers (the combining grapheme joiner, the
Hangul fillers). In identifiers (usernames, emails, slugs, keys, node names) also the
variation selectors and the blank Braille pattern: a name that shows as "admin" must
be "admin"."""

from __future__ import annotations

import re

INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e"
    "\u2060-\u2064\u2066-\u206f\u3164\ufeff\uffa0\ufff9-\ufffb\U000e0000-\U000e007f]")
INVISIBLE_IN_IDENTIFIERS = re.compile(
    f"{INVISIBLE.pattern}|[\u2800\ufe00-\ufe0f\U000e0100-\U000e01ef]")
MESSAGE = "must not contain invisible or text-direction characters"


def hides_text(text: str, identifier: bool = False) -> bool:
    """Whether `text` holds a character that hides or reorders text."""
    return bool((INVISIBLE_IN_IDENTIFIERS if identifier else INVISIBLE).search(text))


def shown(text: str, limit: int) -> str:
    """What an untrusted party typed, kept as evidence: every character a text field
    refuses (controls, lone surrogates, the hidden ones above) written as a \\uXXXX
    escape, so it is stored as typed and displays as what it is. At most `limit` long."""
    out = []
    for ch in text[:limit]:
        code = ord(ch)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF \
                or INVISIBLE_IN_IDENTIFIERS.match(ch):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)[:limit].strip()
