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
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from web import TRANSLATIONS

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_COOKIE = "lang"


def N_(message: str) -> str:
    """Marks a message for the catalog where it is translated later, per request."""
    return message


# Names of roles and states, shown in templates as _(value).
VALUE_NAMES = (
    N_("admin"),
    N_("secretary"),
    N_("delegate"),
    N_("ward"),
    N_("observer"),
    N_("chair"),
    N_("ward_point"),
    N_("draft"),
    N_("published"),
    N_("live"),
    N_("closed"),
    N_("meeting"),
    N_("agenda item"),
    N_("participant"),
    N_("document"),
    N_("vote"),
)


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
    """The language the person picked (the cookie), else Vietnamese: a tablet or browser set
    to English still starts in Vietnamese, the council's language."""
    chosen = connection.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def gettext_for(language: str):  # type: ignore[no-untyped-def]
    return translations(language).gettext


def translate(connection: ASGIConnection, message: str, **params: object) -> str:
    """`message` in the caller's language; string params are looked up too (names of things)."""
    gettext = translations(language_of(connection)).gettext
    text = gettext(message)
    if not params:
        return text
    return text.format(**{k: gettext(v) if isinstance(v, str) else v for k, v in params.items()})


@get("/lang/{code:str}", sync_to_thread=False)
def choose_language(code: FromPath[str], next: FromQuery[str] = "/") -> Redirect:
    """Remembers the interface language in a cookie for a year."""
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    if code not in LANGUAGES:
        return Redirect(target)
    cookie = Cookie(key=LANGUAGE_COOKIE, value=code, max_age=365 * 24 * 3600, samesite="lax")
    return Redirect(target, cookies=[cookie])
