from webapp.audit import CreateRecord


def test_create_writes_record_and_event(session, auditor):
    result = auditor.execute(session, CreateRecord("team", {"slug": "red", "name": "Red"}))
    assert result.record["version"] == 1
    assert result.event.seq == 1
