"""The demo's story for `flask seed-demo`: four weeks of an organisation's changes on two
offices' nodes (hq and eu), each its own node with its own key and users, syncing
every evening: accounts, teams, projects and settings edited day after day, changes of
different fields merged, a team renamed differently on both nodes (a conflict that an
admin resolved) and a description changed on both on the last day (a conflict still
open). Every change is an audited command at its story time (webapp/demonodes.py)."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from .audit.context import AuditContext
from .audit.errors import AuditError
from .audit.ids import new_ulid
from .audit.lookups import id_by_field
from .audit.records import get_record
from .audit.replication import Replicator, list_conflicts, resolve_conflict
from .audit.store import events_after
from .demo import APOLLO, PLATFORM, Seeder, random_password
from .demonodes import DAY_MS, DemoNode, StoryTime, demo_nodes, pin, unpin
from .domain import registry, users

Echo = Callable[[str], None]
DAYS = 28
HQ_PEOPLE = (("dave", "admin", "Dave Okafor"), ("alice", "editor", "Alice Martin"),
             ("bob", "editor", "Bob Chen"), ("carol", "viewer", "Carol Diaz"))
USERNAMES = ("dave", "alice", "bob", "carol", "eve", "frank", "grace")


class DemoNameTakenError(AuditError):
    """A demo username is already an account here: the demo would collide with it."""
HOUR_MS = 3_600_000


class Office(Seeder):
    """A node's seeder that moves story time on a little before each command and edits
    records by id (always at their current version on that node)."""

    def __init__(self, node: DemoNode, story: StoryTime, rng: random.Random) -> None:
        super().__init__(node.auditor, node.session)
        self.node, self.story, self.rng = node, story, rng

    def _run(self, command: Any, by: str | None) -> dict[str, Any]:
        self.story.advance(self.rng.randint(3 * 60_000, 40 * 60_000))
        return super()._run(command, by)

    def current(self, entity: str, record_id: str) -> dict[str, Any]:
        found = get_record(self.session, registry.get(entity), record_id)
        self.session.rollback()
        assert found is not None, (entity, record_id)
        return found

    def edit(self, entity: str, record_id: str, params: dict[str, Any], by: str) -> None:
        self.update(entity, self.current(entity, record_id), params, by)

    def remove(self, entity: str, record_id: str, by: str) -> None:
        self.delete(entity, self.current(entity, record_id), by)


class Story:
    def __init__(self, hq: DemoNode, eu: DemoNode, story: StoryTime, echo: Echo) -> None:
        self.rng = random.Random(20240501)  # the same story every time
        self.hq, self.eu = Office(hq, story, self.rng), Office(eu, story, self.rng)
        self.story, self.echo = story, echo
        self.start = story.ms
        self.passwords: dict[str, str] = {}
        self.people: dict[str, str] = {}  # username -> record id
        self.ids: dict[str, str] = {}  # short name -> record id
        self.unsynced: dict[str, Office] = {}  # short name -> the office it is new on

    def morning(self, day: int) -> None:
        """Story time to 08:00 (UTC) of `day` (0: four weeks ago; 27: yesterday), never
        backwards."""
        self.story.ms = max(self.story.ms, self.start + day * DAY_MS + 8 * HOUR_MS)

    def sync(self) -> None:
        """An evening sync, both ways."""
        self.eu.node.pull(self.hq.node)
        self.hq.node.pull(self.eu.node)
        self.eu.node.pull(self.hq.node)
        self.unsynced.clear()

    def known(self, office: Office, keys: list[str]) -> list[str]:
        """The keys whose records `office` holds (not made on the other since the sync)."""
        return [k for k in keys if self.unsynced.get(k, office) is office]

    def person(self, office: Office, name: str, role: str, full: str,
               by: str | None = None) -> None:
        self.passwords[name] = random_password()
        self.people[name] = office.create("user", {
            "username": name, "email": f"{name}@example.com", "full_name": full,
            "role": role, "active": True, "password": self.passwords[name]}, by)["id"]

    def run(self) -> dict[str, str]:
        self.echo("[1/5] week 1: accounts, teams and projects")
        self.founding()
        self.echo("[2/5] weeks 1-4: daily work on both nodes, synced every evening")
        for day in range(2, DAYS):
            self.morning(day)
            self.daily(day)
            if day == 9:
                self.rename_conflict()
            if day == 15:
                self.merged_edits()
            self.sync()
        self.echo("[3/5] a conflict left open for you")
        self.morning(DAYS - 1)
        self.open_conflict()
        return self.passwords

    def founding(self) -> None:
        hq, eu = self.hq, self.eu
        self.morning(0)
        for name, role, full in HQ_PEOPLE:
            self.person(hq, name, role, full, self.people.get("dave"))
        dave, alice, bob = (self.people[n] for n in ("dave", "alice", "bob"))
        hq.edit("user", self.people["carol"], {"full_name": "Carol Díaz-Ortega"}, dave)
        hq.edit("user", self.people["carol"], {"role": "editor"}, dave)
        self.person(hq, "eve", "editor", "Eve (left)", dave)
        self.ids["platform"] = hq.create("team", {"slug": "platform", "name": "Platform",
                                                  "description": PLATFORM}, alice)["id"]
        self.ids["data"] = hq.create("team", {"slug": "data", "name": "Data",
                                              "description": "Reporting and analytics."},
                                     bob)["id"]
        self.ids["design"] = hq.create("team", {"slug": "design", "name": "Design"},
                                       alice)["id"]
        self.ids["apollo"] = hq.create("project", {
            "name": "Apollo migration", "team_id": self.ids["platform"], "status": "planned",
            "description": APOLLO}, alice)["id"]
        self.ids["kpi"] = hq.create("project", {"name": "KPI dashboard",
                                                "team_id": self.ids["data"],
                                                "status": "active", "budget": "20k"}, bob)["id"]
        self.ids["brand"] = hq.create("project", {"name": "Brand refresh <v2>",
                                                  "team_id": self.ids["design"],
                                                  "status": "planned"}, alice)["id"]
        for key, value in (("mail.smtp_host", "smtp.internal"),
                           ("ui.banner", "Maintenance on Saturday 02:00-04:00 UTC."),
                           ("audit.retention_days", "365")):
            self.ids[key] = hq.create("setting", {"key": key, "value": value}, dave)["id"]
        self.sync()
        self.morning(1)  # the EU office joins, with its own people and settings
        self.person(eu, "frank", "editor", "Frank Müller", dave)
        self.person(eu, "grace", "editor", "Grace Dubois", dave)
        frank = self.people["frank"]
        self.ids["mail.eu_relay"] = eu.create("setting", {"key": "mail.eu_relay",
                                                          "value": "smtp.eu.internal"},
                                              frank)["id"]
        eu.edit("team", self.ids["platform"], {"description": PLATFORM.replace(
            "the databases", "the databases, the message queue")}, frank)
        self.sync()

    def daily(self, day: int) -> None:
        weekend = (day % 7) in (5, 6)
        for _ in range(self.rng.randint(0, 2) if weekend else self.rng.randint(10, 26)):
            office = self.eu if self.rng.random() < 0.4 else self.hq
            people = (["frank", "grace"] if office is self.eu
                      else ["alice", "bob", "carol", "dave"])
            by = self.people[self.rng.choice(people)]
            self.chore(office, by, day)

    def chore(self, office: Office, by: str, day: int) -> None:
        """One ordinary change, picked at random."""
        rng = self.rng
        pick = rng.random()
        projects = self.known(office, [k for k in self.ids if k.startswith("project:")]
                              + ["apollo", "kpi", "brand"])
        if pick < 0.35:
            pid = self.ids[rng.choice(projects)]
            office.edit("project", pid, {"status": rng.choice(
                ["planned", "active", "paused", "active", "done"])}, by)
        elif pick < 0.55:
            pid = self.ids[rng.choice(projects)]
            office.edit("project", pid, {"budget": f"{rng.randint(5, 200)}k"
                                         + rng.choice(["", " (approved)", " (to review)"])}, by)
        elif pick < 0.72:
            # Only hq touches feature flags (it also deletes them): no update-vs-delete.
            key = rng.choice(self.known(office, [
                k for k in self.ids if "." in k
                and (office is self.hq or not k.startswith("feature."))]))
            office.edit("setting", self.ids[key], {"value": self.setting_value(key, day)}, by)
        elif pick < 0.84:
            name = f"{rng.choice(['Billing', 'Search', 'Onboarding', 'Mobile', 'Audit'])} " \
                   f"{rng.choice(['revamp', 'v2', 'pilot', 'clean-up'])} #{len(self.ids)}"
            self.ids[f"project:{name}"] = office.create("project", {
                "name": name, "team_id": self.ids[rng.choice(["platform", "data", "design"])],
                "status": "planned"}, by)["id"]
            self.unsynced[f"project:{name}"] = office
        elif pick < 0.92 and office is self.hq:  # hq alone makes and drops feature flags
            key = f"feature.{rng.choice(['search', 'export', 'beta', 'sso'])}_{len(self.ids)}"
            self.ids[key] = office.create("setting", {"key": key, "value": "off"}, by)["id"]
        elif office is self.hq:
            flags = [k for k in self.ids if k.startswith("feature.")]
            if flags:
                key = rng.choice(flags)
                office.remove("setting", self.ids.pop(key), by)

    def setting_value(self, key: str, day: int) -> str:
        if key == "audit.retention_days":
            return self.rng.choice(["365", "730", "400"])
        if key.startswith("feature."):
            return self.rng.choice(["on", "off", "10%", "50%"])
        if key == "ui.banner":
            return (f"Maintenance on day {day} 02:00-05:00 UTC.\n"
                    "Expect short outages of the dashboard.")
        return self.rng.choice(["smtp-relay.eu.internal:587", "smtp.internal",
                                "smtp.eu.internal"])

    def rename_conflict(self) -> None:
        """Both offices rename the data team before the evening sync; the next morning
        an admin on hq picks a name: a resolved conflict (teams are 'manual')."""
        self.hq.edit("team", self.ids["data"], {"name": "Data Science"}, self.people["alice"])
        self.eu.edit("team", self.ids["data"], {"name": "Analytics"}, self.people["grace"])
        self.sync()
        self.morning(10)
        found = list_conflicts(self.hq.session, "open", entity="team",
                               record_id=self.ids["data"])
        assert found, "the demo's rename did not make a conflict"
        team = self.hq.current("team", self.ids["data"])
        values = {name: team.get(name) for name in registry.get("team").fields}
        self.story.advance(self.rng.randint(20 * 60_000, 50 * 60_000))
        resolve_conflict(self.hq.auditor, self.hq.session, found[0].conflict_id,
                         {**values, "name": "Data & Analytics"}, team["version"],
                         AuditContext(user_id=self.people["dave"], request_id=new_ulid(),
                                      session_id="seed-dave"))
        self.hq.session.rollback()

    def merged_edits(self) -> None:
        """Different fields of one project changed on both nodes: merged, no conflict."""
        self.hq.edit("project", self.ids["apollo"], {"status": "active"}, self.people["bob"])
        self.eu.edit("project", self.ids["apollo"], {"budget": "120k, approved in Q2"},
                     self.people["frank"])

    def open_conflict(self) -> None:
        self.hq.edit("team", self.ids["design"], {"description": "Brand, UI and UX."},
                     self.people["alice"])
        self.eu.edit("team", self.ids["design"], {"description": "Design system and UX."},
                     self.people["grace"])
        self.sync()


def seed_story(session: Session, replicator: Replicator, now_ms: int, echo: Echo) -> dict[str, str]:
    """Play the story on two temporary nodes, then apply their whole history to this
    node in ONE batch (their keys pinned first, as a sync would): all of it or, on any
    failure, nothing (the pins are taken back). Returns the demo accounts' passwords."""
    for name in USERNAMES:  # a collision would replicate as a conflict: refuse instead
        if id_by_field(session, users, "username", name) is not None:
            raise DemoNameTakenError(f"username {name!r} is already taken here")
    session.rollback()
    midnight = now_ms - now_ms % DAY_MS
    story = StoryTime(midnight - DAYS * DAY_MS, limit=now_ms - 60_000)
    with demo_nodes(("hq", "eu"), story) as (hq, eu):
        passwords = Story(hq, eu, story, echo).run()
        echo("[4/5] the demo nodes' history, signed by their keys")
        events = events_after(hq.session, 0, limit=1_000_000)
        hq.session.rollback()
        assert events and events[-1].seq is not None
        echo(f"[5/5] applying {len(events)} events to this node in one transaction")
        pinned = [hq.node_id, eu.node_id]
        pin(session, {hq.node_id: ("hq", hq.public_key)}, via=hq.node_id)
        pin(session, {eu.node_id: ("eu", eu.public_key)}, via=hq.node_id)
        try:
            replicator.apply_batch(session, hq.node_id, events, events[-1].seq)
        except BaseException:
            unpin(session, pinned)
            raise
    return passwords
