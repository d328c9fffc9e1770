"""Two real, temporary nodes for `flask seed-demo`: each its own SQLite database, node
id and Ed25519 key, with a clock driven by story time (the past weeks), exchanging
events through the replication core as a sync would. Their events are genuinely signed
by their own keys; the node being seeded takes their whole history in one applied
batch, with their keys pinned, exactly as it would from a peer, so `flask audit verify`
checks it like any relayed history."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .audit import keys
from .audit.db import configure_engine
from .audit.hlc import HybridClock
from .audit.keygen import give_key
from .audit.node import init_node
from .audit.replication import ApplyReport, Replicator
from .audit.service import Auditor
from .audit.store import events_after
from .audit.tables import nodes
from .domain import registry
from .schema import metadata
from .sync.peers import remember_nodes

DAY_MS = 86_400_000


@dataclass
class StoryTime:
    """A wall clock the story moves forward (never back), in milliseconds; it never
    reads later than `limit` (the real time when the story began), so no event is
    stamped in the future."""
    ms: int
    limit: int

    def wall(self) -> int:
        return min(self.ms, self.limit)

    def advance(self, ms: int) -> None:
        self.ms += max(ms, 1)


@dataclass
class DemoNode:
    name: str
    session: Session
    auditor: Auditor
    replicator: Replicator
    public_key: str
    seen: dict[str, int] = field(default_factory=dict)  # source node id -> seq pulled

    @property
    def node_id(self) -> str:
        return self.auditor.node_id

    def pull(self, source: DemoNode) -> ApplyReport | None:
        """Apply what `source` logged since the last pull (one batch, as a sync)."""
        after = self.seen.get(source.node_id, 0)
        events = events_after(source.session, after, limit=1_000_000)
        source.session.rollback()
        if not events:
            return None
        upto = events[-1].seq
        assert upto is not None
        report = self.replicator.apply_batch(self.session, source.node_id, events, upto)
        self.seen[source.node_id] = upto
        return report


def pin(session: Session, known: dict[str, tuple[str, str]], via: str) -> None:
    """Remember nodes {node id: (name, public key)} and pin their keys, first learnt
    `via` a node (as a hello would); a key already pinned is never replaced."""
    remember_nodes(session, {node_id: name for node_id, (name, _) in known.items()})
    for node_id, (_, key) in known.items():
        session.execute(nodes.update().where(nodes.c.node_id == node_id,
                                             nodes.c.public_key.is_(None))
                        .values(public_key=key, key_via=via))
    session.commit()


def unpin(session: Session, node_ids: list[str]) -> None:
    """Forget nodes that no event names (a seeding that failed before its batch)."""
    session.rollback()
    session.execute(nodes.delete().where(nodes.c.node_id.in_(node_ids),
                                         nodes.c.is_self.is_(False)))
    session.commit()


@contextmanager
def demo_nodes(names: tuple[str, ...], story: StoryTime) -> Iterator[list[DemoNode]]:
    """Nodes on temporary SQLite files, deleted afterwards; each knows the others'
    keys (pinned), so they can pull from each other."""
    with TemporaryDirectory(prefix="hindsight-demo-") as tmp:
        engines = []
        made = []
        try:
            for name in names:
                engine = configure_engine(sa.create_engine(f"sqlite:///{Path(tmp) / name}.db"))
                engines.append(engine)
                metadata.create_all(engine)
                session = Session(engine)
                clock = HybridClock(wall=story.wall)
                node_id = init_node(session, name, clock)
                key = give_key(session, node_id, keys.new_private_key()).public_key
                made.append(DemoNode(name, session, Auditor(registry, clock, node_id),
                                     Replicator(registry, clock, node_id), key))
            for node in made:
                for other in made:
                    if other is not node:  # learnt from the node itself
                        pin(node.session, {other.node_id: (other.name, other.public_key)},
                            via=other.node_id)
            yield made
        finally:
            for node in made:
                node.session.close()
            for engine in engines:
                engine.dispose()
