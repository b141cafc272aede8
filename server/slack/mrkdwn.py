"""Markdown (what `tools.present` and the answers are written in) as Slack mrkdwn, in section-sized parts.

Slack's mrkdwn has bold, italics, code, links and quotes but no headings and no tables: headings become
bold lines, tables become aligned columns in a code block, lists get bullets. `&`, `<` and `>` are escaped
as Slack asks, so nothing in an answer can mention @channel or forge a link.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = ["SECTION_LIMIT", "mrkdwn_sections", "to_mrkdwn"]

SECTION_LIMIT = 2900
"""A section's text may hold 3000 characters; a little room stays for the code fences a split adds."""

_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(tokens: list[Token]) -> str:
    out: list[str] = []
    href: list[str] = []
    label: list[list[str]] = []
    for token in tokens:
        target = label[-1] if label else out
        if token.type == "text":
            target.append(_escape(token.content))
        elif token.type == "code_inline":
            target.append(f"`{_escape(token.content)}`")
        elif token.type in ("strong_open", "strong_close"):
            target.append("*")
        elif token.type in ("em_open", "em_close"):
            target.append("_")
        elif token.type in ("s_open", "s_close"):
            target.append("~")
        elif token.type in ("softbreak", "hardbreak"):
            target.append("\n")
        elif token.type == "link_open":
            href.append(str(token.attrs.get("href", "")))
            label.append([])
        elif token.type == "link_close" and label:
            text, url = "".join(label.pop()), href.pop()
            safe = url.startswith(("http://", "https://", "mailto:"))
            (label[-1] if label else out).append(f"<{_escape(url)}|{text}>" if safe else text)
        elif token.type in ("html_inline", "image"):
            target.append(_escape(token.content))
    return "".join(out)


def _plain(tokens: list[Token]) -> str:
    return "".join(t.content for t in tokens if t.type in ("text", "code_inline", "html_inline"))


def _table(tokens: list[Token]) -> str:
    rows: list[list[str]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(_plain(token.children or []))
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows), default=0))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    if len(lines) > 1:
        lines.insert(1, "  ".join("-" * w for w in widths))
    return "```\n" + _escape("\n".join(lines)) + "\n```"


def to_mrkdwn(markdown: str) -> list[str]:
    """The Markdown as mrkdwn blocks (paragraphs, lists, code blocks, tables), in order."""
    tokens = _PARSER.parse(markdown)
    blocks: list[str] = []
    lists: list[list[int]] = []  # per open list: [next number, or 0 for bullets]
    item_prefix: list[str] = []
    quote = 0
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrs.get("start", 1) if kind == "ordered_list_open" else 0
            lists.append([int(start or 1) if kind == "ordered_list_open" else 0])
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "list_item_open":
            counter = lists[-1]
            indent = "    " * (len(lists) - 1)
            marker = f"{counter[0]}." if counter[0] else ("•" if len(lists) == 1 else "◦")
            if counter[0]:
                counter[0] += 1
            item_prefix.append(f"{indent}{marker} ")
        elif kind == "blockquote_open":
            quote += 1
        elif kind == "blockquote_close":
            quote -= 1
        elif kind == "inline":
            text = _inline(token.children or [])
            if tokens[i - 1].type == "heading_open":
                text = f"*{text.strip('*')}*"
            if item_prefix:
                text = item_prefix.pop() + text.replace("\n", "\n    " * len(lists))
            elif lists:  # a second paragraph in a list item
                text = "    " * len(lists) + text
            if quote:
                text = "\n".join("> " + line for line in text.split("\n"))
            _add(blocks, text, joined=bool(lists))
        elif kind == "html_block":  # shown as the text it is: Slack reads no HTML, and <!here> must not ping
            _add(blocks, _escape(token.content.strip()), joined=False)
        elif kind in ("fence", "code_block"):
            blocks.append("```\n" + _escape(token.content.rstrip("\n")) + "\n```")
        elif kind == "table_open":
            end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
            blocks.append(_table(tokens[i:end]))
            i = end
        elif kind == "hr":
            blocks.append("———")
        i += 1
    return blocks


def _add(blocks: list[str], text: str, *, joined: bool) -> None:
    """List items stay together in one block; paragraphs are blocks of their own."""
    last = blocks[-1].lstrip() if blocks else ""
    if joined and (last.startswith(("•", "◦")) or last[:1].isdigit()):
        blocks[-1] += "\n" + text
    else:
        blocks.append(text)


def mrkdwn_sections(markdown: str, limit: int = SECTION_LIMIT) -> list[str]:
    """The Markdown as mrkdwn texts of at most `limit` characters, split between blocks (a code block too
    long for one section is split into several, each fenced)."""
    return _pack([piece for block in to_mrkdwn(markdown) for piece in _split(block, limit)], limit, "\n\n")


def _pack(pieces: list[str], limit: int, sep: str) -> list[str]:
    """`pieces` joined by `sep` into as few texts of at most `limit` characters as they fit in, in order."""
    out: list[str] = []
    current = ""
    for piece in pieces:
        if current and len(current) + len(sep) + len(piece) > limit:
            out.append(current)
            current = ""
        current = f"{current}{sep}{piece}" if current else piece
    return [*out, current] if current else out


def _split(block: str, limit: int) -> list[str]:
    if len(block) <= limit:
        return [block]
    fenced = block.startswith("```") and block.endswith("```")
    body = block[4:-4] if fenced else block
    room = limit - 8 if fenced else limit
    lines: list[str] = []
    for line in body.split("\n"):
        while len(line) > room:  # one line longer than a section: cut it
            lines.append(line[:room])
            line = line[room:]
        lines.append(line)
    pieces = _pack(lines, room, "\n")
    return [f"```\n{p}\n```" for p in pieces] if fenced else pieces
