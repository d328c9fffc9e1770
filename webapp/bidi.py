"""User text set into a sentence of ours is isolated, as <bdi>: a right-to-left name, or
one with digits and neutrals at its ends, cannot reorder the words around it."""

from __future__ import annotations

from markupsafe import Markup


def isolated(text: object) -> Markup:
    """`text`, escaped, in a <bdi> (which also takes its own direction from it)."""
    return Markup("<bdi>{}</bdi>").format(text)
