"""The one font family phonghop draws with: Noto Sans from the ``pymupdf-fonts`` package.

Noto Sans covers the whole Vietnamese alphabet (ư ơ ă đ and every stacked tone mark such
as ấ ậ ệ ộ ợ ự ỹ) in four styles, and it ships inside a pip package, so stamps, covers and
generated papers render the same on a fresh server that has no system fonts at all.

Two ways to use it:

* drawing single lines with ``page.insert_text``: call :func:`insert_font` on the page and
  pass the returned name as ``fontname``; measure with :func:`font`;
* laying out HTML with ``pymupdf.Story`` or ``page.insert_htmlbox``: pass
  ``css=font_css()`` and ``archive=font_archive()`` and write
  ``font-family: phonghop-sans`` (:data:`CSS_FAMILY`) in your own CSS.
"""

from __future__ import annotations

import functools

import pymupdf
import pymupdf_fonts

FONT_FAMILY = "Noto Sans"
"""Human readable family name; also what PDF viewers show as the embedded font."""

CSS_FAMILY = "phonghop-sans"
"""The ``font-family`` name that :func:`font_css` declares."""

FONT_NAME = "PHSans"
"""Base of the names :func:`insert_font` registers on a page (regular style)."""

_PACKAGE_CODES = {
    (False, False): "notos",
    (True, False): "notosbo",
    (False, True): "notosit",
    (True, True): "notosbi",
}


@functools.cache
def font_buffer(bold: bool = False, italic: bool = False) -> bytes:
    """The TrueType file of the requested style, as bytes (loaded once per process)."""
    return pymupdf_fonts.fontdescriptors[_PACKAGE_CODES[bold, italic]]["loader"]()


@functools.cache
def font(bold: bool = False, italic: bool = False) -> pymupdf.Font:
    """A ``pymupdf.Font`` of the requested style, e.g. to measure ``font().text_length(s, 12)``."""
    return pymupdf.Font(fontbuffer=font_buffer(bold, italic))


def font_name(bold: bool = False, italic: bool = False) -> str:
    """The page-level font name :func:`insert_font` uses for this style, e.g. ``PHSans-Bold``."""
    suffix = {
        (False, False): "",
        (True, False): "-Bold",
        (False, True): "-Italic",
        (True, True): "-BoldItalic",
    }[bold, italic]
    return FONT_NAME + suffix


def insert_font(page: pymupdf.Page, bold: bool = False, italic: bool = False) -> str:
    """Make the style available on ``page`` and return the name to pass as ``fontname``.

    Calling it again for the same page and style is cheap: PyMuPDF reuses the font.
    """
    name = font_name(bold, italic)
    page.insert_font(fontname=name, fontbuffer=font_buffer(bold, italic))
    return name


def font_archive() -> pymupdf.Archive:
    """A fresh ``pymupdf.Archive`` holding the four font files that :func:`font_css` names."""
    archive = pymupdf.Archive()
    for (bold, italic), code in _PACKAGE_CODES.items():
        archive.add(font_buffer(bold, italic), f"{code}.ttf")
    return archive


def font_css() -> str:
    """``@font-face`` rules declaring :data:`CSS_FAMILY` in all four styles.

    The ``url()``s point into :func:`font_archive`, so pass both to the Story.
    """
    rules = []
    for (bold, italic), code in _PACKAGE_CODES.items():
        weight = "bold" if bold else "normal"
        style = "italic" if italic else "normal"
        rules.append(
            f"@font-face {{font-family: {CSS_FAMILY}; src: url({code}.ttf); "
            f"font-weight: {weight}; font-style: {style};}}"
        )
    return "\n".join(rules) + "\n"
