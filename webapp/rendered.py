"""Rendered HTML fragments remembered per process, for what pages print again and again
from immutable events (a timeline's rows: rendering 50 rows cost more CPU than every
query under the page).

A fragment is filed under what never changes for it (an event's id, with the reader's
zone and role) together with the changeable values it printed (a username, a node's
name, referenced records' titles, a conflict mark). A page reads those values afresh
on every request and uses a fragment only while they are all the same, so a rename or a
resolved conflict shows at once: nothing here can go stale, it can only miss. (A stored
event altered behind the app's back is shown as first rendered until the process
restarts; finding such changes is `flask audit verify`'s work, not the page's.)"""

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
    """A bounded, least-recently-used map of fragments (threads may share it): at most
    `size` fragments and `chars` characters of HTML (a row with a long text diff is
    ten times a plain one)."""

    def __init__(self, size: int, chars: int) -> None:
        self.size, self.chars = size, chars
        self._kept: OrderedDict[Hashable, Fragment] = OrderedDict()
        self._held = 0  # characters of HTML kept
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Fragment | None:
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
            return found

    def put(self, key: Hashable, fragment: Fragment) -> None:
        with self._lock:
            old = self._kept.pop(key, None)
            self._held -= len(old.html) if old is not None else 0
            self._kept[key] = fragment
            self._held += len(fragment.html)
            while len(self._kept) > self.size or (self._held > self.chars and self._kept):
                _, dropped = self._kept.popitem(last=False)
                self._held -= len(dropped.html)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._kept)
