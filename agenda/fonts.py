"""The two font families phonghop draws with, both embedded, both covering the whole
Vietnamese alphabet (ư ơ ă đ and every stacked tone mark such as ấ ậ ệ ộ ợ ự ỹ) in four styles:

* :data:`SANS`, Noto Sans from the ``pymupdf-fonts`` package: stamps, covers, page labels,
  the demo papers;
* :data:`SERIF`, Liberation Serif (metric-compatible with Times New Roman, SIL OFL 1.1) from
  ``agenda/typefaces/``: documents in the form of Decree 30/2020/NĐ-CP, such as the minutes.

Both ship with the project, so documents render the same on a fresh server that has no
system fonts at all.

Two ways to use a family:

* drawing single lines with ``page.insert_text``: call ``insert(page)`` and pass the returned
  name as ``fontname``; measure with ``font()``;
* laying out HTML with ``pymupdf.Story`` or ``page.insert_htmlbox``: pass ``css=css()`` and
  ``archive=archive()`` and write ``font-family: <css_family>`` in your own CSS.

The module-level functions (:func:`font`, :func:`insert_font`, :func:`font_css`, ...) are
those of :data:`SANS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pymupdf
import pymupdf_fonts

Style = tuple[bool, bool]
"""(bold, italic)"""

_STYLES: tuple[Style, ...] = ((False, False), (True, False), (False, True), (True, True))
_SUFFIXES = {
    (False, False): "",
    (True, False): "-Bold",
    (False, True): "-Italic",
    (True, True): "-BoldItalic",
}
_TYPEFACES = Path(__file__).parent / "typefaces"


class Typeface:
    """One family in four styles, loaded once per process."""

    def __init__(
        self, family: str, css_family: str, page_name: str, load: Callable[[Style], bytes]
    ) -> None:
        self.family = family
        """Human readable name; also what PDF viewers show as the embedded font."""
        self.css_family = css_family
        """The ``font-family`` name that :meth:`css` declares."""
        self.page_name = page_name
        """Base of the names :meth:`insert` registers on a page (regular style)."""
        self._load = functools.cache(load)
        self._fonts: dict[Style, pymupdf.Font] = {}

    def buffer(self, bold: bool = False, italic: bool = False) -> bytes:
        """The TrueType file of the requested style, as bytes."""
        return self._load((bold, italic))

    def font(self, bold: bool = False, italic: bool = False) -> pymupdf.Font:
        """A ``pymupdf.Font`` of the style, e.g. to measure ``font().text_length(s, 12)``."""
        style = (bold, italic)
        if style not in self._fonts:
            self._fonts[style] = pymupdf.Font(fontbuffer=self.buffer(bold, italic))
        return self._fonts[style]

    def font_name(self, bold: bool = False, italic: bool = False) -> str:
        """The page-level font name :meth:`insert` uses for this style, e.g. ``PHSans-Bold``."""
        return self.page_name + _SUFFIXES[bold, italic]

    def insert(self, page: pymupdf.Page, bold: bool = False, italic: bool = False) -> str:
        """Make the style available on ``page`` and return the name to pass as ``fontname``.

        Calling it again for the same page and style is cheap: PyMuPDF reuses the font.
        """
        name = self.font_name(bold, italic)
        page.insert_font(fontname=name, fontbuffer=self.buffer(bold, italic))
        return name

    def archive(self) -> pymupdf.Archive:
        """A fresh ``pymupdf.Archive`` holding the four files that :meth:`css` names."""
        archive = pymupdf.Archive()
        for bold, italic in _STYLES:
            archive.add(self.buffer(bold, italic), self._file(bold, italic))
        return archive

    def css(self) -> str:
        """``@font-face`` rules declaring :attr:`css_family` in all four styles.

        The ``url()``s point into :meth:`archive`, so pass both to the Story.
        """
        rules = []
        for bold, italic in _STYLES:
            weight = "bold" if bold else "normal"
            style = "italic" if italic else "normal"
            rules.append(
                f"@font-face {{font-family: {self.css_family}; "
                f"src: url({self._file(bold, italic)}); "
                f"font-weight: {weight}; font-style: {style};}}"
            )
        return "\n".join(rules) + "\n"

    def _file(self, bold: bool, italic: bool) -> str:
        return f"{self.css_family}{_SUFFIXES[bold, italic] or '-Regular'}.ttf"


_NOTO_CODES = {
    (False, False): "notos",
    (True, False): "notosbo",
    (False, True): "notosit",
    (True, True): "notosbi",
}


def _noto_sans(style: Style) -> bytes:
    return pymupdf_fonts.fontdescriptors[_NOTO_CODES[style]]["loader"]()


def _liberation_serif(style: Style) -> bytes:
    return (_TYPEFACES / f"LiberationSerif{_SUFFIXES[style] or '-Regular'}.ttf").read_bytes()


SANS = Typeface("Noto Sans", "phonghop-sans", "PHSans", _noto_sans)
SERIF = Typeface("Liberation Serif", "phonghop-serif", "PHSerif", _liberation_serif)

FONT_FAMILY = SANS.family
CSS_FAMILY = SANS.css_family
FONT_NAME = SANS.page_name


def font_buffer(bold: bool = False, italic: bool = False) -> bytes:
    """The sans TrueType file of the requested style, as bytes (loaded once per process)."""
    return SANS.buffer(bold, italic)


def font(bold: bool = False, italic: bool = False) -> pymupdf.Font:
    """A sans ``pymupdf.Font``, e.g. to measure ``font().text_length(s, 12)``."""
    return SANS.font(bold, italic)


def font_name(bold: bool = False, italic: bool = False) -> str:
    """The page-level name :func:`insert_font` uses for this style, e.g. ``PHSans-Bold``."""
    return SANS.font_name(bold, italic)


def insert_font(page: pymupdf.Page, bold: bool = False, italic: bool = False) -> str:
    """Make the sans style available on ``page`` and return the name to pass as ``fontname``."""
    return SANS.insert(page, bold, italic)


def font_archive() -> pymupdf.Archive:
    """A fresh archive holding the four sans files that :func:`font_css` names."""
    return SANS.archive()


def font_css() -> str:
    """``@font-face`` rules declaring :data:`CSS_FAMILY` (the sans) in all four styles."""
    return SANS.css()
