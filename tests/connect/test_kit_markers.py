"""Marker-tag and note-marker idempotency helpers, and tag merging."""

from __future__ import annotations

from deskwatch.core.connect.kit import (
    has_marker_tag,
    marker_tag,
    merged_tags,
    note_with_marker,
    notes_have_marker,
    tag_changes,
    tag_delta,
)
from deskwatch.core.model import TicketUpdate


def update(**kw) -> TicketUpdate:
    base = dict(ticket_id="s:1", source="s", idempotency_key="3F2A-9C1E-0B7D-77aa")
    base.update(kw)
    return TicketUpdate(**base)


def test_marker_tag_is_derived_from_the_key():
    assert marker_tag("3F2A-9C1E-0B7D-77aa") == "dw-3f2a9c1e0b7d"
    assert has_marker_tag(["vip", "dw-3f2a9c1e0b7d"], "3F2A-9C1E-0B7D-77aa")
    assert not has_marker_tag(["vip", "dw-3f2a9c1e0b7"], "3F2A-9C1E-0B7D-77aa")
    assert not has_marker_tag([], "3F2A-9C1E-0B7D-77aa")


def test_note_marker_round_trip():
    line = "[deskwatch dw-3f2a9c1e0b7d]"
    note = note_with_marker("Escalated: renewal at risk", line)
    assert note == "Escalated: renewal at risk\n[deskwatch dw-3f2a9c1e0b7d]"
    assert note_with_marker("body", line, first=True) == f"{line}\nbody"
    assert note_with_marker("body", line, separator="\n\n") == f"body\n\n{line}"
    assert notes_have_marker(["other", None, 7, note], line)
    assert not notes_have_marker(["other", "[deskwatch dw-000000000000]"], line)


def test_tag_changes_express_the_escalated_flag_as_a_tag():
    assert tag_changes(update(tags_add=("a", "a", "b"), tags_remove=("c",))) == (["a", "b"], ["c"])
    assert tag_changes(update(escalated=True, tags_add=("a",)), "escalated") == (["a", "escalated"], [])
    assert tag_changes(update(escalated=False), "escalated") == ([], ["escalated"])
    assert tag_changes(update(escalated=True)) == ([], [])  # no tag stands for it: left to the caller


def test_merged_tags_keep_other_tools_tags_and_order():
    assert merged_tags(["vip", "old", "billing"], ["new", "vip"], ["old"], "dw-1") == ["vip", "billing", "new", "dw-1"]
    assert merged_tags(["dw-1"], [], [], "dw-1") == ["dw-1"]
    assert merged_tags([], ["a"]) == ["a"]


def test_tag_delta_sends_only_what_changes():
    assert tag_delta(["vip", "old"], ["vip", "new", "new"], ["old", "absent"]) == (["new"], ["old"])
    assert tag_delta(["x"], ["y"], ["y"]) == (["y"], [])  # added wins over removed
