"""The report's markdown rendered as one self-contained HTML page (figures inlined)."""
from __future__ import annotations

import base64
import html
import os

BESIDE = "<!-- the next figure goes beside the table above -->"  # read by page(), hidden in md


def _inline(text: str) -> str:
    """Escaped text with ``**bold**`` spans."""
    parts = html.escape(text).split("**")
    return "".join(f"<b>{p}</b>" if k % 2 else p for k, p in enumerate(parts))


def page(markdown: str, images: list[str]) -> str:
    """A plain self-contained HTML rendering: tables as tables, figures inlined as data URIs;
    a figure after a ``BESIDE`` line is placed beside the table before it."""
    inline = {os.path.basename(p): base64.b64encode(open(p, "rb").read()).decode() for p in images}
    body, table, beside = [], [], False

    def flush():
        if table:
            rows = [row for row in table if not set(row.replace("|", "").strip()) <= {"-", " "}]
            cells = [[_inline(c.strip()) for c in row.strip("|").split("|")] for row in rows]
            body.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in cells[0]) + "</tr>"
                        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>"
                                  for r in cells[1:])
                        + "</table>")
            table.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line == BESIDE:
            beside = True
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("![") and "](figures/" in line:
            name = line.split("](figures/")[1].rstrip(")")
            alt = html.escape(line[2:line.index("]")])
            image = f'<img alt="{alt}" src="data:image/png;base64,{inline[name]}">'
            if beside:
                image, beside = f'<div class="beside">{body.pop()}{image}</div>', False
            body.append(image)
        elif line.startswith("- "):
            body.append(f"<li>{_inline(line[2:])}</li>")
        elif line.strip():
            body.append(f"<p>{_inline(line)}</p>")
    flush()
    style = ("body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
             "table{border-collapse:collapse;font-size:13px}"
             "td,th{border:1px solid #ccc;padding:3px 6px}img{max-width:100%}"
             ".beside{display:flex;gap:2em;align-items:flex-start}.beside img{max-width:45%}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>")
