"""The text contract between the ERP's plain text and a shop's HTML.

Across the ShopClient interface every name, description and category name is plain
text, as the ERP holds it: `Osłonka Łoś & syn <czarna>` means exactly those
characters, and a note's line breaks are line breaks. An adapter for a shop that
stores HTML (WooCommerce: WordPress runs names and descriptions through kses, which
keeps entities and strips anything tag-like) writes with `to_html` and reads with
`to_plain`, so:
- what a shopper sees on the storefront reads exactly as the ERP text;
- nothing from the ERP can become markup or script in a shopper's browser;
- reading back what we wrote gives the ERP text again (a round trip is stable).
"""

from __future__ import annotations

import html
import re

_LINE_BREAK = re.compile(r"<br\s*/?>\n?", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</p\s*>\s*", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n{3,}")


def to_html(text: str) -> str:
    """Plain text as HTML that displays as that text: `& < > " '` escaped, line breaks kept.

    Line breaks stay newlines: WordPress turns them into paragraphs and `<br>` when
    it shows a description (wpautop), and stores them as they are.
    """
    return html.escape(text.replace("\r\n", "\n"), quote=True)


def to_plain(markup: str) -> str:
    """HTML (as a shop stores or shows it) as the plain text a person reads there."""
    if not markup:
        return ""
    text = _LINE_BREAK.sub("\n", markup.replace("\r\n", "\n"))
    text = _PARAGRAPH_END.sub("\n\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return _BLANK_LINES.sub("\n\n", text).strip("\n")


def same_name(stored: str, plain: str) -> bool:
    """Whether a name the shop stored (escaped or not) is this plain name."""
    return to_plain(stored).strip() == plain.strip()
