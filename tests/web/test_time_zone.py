"""The reader's time zone: chosen per user (UTC by default), used for every time shown
and for the timeline's date filters, so the time shown on an event finds it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.web.timeline_helpers import event_ids
from webapp.audit.commands import CreateRecord

_TIME = re.compile(r'<time datetime="([^"]+)">(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d (\S+)</time>')


def _choose(client, csrf_token, zone):
    return client.post("/preferences", data={"time_zone": zone,
                                             "csrf_token": csrf_token("/preferences")})


def test_times_show_in_utc_until_a_user_chooses_a_zone(client, login, run, csrf_token):
    run(CreateRecord("team", {"slug": "tz", "name": "Tz"}))
    login("viewer")
    shown = _TIME.search(client.get("/timeline").get_data(as_text=True))
    assert shown and shown.group(3) == "UTC"
    assert '<option selected value="UTC">' in client.get("/preferences").get_data(as_text=True)
    assert _choose(client, csrf_token, "Asia/Tokyo").status_code == 302
    html = client.get("/timeline").get_data(as_text=True)
    iso, text, zone = _TIME.search(html).groups()
    assert zone == "JST"
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    assert text == (moment + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
    assert "From (Asia/Tokyo)" in html


def test_the_time_shown_is_the_time_that_filters_find(client, login, run, csrf_token):
    team = run(CreateRecord("team", {"slug": "tz", "name": "Tz"}))
    login("viewer")
    _choose(client, csrf_token, "America/New_York")
    html = client.get(f"/timeline?record={team.record['id']}").get_data(as_text=True)
    minute = datetime.strptime(_TIME.search(html).group(2), "%Y-%m-%d %H:%M")
    text = minute.strftime("%Y-%m-%dT%H:%M")
    record = f"record={team.record['id']}"
    found = client.get(f"/timeline?{record}&from={text}&to={text}").get_data(as_text=True)
    assert event_ids(found) == [team.event.event_id]
    later = (minute + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert event_ids(client.get(f"/timeline?{record}&from={later}").get_data(as_text=True)) == []
    earlier = (minute - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert event_ids(client.get(f"/timeline?{record}&to={earlier}").get_data(as_text=True)) == []
    shown = client.get(f"/timeline?from={text}").get_data(as_text=True)
    assert f'name="from" value="{text}"' in shown  # the picker shows it as typed


def test_the_choice_is_per_user_and_an_unknown_zone_is_refused(client, login, csrf_token):
    login("viewer")
    refused = _choose(client, csrf_token, "Mars/Olympus")
    assert refused.status_code == 422 and "Not a valid choice" in refused.get_data(as_text=True)
    assert _choose(client, csrf_token, "Europe/Paris").status_code == 302
    assert "Times in Europe/Paris" in client.get("/timeline").get_data(as_text=True)
    login("editor")
    assert "Times in UTC" in client.get("/timeline").get_data(as_text=True)


def test_choosing_a_zone_needs_the_csrf_token(client, login):
    login("viewer")
    assert client.post("/preferences", data={"time_zone": "Asia/Tokyo"}).status_code == 400
    assert "Times in UTC" in client.get("/timeline").get_data(as_text=True)
