"""In a real browser: the demo's admin makes an account, resets it, the person signs in with the
one-time password and must choose their own; a CSV is imported after a preview; a roster is
edited. Screenshots of every page at a laptop's and a tablet's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import BUSY_MACHINE_MS, sign_in

pytestmark = pytest.mark.browser

SIZES = {"1280x800": (1280, 800), "1024x768": (1024, 768), "800x1280": (800, 1280)}


def open_as(browser, live_server, size=(1280, 800)):  # type: ignore[no-untyped-def]
    width, height = size
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=live_server.url, locale="vi-VN"
    )
    context.set_default_timeout(BUSY_MACHINE_MS)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    return context, page


def shots(page, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    for label, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=tmp_path / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})


def test_admin_makes_an_account_resets_it_and_the_person_chooses_a_password(
    browser, live_server, tmp_path
):
    context, page = open_as(browser, live_server)
    sign_in(page, "admin")
    page.click("text=Quản trị")
    page.wait_for_url("**/admin/accounts")

    form = page.locator("#new-account")
    form.locator("input[name=username]").fill("daibieu21")
    form.locator("input[name=full_name]").fill("Phạm Văn Hai Mốt")
    form.locator("input[name=title]").fill("Đại biểu HĐND")
    form.locator("select[name=body_id]").select_option(index=1)
    form.locator("button[type=submit]").click()
    first = page.locator("#once-password").inner_text()
    assert len(first) >= 8
    shots(page, tmp_path, "accounts")

    form.locator("input[name=username]").fill("daibieu21")  # the same name again
    form.locator("input[name=full_name]").fill("Trùng tên")
    form.locator("button[type=submit]").click()
    refusal = page.locator("#new-account .form-error")
    refusal.wait_for()
    assert "daibieu21" in refusal.inner_text()
    shots(page, tmp_path, "accounts-refused")

    page.fill("input[name=q]", "hai mốt")
    page.wait_for_selector("#account-rows tbody tr >> nth=0 >> text=Phạm Văn Hai Mốt")
    assert page.locator("#account-rows tbody tr").count() == 1
    page.click("#account-rows >> text=Phạm Văn Hai Mốt")
    page.wait_for_url("**/admin/accounts/*")
    page.click("#one-time-password")
    password = page.locator("#once-password").inner_text()
    assert password != first
    page.click("#one-time-link")
    link = page.locator("#once-link").inner_text()
    assert "/reset/" in link
    shots(page, tmp_path, "account")

    person, their_page = open_as(browser, live_server, (1024, 768))
    their_page.goto("/login")
    their_page.fill("input[name=username]", "daibieu21")
    their_page.fill("input[name=password]", password)
    their_page.click("button[type=submit]")
    their_page.wait_for_url("**/password")
    their_page.goto("/meetings")
    their_page.wait_for_url("**/password")  # nothing else before a password of their own
    their_page.fill("input[name=password]", "mat-khau-rieng-21")
    their_page.fill("input[name=confirm]", "khong-giong")
    their_page.click("#choose-password button[type=submit]")
    assert "không giống" in their_page.locator(".error").inner_text()
    shots(their_page, tmp_path, "password")
    their_page.fill("input[name=password]", "mat-khau-rieng-21")
    their_page.fill("input[name=confirm]", "mat-khau-rieng-21")
    their_page.click("#choose-password button[type=submit]")
    their_page.wait_for_url("**/meetings")
    person.close()

    person, their_page = open_as(browser, live_server, (1024, 768))  # the link, once
    their_page.goto(link)
    their_page.fill("#reset-password input[name=password]", "mat-khau-qua-link")
    their_page.fill("#reset-password input[name=confirm]", "mat-khau-qua-link")
    their_page.click("#reset-password button[type=submit]")
    their_page.wait_for_selector(".ok[role=status]")
    their_page.goto(link)
    assert "đã được dùng" in their_page.locator(".error").inner_text()
    shots(their_page, tmp_path, "reset-used")
    person.close()

    page.goto("/admin/changes")
    actions = page.locator("#changes tbody").inner_text()
    assert "daibieu21" in actions
    shots(page, tmp_path, "changes")
    context.close()


CSV = (
    "username,full_name,role,title,seat,group\n"
    "daibieu31,Nguyễn Thị Ba Mốt,delegate,Đại biểu HĐND,B1,Tổ đại biểu số 3\n"
    "daibieu32,Trần Văn Ba Hai,delegate,Đại biểu HĐND,B2,Tổ đại biểu số 3\n"
)
BAD_CSV = CSV + "Sai Ten,Tên sai,delegate,,,\ndaibieu31,Trùng,delegate,,,\n"


def test_admin_imports_a_csv_after_a_preview_and_edits_the_roster(browser, live_server, tmp_path):
    context, page = open_as(browser, live_server)
    sign_in(page, "admin")
    page.goto("/admin/import")
    bad, good = tmp_path / "sai.csv", tmp_path / "to3.csv"
    bad.write_text(BAD_CSV, encoding="utf-8")
    good.write_text(CSV, encoding="utf-8")

    page.set_input_files("#import-form input[name=file]", bad)
    page.click("#import-form button[type=submit]")
    problems = page.locator("#import-form .form-error")
    problems.wait_for()
    assert "dòng 4" in problems.inner_text() and "dòng 5" in problems.inner_text()
    shots(page, tmp_path, "import-refused")

    page.set_input_files("#import-form input[name=file]", good)
    page.select_option("#import-form select[name=body_id]", index=1)
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#preview >> text=daibieu32")
    assert page.locator("#import-form .form-error").inner_text() == ""
    shots(page, tmp_path, "import-preview")
    page.click("#import-commit button[type=submit]")
    passwords = page.locator("#import-passwords tbody tr")
    passwords.first.wait_for()
    assert passwords.count() == 2
    shots(page, tmp_path, "import-done")

    page.goto("/admin/councils")
    shots(page, tmp_path, "councils")
    page.click("#council-list >> text=Danh sách")
    page.wait_for_url("**/roster")
    row = page.locator("tr", has_text="Trần Văn Ba Hai")
    assert row.locator("input[name=seat]").input_value() == "B2"
    row.locator("input[name=seat]").fill("B9")
    row.locator("button", has_text="Lưu").click()
    page.wait_for_selector("tr:has-text('Trần Văn Ba Hai') input[name=seat][value=B9]")
    page.reload()
    assert (
        page.locator("tr", has_text="Trần Văn Ba Hai").locator("input[name=seat]").input_value()
        == "B9"
    )
    shots(page, tmp_path, "roster")
    context.close()
