"""Accounts from the command line: one by one, or a CSV of a whole council at once."""

from __future__ import annotations

import csv
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from server.models import Body, Role, User
from server.passwords import Passwords

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
REQUIRED_COLUMNS = ("username", "full_name", "role")


class ImportRefused(Exception):
    """The file was not imported; `problems` lists every bad line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class NewUser:
    username: str
    full_name: str
    role: str
    password: str
    title: str = ""
    body: str = ""
    generated_password: bool = False


def check_new_user(username: str, role: str) -> str | None:
    """What is wrong with this username/role pair, or None."""
    if not USERNAME.match(username):
        return f"username {username!r} must be 2-64 of a-z 0-9 . _ - (lowercase)"
    if role not in Role.__members__:
        return f"role {role!r} must be one of {', '.join(Role)}"
    return None


def create_user(
    session: Session, passwords: Passwords, new: NewUser, body_id: int | None = None
) -> User:
    problem = check_new_user(new.username, new.role)
    if problem:
        raise ValueError(problem)
    if session.exec(select(User).where(User.username == new.username)).first():
        raise ValueError(f"an account named {new.username!r} already exists")
    if len(new.password) < 8:
        raise ValueError("the password must have at least 8 characters")
    user = User(
        username=new.username,
        full_name=new.full_name or new.username,
        role=new.role,
        title=new.title,
        body_id=body_id,
        password_hash=passwords.hash_now(new.password),
    )
    session.add(user)
    session.commit()
    return user


def read_users_csv(path: Path, existing: set[str]) -> list[NewUser]:
    """Parses and checks the whole file first; raises ImportRefused with every bad line."""
    problems: list[str] = []
    rows: list[NewUser] = []
    seen: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportRefused([f"line 1: missing column(s): {', '.join(missing)}"])
        for row in reader:
            line = reader.line_num
            new, problem = _row(row)
            if problem is None and new.username in existing:
                problem = f"account {new.username!r} already exists"
            if problem is None and new.username in seen:
                problem = f"username {new.username!r} repeats line {seen[new.username]}"
            if problem:
                problems.append(f"line {line}: {problem}")
                continue
            seen[new.username] = line
            rows.append(new)
    if problems:
        raise ImportRefused(problems)
    return rows


def _row(row: dict[str, str | None]) -> tuple[NewUser, str | None]:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    new = NewUser(
        username=cell("username").lower(),
        full_name=cell("full_name"),
        role=cell("role").lower(),
        password=cell("password"),
        title=cell("title"),
        body=cell("body"),
    )
    if None in row:
        return new, "more cells than columns"
    if not new.full_name:
        return new, "full_name is empty"
    problem = check_new_user(new.username, new.role)
    if problem:
        return new, problem
    if new.password and len(new.password) < 8:
        return new, "password must have at least 8 characters"
    if not new.password:
        new.password = secrets.token_urlsafe(9)
        new.generated_password = True
    return new, None


def import_users(session: Session, passwords: Passwords, path: Path) -> list[NewUser]:
    """All rows or none: the file is checked whole, then written in one transaction."""
    existing = set(session.exec(select(User.username)).all())
    rows = read_users_csv(path, existing)
    bodies = {b.name: b for b in session.exec(select(Body)).all()}
    for name in {r.body for r in rows if r.body and r.body not in bodies}:
        bodies[name] = Body(name=name)
        session.add(bodies[name])
    session.flush()
    with ThreadPoolExecutor() as pool:
        hashes = list(pool.map(passwords.hash_now, (r.password for r in rows)))
    for new, password_hash in zip(rows, hashes, strict=True):
        session.add(
            User(
                username=new.username,
                full_name=new.full_name,
                role=new.role,
                title=new.title,
                body_id=bodies[new.body].id if new.body else None,
                password_hash=password_hash,
            )
        )
    session.commit()
    return rows
