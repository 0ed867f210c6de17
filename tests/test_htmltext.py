"""The one HTML-to-text converter (deskwatch.core.model.htmltext) that connectors, the brief, the
similar-tickets search and the console share."""

from __future__ import annotations

import pytest

from deskwatch.core.model.htmltext import html_to_text, looks_like_html, readable


@pytest.mark.parametrize(
    ("body", "text"),
    [
        # a non-breaking space is a space to a reader (editors write "&nbsp;" for every second space)
        ("<div>Hello&nbsp;there<br>second &amp; last</div>", "Hello there\nsecond & last"),
        ("<div>It&#x27;s <b>still</b>&nbsp;down</div><div><br></div><p>Order 42</p>", "It's still down\nOrder 42"),
        ("<p>The error says <b>EXPORT_FAILED</b>.</p><p>This is urgent &amp; costly.</p>", "The error says EXPORT_FAILED.\nThis is urgent & costly."),
        ("line one<br/>line two<BR >line three", "line one\nline two\nline three"),
        ("<ul><li>first</li><li>second</li><li> </li></ul><h2>Title</h2>tail", "- first\n- second\nTitle\ntail"),
        ("<style>p { color: red }</style><script>alert('x')</script><head><title>t</title></head>visible", "visible"),
        ("<table><tr><th>Order</th><td>42</td></tr><tr><td>c</td></tr></table>", "Order 42\nc"),
        ("&lt;not a tag&gt; &#8364;5 &eacute;t&eacute;", "<not a tag> €5 été"),
        ("  lots   of \t spaces  <p></p><p>  </p>", "lots of spaces"),
        ("zero\u200bwidth<p>\ufeffbom</p>", "zerowidth\nbom"),
        ("unclosed <b>bold and <i>italic", "unclosed bold and italic"),
        ("<p>unclosed <b>bold <i>italic</p><p>next</p>", "unclosed bold italic\nnext"),
        # a line break in HTML source is a space on screen; in <pre> it is a line break
        ("<p>We have a\nproblem with the export.</p><pre>line 1\n  line 2</pre>", "We have a problem with the export.\nline 1\nline 2"),
        # a body with no tag at all is text: its line breaks are the writer's
        ("plain text\nwith a newline", "plain text\nwith a newline"),
        ("R&amp;D says\n&quot;down&quot;", 'R&D says\n"down"'),
        ("", ""),
        (None, ""),
    ],
)
def test_html_to_text(body, text):
    assert html_to_text(body) == text


def test_quoted_mails_are_kept_unless_left_out():
    body = "<p>New text</p><div class='gmail_quote'>On Mon <blockquote>old text</blockquote></div><p>After</p>"
    assert html_to_text(body) == "New text\nOn Mon\nold text\nAfter"
    assert html_to_text(body, keep_quotes=False) == "New text\nAfter"
    # an unclosed quote inside a closed container ends with the container
    assert html_to_text("<div class=gmail_quote><blockquote>old</div><p>new</p>", keep_quotes=False) == "new"
    assert html_to_text("<blockquote><ul><li>old</li></ul></blockquote><ul><li>new</li></ul>", keep_quotes=False) == "- new"


def test_link_addresses_only_when_asked_and_not_shown_already():
    body = '<p>Status: <a href="https://status.example">page</a>, mail <a href="mailto:ops@x.example">ops@x.example</a>, <a href="javascript:x()">here</a></p>'
    assert html_to_text(body) == "Status: page, mail ops@x.example, here"
    assert html_to_text(body, links=True) == "Status: page (https://status.example), mail ops@x.example, here"
    assert html_to_text('<a href="https://a.example/">https://a.example/</a>', links=True) == "https://a.example/"
    assert html_to_text('<blockquote><a href="https://old.example">x</a></blockquote>', keep_quotes=False, links=True) == ""


def test_only_real_markup_counts_as_html():
    for text in ("if a < b and c > d, it fails", "x <= 3", "press <Enter> to send", "AT&T", ""):
        assert not looks_like_html(text)
        assert readable(text) == text
    for body in ("Tom &amp; Jerry", "<p>x</p>", "a<br>b", "<DIV class='x'>y</DIV>", "&#39;", "<!-- c -->ok"):
        assert looks_like_html(body)
    assert readable("Tom &amp; Jerry") == "Tom & Jerry"
    assert readable(None) == ""
    assert readable("<p>a</p><blockquote>b</blockquote>", keep_quotes=False) == "a"
