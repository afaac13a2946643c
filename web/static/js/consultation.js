// The drafting body's page of opinions on drafts: open a paper for opinions until a deadline,
// move the deadline, or end it now. A refusal shows under the form that was sent.

import { el, pickWords, request } from "./kit.js";

const t = pickWords({
  vi: { confirmClose: "Kết thúc lấy ý kiến góp ý đối với tài liệu này ngay bây giờ?" },
  en: { confirmClose: "End taking opinions on this paper now?" },
});

function showError(form, error) {
  const place = form.querySelector(".form-error");
  place.replaceChildren(el("p", "error", error.message));
}

async function send(form, method, url, body) {
  const buttons = form.querySelectorAll("button");
  buttons.forEach((b) => (b.disabled = true));
  try {
    await request(method, url, body);
    location.reload();
  } catch (error) {
    showError(form, error);
    buttons.forEach((b) => (b.disabled = false));
  }
}

for (const form of document.querySelectorAll(".consultation-form")) {
  const base = `/api/documents/${form.dataset.document}/consultation`;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    send(form, "PUT", base, { deadline: String(data.get("deadline")), note: String(data.get("note") || "") });
  });
  form.querySelector("[data-action=close-consultation]")?.addEventListener("click", () => {
    if (confirm(t.confirmClose)) send(form, "POST", `${base}/close`);
  });
}
