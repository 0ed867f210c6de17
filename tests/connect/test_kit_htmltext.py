"""HTML helpdesk bodies to text, and notes to HTML (the converter itself: tests/test_htmltext.py)."""

from __future__ import annotations

from deskwatch.core.connect import kit
from deskwatch.core.connect.kit import html_to_text, text_to_html
from deskwatch.core.model import htmltext


def test_the_kit_offers_the_model_converter():
    assert kit.html_to_text is htmltext.html_to_text
    assert "html_to_text" in kit.__all__ and "text_to_html" in kit.__all__
    assert html_to_text("<div>Hello&nbsp;there<br>second &amp; last</div>") == "Hello there\nsecond & last"


def test_text_to_html_escapes_and_appends_marker_lines():
    assert text_to_html("a < b\nc & d", "deskwatch update dw-1") == "<div>a &lt; b<br>c &amp; d<br><br>deskwatch update dw-1</div>"
    assert text_to_html("only") == "<div>only</div>"
    # what a connector writes comes back as the same text
    assert html_to_text(text_to_html("x > y\nz", "m")) == "x > y\nz\nm"
