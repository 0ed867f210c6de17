"""The connector kit: what every connector otherwise writes again (public API for plugins).

- ``ties``: updated-since paging with same-timestamp ties (``Watermark``, ``until_signpost``)
- ``htmltext``: HTML bodies to text (``html_to_text``, the model's converter) and notes to HTML (``text_to_html``)
- ``fields``: lenient organization value/health/renewal readers (``organization``, ``OrgFieldReader``)
- ``markers``: marker-tag and note-marker idempotency, tag merging
- ``names``: deskwatch team/agent names <-> helpdesk ids (``NameTable``)
- ``settings``: ``id_table`` (name = id tables) and ``read_start_time`` (where a first sync starts)
- ``checks``: ``check()`` results from errors (``failed_check``)
- ``reads``: strict readers for response envelopes (``reads.integer``, ``reads.timestamp``, …)
- time helpers re-exported from the model: ``parse_time``, ``format_time``, ``parse_date``

Everything listed in ``__all__`` is stable for plugin authors (docs/plugins.md).
"""

from deskwatch.core.connect.kit import reads
from deskwatch.core.connect.kit.checks import check_kind, failed_check
from deskwatch.core.connect.kit.fields import OrgFieldReader, calendar_date, field_value, health, number, organization
from deskwatch.core.connect.kit.htmltext import html_to_text, text_to_html
from deskwatch.core.connect.kit.markers import (
    has_marker_tag,
    marker_tag,
    merged_tags,
    note_with_marker,
    notes_have_marker,
    tag_changes,
    tag_delta,
)
from deskwatch.core.connect.kit.names import NameTable
from deskwatch.core.connect.kit.settings import id_table, read_start_time
from deskwatch.core.connect.kit.ties import Watermark, until_signpost
from deskwatch.core.model.timeutil import format_time, parse_date, parse_time

__all__ = [
    "NameTable",
    "OrgFieldReader",
    "Watermark",
    "calendar_date",
    "check_kind",
    "failed_check",
    "field_value",
    "format_time",
    "has_marker_tag",
    "health",
    "html_to_text",
    "id_table",
    "marker_tag",
    "merged_tags",
    "note_with_marker",
    "notes_have_marker",
    "number",
    "organization",
    "parse_date",
    "parse_time",
    "read_start_time",
    "reads",
    "tag_changes",
    "tag_delta",
    "text_to_html",
    "until_signpost",
]
