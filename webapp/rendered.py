"""Rendered HTML fragments remembered per process, for what pages print again and again
from immutable events (a timeline's rows: rendering 50 rows cost more CPU than every
query under the page).

A fragment is filed under what never changes for it (an event's id, with the reader's
zone and role) together with the changeable values it printed (a username, a node's
name, referenced records' titles, a conflict mark). A page reads those values afresh
on every request and uses a fragment only while they are all the same, so a rename or a
resolved conflict shows at once: nothing here can go stale, it can only miss."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class Fragment:
    needs: Any  # what the page must read to check `shown` (e.g. referenced ids)
    shown: Hashable  # the changeable values the HTML printed
    html: Markup
    kept: Any = None  # what else the page needs of the source, so as not to read it again


class Fragments:
    """A bounded, least-recently-used map of fragments (threads may share it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, Fragment] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Fragment | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, fragment: Fragment) -> None:
        with self._lock:
            self._kept[key] = fragment
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)
