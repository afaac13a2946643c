"""Interface language: Vietnamese by default, English on request; gettext catalogs under web/."""

from __future__ import annotations

import gettext
import io
from functools import cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from litestar import get
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.response import Redirect

from web import TRANSLATIONS

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "lang"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalog for `language`, compiled from its .po file in memory (no build step)."""
    po_path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def language_of(connection: ASGIConnection) -> str:
    """The cookie's choice, else the first supported language the browser asks for, else vi."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for part in connection.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def gettext_for(language: str):  # type: ignore[no-untyped-def]
    return translations(language).gettext


def translate(connection: ASGIConnection, message: str, **params: object) -> str:
    text = translations(language_of(connection)).gettext(message)
    return text.format(**params) if params else text


@get("/lang/{code:str}", sync_to_thread=False)
def choose_language(code: str, next: str = "/") -> Redirect:
    """Remembers the interface language in a cookie for a year."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    if code not in LANGUAGES:
        return Redirect(target)
    cookie = Cookie(key=LANGUAGE_COOKIE, value=code, max_age=365 * 24 * 3600, samesite="lax")
    return Redirect(target, cookies=[cookie])
