"""Stamped copies: every page of a downloaded PDF says whose copy it is."""

from __future__ import annotations

from pathlib import Path

import pymupdf

from agenda import fonts

_SIZE = 7.5
_GREY = (0.45, 0.45, 0.45)


def stamp_copy(path: Path, line: str) -> bytes:
    """The PDF at `path` with `line` in the top margin of every page, and in its metadata."""
    with pymupdf.open(path) as document:
        font = fonts.font()
        for page in document:
            width = font.text_length(line, fontsize=_SIZE)
            writer = pymupdf.TextWriter(page.rect, color=_GREY)
            x = max(6.0, (page.rect.width - width) / 2)
            writer.append((x, 12.0), line, font=font, fontsize=_SIZE)
            writer.write_text(page)
        document.set_metadata({**document.metadata, "subject": line})
        document.subset_fonts()
        return document.tobytes(garbage=3, deflate=True)
