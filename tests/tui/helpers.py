"""Reading what the console shows, as plain text lines."""

from __future__ import annotations


def screen_text(app) -> str:
    """The visible screen (top screen and what it overlays) as text, one line per row."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


def widget_text(widget, width: int = 78) -> str:
    """What a Static shows (text, a rich Table...), rendered as plain text ``width`` wide."""
    from io import StringIO

    from rich.console import Console

    content = widget.content
    if isinstance(content, str):
        from rich.text import Text

        content = Text.from_markup(content)
    out = StringIO()
    Console(file=out, width=width, color_system=None, legacy_windows=False).print(content)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
