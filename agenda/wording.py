"""The council's words, shared by the minutes, the conclusion notice and their Word copies:
dates, shares, names with titles, sentences, the secretary's paragraphs, recipients."""

from __future__ import annotations

from collections.abc import Sequence

_COUNCIL_PREFIXES = ("hội đồng nhân dân ", "hđnd ")
LEADERS = ("chủ tịch", "phó chủ tịch")


def locality(body: str) -> str:
    """ "Hội đồng nhân dân phường Ba Đình" -> "phường Ba Đình"."""
    name = body.strip()
    for prefix in _COUNCIL_PREFIXES:
        if name.lower().startswith(prefix):
            name = name[len(prefix) :].strip()
    return name


def plain_date(date: str) -> str:
    """ "15 tháng 12 năm 2026" -> "15 tháng 12 năm 2026", also when given as "ngày 15 ..."."""
    date = date.strip()
    return date[5:].strip() if date.lower().startswith("ngày ") else date


def percent(part: int, whole: int) -> str:
    """Share with a decimal comma, e.g. "83,33"."""
    return f"{100 * part / whole:.2f}".replace(".", ",") if whole else ""


def with_title(name: str, title: str) -> str:
    return f"{name} – {title}" if name and title else name or "—"


def sentence(text: str) -> str:
    """``text`` ending with one full stop."""
    return text.rstrip().rstrip(".") + "."


def paragraphs(text: str) -> list[str]:
    """What the secretary wrote, one paragraph per line."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def recipient_lines(recipients: Sequence[str]) -> list[str]:
    """ "- one;" per recipient and "- last." as the decree writes them; "Lưu: VT." when the
    secretary named nobody."""
    names = [line.strip().lstrip("-–•").strip().rstrip(";,.").strip() for line in recipients]
    names = [name for name in names if name] or ["Lưu: VT"]
    return [f"- {name}{'.' if n == len(names) else ';'}" for n, name in enumerate(names, 1)]


def item_key(item: str) -> str:
    """How turns and votes name an agenda item: by number ("3.1", "3.1."), by title, or by
    both as printed ("3.1. Dự toán ..."); spacing and a final full stop do not matter."""
    return " ".join(item.split()).rstrip(".").strip()


def journal_head(seq: int, digest: str) -> str:
    """The small line at the end of a frozen document: the journal's head it was made from,
    so the signed paper and the stored session can be checked against each other; "" when
    there is none (a draft)."""
    if seq <= 0 or not digest:
        return ""
    return f"Lập từ nhật ký phiên họp: sự kiện #{seq}, mã {digest[:16]}"
