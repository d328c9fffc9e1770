"""Inline diffs of long or multi-line text, by words or by lines (difflib), as plain
(op, text) segments. Pure: no Flask and no HTML; the template escapes every segment."""

from __future__ import annotations

import difflib
import re

INLINE_MIN_CHARS = 60  # shorter one-line values read fine as before -> after
MAX_TOKENS = 4000  # beyond this difflib gets slow: show a whole-value delete/insert
_WORDS = re.compile(r"\s+|\w+|[^\w\s]")

Segment = tuple[str, str]  # (op, text); op is "equal", "delete" or "insert"


def inline_mode(before: str, after: str) -> str:
    """'lines' for multi-line text, 'words' for long one-line text, '' otherwise."""
    if "\n" in before or "\n" in after:
        return "lines"
    if max(len(before), len(after)) >= INLINE_MIN_CHARS:
        return "words"
    return ""


def inline_diff(before: str, after: str, mode: str = "words") -> tuple[Segment, ...]:
    """Segments that rebuild `before` from the equal+delete ones and `after` from the
    equal+insert ones."""
    if mode == "lines":
        return _line_diff(before, after)
    old, new = _WORDS.findall(before), _WORDS.findall(after)
    if len(old) + len(new) > MAX_TOKENS:
        return _merge([("delete", before), ("insert", after)])
    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            segments.append(("equal", "".join(old[i1:i2])))
            continue
        segments.append(("delete", "".join(old[i1:i2])))
        segments.append(("insert", "".join(new[j1:j2])))
    return _merge(segments)


def _line_diff(before: str, after: str) -> tuple[Segment, ...]:
    """Lines are compared without their line break: a last line that gains one (text
    appended after it) is the same line, and only the break is inserted."""
    old, new = before.split("\n"), after.split("\n")
    if len(old) + len(new) > MAX_TOKENS:
        return _merge([("delete", before), ("insert", after)])

    def text(lines: list[str], i1: int, i2: int, total: int) -> str:
        return "".join(line + ("\n" if i < total - 1 else "")
                       for i, line in zip(range(i1, i2), lines[i1:i2], strict=True))

    segments: list[Segment] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            segments.append(("delete", text(old, i1, i2, len(old))))
            segments.append(("insert", text(new, j1, j2, len(new))))
            continue
        # Equal lines; only the last one's break can differ (one text ends there).
        segments.append(("equal", text(old, i1, i2 - 1, len(old)) + old[i2 - 1]))
        old_break = "\n" if i2 < len(old) else ""
        new_break = "\n" if j2 < len(new) else ""
        if old_break == new_break:
            segments.append(("equal", old_break))
        else:
            segments += [("delete", old_break), ("insert", new_break)]
    return _merge(segments)


def _merge(segments: list[Segment]) -> tuple[Segment, ...]:
    """Drop empty segments and join neighbours of the same op."""
    out: list[Segment] = []
    for op, text in segments:
        if not text:
            continue
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))
    return tuple(out)
