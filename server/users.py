"""Accounts from the command line: one by one, or a CSV of a whole council at once."""

from __future__ import annotations

import csv
import io
import re
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from server.admin import audit
from server.i18n import N_
from server.mail import valid_address
from server.models import Body, Role, User
from server.passwords import Passwords

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
REQUIRED_COLUMNS = ("username", "full_name", "role")
COUNCIL_NAME_MAX = 200
FIRST_ADMIN_COMMAND = "phonghop create-user admin --role admin"


@dataclass(frozen=True)
class LineProblem:
    """What is wrong with one line of a CSV: an English msgid and its values."""

    line: int
    message: str
    params: dict[str, object]

    def __str__(self) -> str:
        return f"line {self.line}: {self.message.format(**self.params)}"


class ImportRefused(Exception):
    """The file was not imported; `problems` lists every bad line."""

    def __init__(self, lines: list[LineProblem]) -> None:
        self.lines = lines
        self.problems = [str(p) for p in lines]
        super().__init__("\n".join(self.problems))


@dataclass
class NewUser:
    username: str
    full_name: str
    role: str
    password: str
    title: str = ""
    body: str = ""
    generated_password: bool = False
    seat: str = ""
    group: str = ""
    email: str = ""


def new_user_problem(username: str, role: str) -> tuple[str, dict[str, object]] | None:
    """What is wrong with this username/role pair, as (msgid, values), or None."""
    if not USERNAME.match(username):
        return N_("username {username} must be 2-64 of a-z 0-9 . _ - (lowercase)"), {
            "username": repr(username)
        }
    if role not in Role.__members__:
        return N_("role {role} must be one of {roles}"), {
            "role": repr(role),
            "roles": ", ".join(Role),
        }
    return None


def check_new_user(username: str, role: str) -> str | None:
    """What is wrong with this username/role pair, or None."""
    problem = new_user_problem(username, role)
    return problem[0].format(**problem[1]) if problem else None


def check_council_name(name: str) -> str | None:
    """What is wrong with a council's name, or None."""
    if not name.strip():
        return "the council's name is empty"
    if len(name.strip()) > COUNCIL_NAME_MAX:
        return f"the council's name is longer than {COUNCIL_NAME_MAX} characters"
    if any(ord(c) < 32 for c in name):
        return "the council's name has control characters"
    return None


def sole_council(session: Session) -> Body | None:
    """The install's council when it has exactly one: every account and meeting goes there."""
    found = session.exec(select(Body).limit(2)).all()
    return found[0] if len(found) == 1 else None


def council_of(session: Session, name: str) -> tuple[Body | None, bool]:
    """The council named `name` (made if new, then True), or with no name the sole one."""
    if not name:
        return sole_council(session), False
    name = name.strip()
    found = session.exec(select(Body).where(Body.name == name)).first()
    if found:
        return found, False
    body = Body(name=name)
    session.add(body)
    session.flush()
    return body, True


def create_user(
    session: Session, passwords: Passwords, new: NewUser, body_id: int | None = None
) -> User:
    """One account, in `body_id`, else the council named `new.body` (made if new), else the
    install's only council; the change goes on the audit list (made from the command line)."""
    problem = check_new_user(new.username, new.role)
    if problem is None and new.body:
        problem = check_council_name(new.body)
    if problem:
        raise ValueError(problem)
    if session.exec(select(User).where(User.username == new.username)).first():
        raise ValueError(f"an account named {new.username!r} already exists")
    if len(new.password) < 8:
        raise ValueError("the password must have at least 8 characters")
    body, made = (None, False) if body_id else council_of(session, new.body)
    if made and body:
        audit.record(session, None, "body.create", f"body:{body.id} {body.name}")  # type: ignore[arg-type]
    user = User(
        username=new.username,
        full_name=new.full_name or new.username,
        role=new.role,
        title=new.title,
        email=new.email,
        body_id=body_id or (body.id if body else None),
        password_hash=passwords.hash_now(new.password),
    )
    session.add(user)
    session.flush()
    details = {"role": user.role, "body_id": user.body_id}
    audit.record(session, None, "user.create", audit.user_target(user), **details)  # type: ignore[arg-type]
    session.commit()
    return user


def read_users_csv(path: Path, existing: set[str]) -> list[NewUser]:
    """Parses and checks the whole file first; raises ImportRefused with every bad line."""
    return read_users_text(path.read_text(encoding="utf-8-sig"), existing)


def read_users_text(text: str, existing: set[str]) -> list[NewUser]:
    """The CSV in `text`, checked whole; raises ImportRefused naming every bad line."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRefused(
            [LineProblem(1, N_("missing column(s): {columns}"), {"columns": ", ".join(missing)})]
        )
    return read_user_rows(((reader.line_num, row) for row in reader), existing)


def read_user_rows(
    rows: Iterable[tuple[int, dict[str, str | None]]], existing: set[str]
) -> list[NewUser]:
    """(line number, row) pairs checked whole; raises ImportRefused naming every bad line."""
    problems: list[LineProblem] = []
    found: list[NewUser] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        new, problem = _row(row)
        if problem is None and new.username in existing:
            problem = N_("account {username} already exists"), {"username": repr(new.username)}
        if problem is None and new.username in seen:
            problem = (
                N_("username {username} repeats line {other}"),
                {
                    "username": repr(new.username),
                    "other": seen[new.username],
                },
            )
        if problem:
            problems.append(LineProblem(line, *problem))
            continue
        seen[new.username] = line
        found.append(new)
    if problems:
        raise ImportRefused(problems)
    return found


Problem = tuple[str, dict[str, object]]


def _row(row: dict[str, str | None]) -> tuple[NewUser, Problem | None]:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    new = NewUser(
        username=cell("username").lower(),
        full_name=cell("full_name"),
        role=cell("role").lower(),
        password=cell("password"),
        title=cell("title"),
        body=cell("body"),
        seat=cell("seat")[:32],
        group=cell("group")[:200],
        email=cell("email"),
    )
    if None in row:
        return new, (N_("more cells than columns"), {})
    if not new.full_name:
        return new, (N_("full_name is empty"), {})
    problem = new_user_problem(new.username, new.role)
    if problem:
        return new, problem
    if len(new.body) > COUNCIL_NAME_MAX:
        return new, (N_("body is longer than {n} characters"), {"n": COUNCIL_NAME_MAX})
    if new.email and not valid_address(new.email):
        return new, (N_("email {email} is not a valid e-mail address"), {"email": repr(new.email)})
    if new.password and len(new.password) < 8:
        return new, (N_("password must have at least 8 characters"), {})
    if not new.password:
        new.password = one_time_password()
        new.generated_password = True
    return new, None


def one_time_password() -> str:
    """A password for one sign-in, shown once; the account must choose its own after it."""
    return secrets.token_urlsafe(9)


def import_users(session: Session, passwords: Passwords, path: Path) -> list[NewUser]:
    """All rows or none: the file is checked whole, then written in one transaction."""
    existing = set(session.exec(select(User.username)).all())
    rows = read_users_csv(path, existing)
    bodies = {b.name: b for b in session.exec(select(Body)).all()}
    for name in {r.body for r in rows if r.body and r.body not in bodies}:
        bodies[name] = Body(name=name)
        session.add(bodies[name])
    session.flush()
    only = next(iter(bodies.values())) if len(bodies) == 1 else None  # rows without a body join it
    with ThreadPoolExecutor() as pool:
        hashes = list(pool.map(passwords.hash_now, (r.password for r in rows)))
    for new, password_hash in zip(rows, hashes, strict=True):
        session.add(
            User(
                username=new.username,
                full_name=new.full_name,
                role=new.role,
                title=new.title,
                email=new.email,
                body_id=bodies[new.body].id if new.body else only.id if only else None,
                password_hash=password_hash,
                must_change_password=new.generated_password,
            )
        )
    session.commit()
    return rows
