"""Diffs of change events: field by field, inline for long text, secrets redacted."""

from __future__ import annotations

from webapp import diffs
from webapp.audit.events import ChangeEvent
from webapp.domain import projects, users
from webapp.inline_diff import inline_diff, inline_mode

FIELDS = diffs.Fields({"name": "Name", "status": "Status", "description": "Description"})


def _rebuild(segments, keep):
    return "".join(text for op, text in segments if op in ("equal", keep))


def test_changed_fields_are_flagged_and_unchanged_are_not():
    diff = diffs.state_diff(FIELDS, {"id": "X", "name": "Apollo", "status": "planned"},
                            {"id": "X", "name": "Apollo", "status": "active"}, {"status"})
    by_name = {f.name: f for f in diff.fields}
    assert by_name["status"].changed and by_name["status"].requested
    assert (by_name["status"].before, by_name["status"].after) == ("planned", "active")
    assert not by_name["name"].changed
    assert [f.name for f in diff.changed] == ["status"]
    assert "id" not in by_name


def test_field_changed_without_being_asked_for_is_flagged():
    diff = diffs.state_diff(FIELDS, {"name": "A", "status": "planned"},
                            {"name": "B", "status": "active"}, requested={"status"})
    assert [f.name for f in diff.unrequested] == ["name"]
    assert not {f.name: f for f in diff.fields}["status"].unrequested


def test_without_params_nothing_is_flagged_unrequested():
    diff = diffs.state_diff(FIELDS, {"name": "A"}, {"name": "B"})
    assert diff.changed and not diff.unrequested


def test_params_diff_lists_asked_fields_and_unrequested_changes():
    rows = diffs.params_diff(FIELDS, {"status": "active", "name": "Same"},
                             {"name": "Same", "status": "planned", "description": "old"},
                             {"name": "Same", "status": "active", "description": "new"})
    by_name = {r.name: r for r in rows}
    assert by_name["status"].applied and by_name["status"].changed
    assert by_name["name"].applied and not by_name["name"].changed  # asked, already so
    unasked = by_name["description"]
    assert not unasked.requested and unasked.asked is None and unasked.resulted == "new"


def test_params_diff_shows_an_asked_value_that_did_not_result():
    rows = diffs.params_diff(FIELDS, {"status": "active"}, {"status": "planned"},
                             {"status": "paused"})
    assert rows[0].asked == "active" and rows[0].resulted == "paused"
    assert not rows[0].applied


def test_secret_fields_are_redacted_in_both_diffs_but_still_flagged_changed():
    fields = diffs.Fields({"username": "Username", "password": "Password"}, {"password"})
    before = {"username": "ann", "password": "scrypt$old-hash"}
    after = {"username": "ann", "password": "scrypt$new-hash"}
    state = diffs.state_diff(fields, before, after, {"password"})
    field = {f.name: f for f in state.fields}["password"]
    assert field.changed and field.secret
    assert (field.before, field.after) == (diffs.HIDDEN, diffs.HIDDEN)
    assert field.inline == ()
    rows = diffs.params_diff(fields, {"password": "scrypt$new-hash"}, before, after)
    assert (rows[0].asked, rows[0].resulted) == (diffs.HIDDEN, diffs.HIDDEN)
    assert "hash" not in repr(state) + repr(rows)


def test_an_empty_secret_stays_empty_rather_than_hidden():
    fields = diffs.Fields({"password": "P"}, {"password"})
    state = diffs.state_diff(fields, None, {"password": None})
    assert state.fields[0].after is None and not state.fields[0].changed


def test_referenced_records_show_their_title_and_keep_their_id_for_a_link():
    fields = diffs.Fields({"team_id": "Team"}, refs={"team_id"}, titles={"01A": "Red"},
                          targets={"team_id": "team"})
    diff = diffs.state_diff(fields, {"team_id": "01A"}, {"team_id": "01B"}, {"team_id"})
    field = diff.fields[0]
    assert (field.before, field.after) == ("Red", "01B")  # no raw id after a title
    assert (field.target, field.before_id, field.after_id) == ("team", "01A", "01B")


def test_long_one_line_text_is_diffed_inline_by_words():
    old = "The quick brown fox jumps over the lazy dog near the quiet river bank at dawn"
    new = "The quick red fox jumps over the lazy dog near the quiet river bank at dusk"
    field = diffs.state_diff(FIELDS, {"description": old}, {"description": new},
                             {"description"}).changed[0]
    assert field.mode == "words"
    assert ("delete", "brown") in field.inline and ("insert", "red") in field.inline
    assert ("delete", "dawn") in field.inline and ("insert", "dusk") in field.inline
    assert _rebuild(field.inline, "delete") == old
    assert _rebuild(field.inline, "insert") == new


def test_multi_line_text_is_diffed_inline_by_lines():
    old = "line one\nline two\nline three\n"
    new = "line one\nline 2\nline three\nline four\n"
    assert inline_mode(old, new) == "lines"
    assert inline_diff(old, new, "lines") == (
        ("equal", "line one\n"), ("delete", "line two\n"), ("insert", "line 2\n"),
        ("equal", "line three\n"), ("insert", "line four\n"))


def test_short_values_get_no_inline_diff():
    field = diffs.state_diff(FIELDS, {"name": "a"}, {"name": "b"}, {"name"}).changed[0]
    assert field.inline == () and field.mode == ""


def test_huge_text_falls_back_to_whole_value_replace():
    old, new = "a " * 3000, "b " * 3000
    assert inline_diff(old, new, "words") == (("delete", old), ("insert", new))


def test_markup_stays_plain_text_in_segments():
    old = "safe text that is long enough to get an inline word diff here"
    new = "safe text that is <script>alert(1)</script> long enough to get a diff here"
    segments = inline_diff(old, new, "words")
    assert _rebuild(segments, "insert") == new
    assert ("insert", " <script>alert(1)</script>") in segments


def test_create_and_delete_show_values_appearing_and_disappearing():
    post = {"id": "X", "name": "Apollo", "status": "planned", "description": None}
    created = diffs.state_diff(FIELDS, None, post, post.keys())
    assert {f.name for f in created.changed} == {"name", "status"}
    assert not created.unrequested
    deleted = diffs.state_diff(FIELDS, post, None, set())
    assert {f.name for f in deleted.changed} == {"name", "status"}
    assert not deleted.unrequested and deleted.changed[0].after is None


def test_values_are_displayed_as_text():
    assert diffs.display(True) == "yes" and diffs.display(False) == "no"
    assert diffs.display(None) is None and diffs.display(3) == "3"
    assert diffs.display({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'


def test_fields_come_from_the_entity_declaration():
    event = ChangeEvent(
        event_id="01J0000000000000000000000A", origin_node_id="01J0000000000000000000000B",
        hlc=1, entity="user", record_id="01J0000000000000000000000C", op="updated",
        params={"password": "scrypt$x"}, pre_state={"username": "ann", "password": "scrypt$w"},
        post_state={"username": "ann", "password": "scrypt$x"}, vv_before={}, vv_after={},
        schema_version=1, idempotency_key="k")
    state, params = diffs.for_event(diffs.Fields.of(users), event)
    assert [f.label for f in state.changed] == ["Password"]
    assert state.changed[0].after == diffs.HIDDEN and params[0].asked == diffs.HIDDEN
    assert list(diffs.Fields.of(projects).labels)[:2] == ["name", "team_id"]
    assert diffs.Fields.of(projects).refs == {"team_id"}
    assert diffs.Fields.of(None).labels == {}


def test_a_line_appended_to_text_without_a_final_newline_leaves_the_first_line_equal():
    old, new = "line one", "line one\nline two"
    segments = inline_diff(old, new, "lines")
    assert segments == (("equal", "line one"), ("insert", "\nline two"))
    assert _rebuild(segments, "delete") == old and _rebuild(segments, "insert") == new


def test_removing_the_final_newline_keeps_the_lines_equal():
    segments = inline_diff("a\nb\n", "a\nb", "lines")
    assert segments == (("equal", "a\nb"), ("delete", "\n"))


def test_line_diffs_rebuild_both_texts():
    cases = [("", "x\n"), ("a\nb", "b\na"), ("a\r\nb", "a\r\nc\n"), ("\n\n", "\n"),
             ("one\ntwo\nthree", "zero\none\ntwo\nthree\nfour")]
    for old, new in cases:
        segments = inline_diff(old, new, "lines")
        assert _rebuild(segments, "delete") == old and _rebuild(segments, "insert") == new
