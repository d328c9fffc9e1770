"""Version vectors: {node_id: number of changes that node made to the record}."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

VersionVector = dict[str, int]


class Order(Enum):
    EQUAL = "equal"
    BEFORE = "before"  # left is contained in right
    AFTER = "after"  # left contains right
    CONCURRENT = "concurrent"


def bump(vv: Mapping[str, int], node_id: str) -> VersionVector:
    out = dict(vv)
    out[node_id] = out.get(node_id, 0) + 1
    return out


def merge(a: Mapping[str, int], b: Mapping[str, int]) -> VersionVector:
    return {k: max(a.get(k, 0), b.get(k, 0)) for k in sorted(set(a) | set(b))}


def compare(a: Mapping[str, int], b: Mapping[str, int]) -> Order:
    # A plain loop: vectors hold a few nodes, and this runs twice per replicated event.
    if a == b:
        return Order.EQUAL
    less = more = False
    for k in a.keys() | b.keys():
        x, y = a.get(k, 0), b.get(k, 0)
        if x < y:
            less = True
        elif x > y:
            more = True
    if less and more:
        return Order.CONCURRENT
    if less:
        return Order.BEFORE
    if more:
        return Order.AFTER
    return Order.EQUAL


def version_of(vv: Mapping[str, int]) -> int:
    """The record's integer version: the total number of changes it has seen.
    Nodes holding the same vector therefore agree on the version."""
    return sum(vv.values())
