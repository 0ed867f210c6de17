"""HTML helpdesk bodies to text, and notes to HTML."""

from __future__ import annotations

import pytest

from deskwatch.core.connect.kit import html_to_text, text_to_html


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("<div>Hello&nbsp;there<br>second &amp; last</div>", "Hello\xa0there\nsecond & last"),
        ("<p>The error says <b>EXPORT_FAILED</b>.</p><p>This is urgent &amp; costly.</p>", "The error says EXPORT_FAILED.\nThis is urgent & costly."),
        ("line one<br/>line two<BR >line three", "line one\nline two\nline three"),
        ("<ul><li>first</li><li>second</li></ul><h2>Title</h2>tail", "first\nsecond\nTitle\ntail"),
        ("<style>p { color: red }</style><script>alert('x')</script>visible", "visible"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "ab\nc"),
        ("&lt;not a tag&gt; &#8364;5 &eacute;t&eacute;", "<not a tag> €5 été"),
        ("  lots   of \t spaces  <p></p><p>  </p>", "lots of spaces"),
        ("unclosed <b>bold and <i>italic", "unclosed bold and italic"),
        ("plain text\nwith a newline", "plain text\nwith a newline"),
        ("", ""),
    ],
)
def test_html_to_text(body, text):
    assert html_to_text(body) == text


def test_text_to_html_escapes_and_appends_marker_lines():
    assert text_to_html("a < b\nc & d", "deskwatch update dw-1") == "<div>a &lt; b<br>c &amp; d<br><br>deskwatch update dw-1</div>"
    assert text_to_html("only") == "<div>only</div>"
    # what a connector writes comes back as the same text
    assert html_to_text(text_to_html("x > y\nz", "m")) == "x > y\nz\nm"
