"""A file written through whole_file appears complete or not at all."""

from __future__ import annotations

import pytest

from webapp.audit.whole_file import whole_file


@pytest.mark.parametrize("durable", [False, True])
def test_a_complete_write_replaces_the_file(tmp_path, durable):
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old")
    with whole_file(target, durable) as out:
        out.write(b"new\n")
        assert target.read_bytes() == b"old"  # not yet: still under its temporary name
    assert target.read_bytes() == b"new\n" and list(tmp_path.iterdir()) == [target]


def test_a_failed_write_leaves_the_old_file_and_no_partial_one(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), whole_file(target) as out:
        out.write(b"half")
        raise RuntimeError("the database went away")
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]
