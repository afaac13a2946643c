// The secretary's minutes page: what is typed stays on the tablet (localStorage) until the
// server has acknowledged it, is saved a moment after typing stops, one field at a time, and
// the bar says whether it is saved. A refusal shows next to the field it concerns; a lost
// connection is retried. "Chốt" freezes a version once everything is saved.

import { el, failedText, lang, pickWords, request } from "./kit.js";

const TEXT = {
  vi: {
    idle: "Nội dung được lưu tự động khi bạn gõ.",
    pending: "Có thay đổi chưa lưu…",
    saving: "Đang lưu…",
    saved: (time) => `Đã lưu lúc ${time}`,
    offline: "Mất kết nối — nội dung vẫn giữ trên máy này và sẽ tự lưu khi có mạng.",
    refused: "Có ô chưa lưu được — xem thông báo ngay dưới ô đó.",
    restored: (n) => `Đã khôi phục ${n} ô có nội dung chưa kịp lưu trên máy này; đang lưu lại.`,
    restoredSaved: (n) => `Đã khôi phục và lưu lại ${n} ô có nội dung chưa kịp lưu trên máy này.`,
    unsaved: "Còn nội dung chưa lưu được. Hãy lưu xong rồi chốt.",
    confirm: {
      minutes: (n) => `Chốt biên bản thành phiên bản ${n}?\n\nPhiên bản đã chốt không bao giờ thay đổi được: muốn sửa, hãy lưu phần sửa rồi chốt một phiên bản mới.`,
      notice: (n) => `Chốt thông báo kết luận thành phiên bản ${n}?\n\nPhiên bản đã chốt không bao giờ thay đổi được: muốn sửa, hãy lưu phần sửa rồi chốt một phiên bản mới.`,
    },
    frozen: (n) => `Đã chốt phiên bản ${n}.`,
    leave: "Còn nội dung chưa lưu lên máy chủ.",
    roles: { chair: "Chủ tọa", secretary: "Thư ký", seal: "Con dấu" },
    signatures: (n) => `Chữ ký số — phiên bản ${n}`,
    unsigned: "Chưa có chữ ký số.",
    waiting: (who) => `Đến lượt ký: ${who}.`,
    allSigned: "Đã ký đủ.",
    timestamped: "có dấu thời gian",
    signedPdf: "Tải bản đã ký (PDF)",
    check: "Kiểm tra",
    sign: "Ký số",
    signAs: (who) => `Ký số với vai trò ${who}`,
    pin: "Mã PIN của token",
    signing: "Đang ký…",
    noKey: "Tài khoản của bạn chưa được gắn khóa ký số: hãy liên hệ quản trị viên.",
    signed: (who) => `${who} đã ký.`,
  },
  en: {
    idle: "Changes are saved as you type.",
    pending: "Unsaved changes…",
    saving: "Saving…",
    saved: (time) => `Saved at ${time}`,
    offline: "No connection — your text is kept on this device and will be saved when the network is back.",
    refused: "A field could not be saved — see the message under it.",
    restored: (n) => `Restored ${n} field(s) typed on this device but not yet saved; saving them now.`,
    restoredSaved: (n) => `Restored and saved ${n} field(s) typed on this device.`,
    unsaved: "Some text is not saved yet. Save it, then freeze.",
    confirm: {
      minutes: (n) => `Freeze the minutes as version ${n}?\n\nA frozen version can never be changed: to correct it, save your corrections and freeze a new version.`,
      notice: (n) => `Freeze the conclusion notice as version ${n}?\n\nA frozen version can never be changed: to correct it, save your corrections and freeze a new version.`,
    },
    frozen: (n) => `Version ${n} frozen.`,
    leave: "Some text is not saved on the server yet.",
    roles: { chair: "Chair", secretary: "Secretary", seal: "Seal" },
    signatures: (n) => `Digital signatures — version ${n}`,
    unsigned: "Not signed yet.",
    waiting: (who) => `Next to sign: ${who}.`,
    allSigned: "Fully signed.",
    timestamped: "timestamped",
    signedPdf: "Download the signed PDF",
    check: "Check",
    sign: "Sign",
    signAs: (who) => `Sign as ${who}`,
    pin: "Token PIN",
    signing: "Signing…",
    noKey: "No signing key is set up for your account: ask the administrator.",
    signed: (who) => `${who} has signed.`,
  },
};
const t = pickWords(TEXT);

const SAVE_AFTER_MS = 1200;
const RETRY_MS = 5000;

const root = document.getElementById("record");
const api = `/api/meetings/${root.dataset.meeting}`;
const stateLine = document.getElementById("save-state");
const fields = new Map(); // name -> {input, box, error}
const pending = new Set(); // typed, not yet acknowledged by the server
const refused = new Set(); // refused by the server: saved again once edited
let timer = 0;
let saving = null;

const storeKey = (name) => `phonghop:minutes:${root.dataset.meeting}:${name}`;

function keep(name, value) {
  try {
    localStorage.setItem(storeKey(name), value);
  } catch {
    // storage full or disabled: the text is still in the page and pending
  }
}

function show(state, extra = "") {
  stateLine.dataset.state = state;
  stateLine.textContent = state === "saved" ? t.saved(extra) : t[state];
}

function clock(date) {
  return date.toLocaleTimeString(lang(), { hour: "2-digit", minute: "2-digit" });
}

// "item:12:summary" -> {items: [{item_id: 12, summary}]}; "opening" -> {opening}
function change(name, value) {
  const [scope, id, part] = name.split(":");
  if (scope === "item") return { items: [{ item_id: Number(id), [part]: value }] };
  return { [name]: value };
}

function send(method, path, body) {
  return request(method, `${api}${path}`, body);
}

// ---------- saving

function typed(name) {
  const { input, box, error } = fields.get(name);
  keep(name, input.value);
  refused.delete(name);
  error.textContent = "";
  pending.add(name);
  box.dataset.state = "pending";
  show("pending");
  schedule(SAVE_AFTER_MS);
}

function schedule(ms) {
  clearTimeout(timer);
  timer = setTimeout(flush, ms);
}

function flush() {
  clearTimeout(timer);
  saving ||= saveAll().finally(() => {
    saving = null;
  });
  return saving;
}

async function saveAll() {
  let savedAt = null;
  while (pending.size) {
    const name = pending.values().next().value;
    const { input, box, error } = fields.get(name);
    const value = input.value;
    show("saving");
    try {
      savedAt = new Date((await send("PATCH", "/minutes/text", change(name, value))).saved_at);
    } catch (problem) {
      if (!problem.status) {
        show("offline");
        schedule(RETRY_MS);
        return;
      }
      pending.delete(name);
      refused.add(name);
      error.textContent = problem.message;
      continue;
    }
    if (input.value === value) {
      pending.delete(name);
      localStorage.removeItem(storeKey(name));
      box.dataset.state = "";
    }
  }
  if (refused.size) show("refused");
  else if (savedAt) show("saved", clock(savedAt));
  if (restored.length && !pending.size && !refused.size) {
    document.getElementById("restored").textContent = t.restoredSaved(restored.length);
  }
}

// ---------- freezing

function row(version) {
  const cells = [version.version, version.frozen_at_local, version.frozen_by].map((text) => el("td", { textContent: text }));
  const hash = el("code", { textContent: version.sha256.slice(0, 12), title: version.sha256 });
  const links = el("td", "links");
  for (const [label, href] of [["PDF", version.links.pdf], ["DOCX", version.links.docx]]) {
    links.append(el("a", { textContent: label, href, download: "" }));
  }
  return el("tr", { dataset: { version: version.version } }, ...cells, el("td", "", hash), links);
}

async function freeze(button) {
  const section = button.closest("section");
  const error = section.querySelector(".freeze-error");
  const kind = button.dataset.kind;
  error.textContent = "";
  await flush();
  if (pending.size || refused.size) {
    error.textContent = t.unsaved;
    return;
  }
  const next = section.querySelectorAll("tbody tr").length + 1;
  if (!window.confirm(t.confirm[kind](next))) return;
  button.disabled = true;
  try {
    const version = await send("POST", `/${kind}/versions`);
    const table = section.querySelector("table.versions");
    table.tBodies[0].append(row(version));
    table.hidden = false;
    showAllSignatures(section);
    error.textContent = "";
    show("saved", clock(new Date()));
    stateLine.textContent = t.frozen(version.version);
  } catch (problem) {
    error.textContent = problem.message || failedText;
  } finally {
    button.disabled = false;
  }
}

// ---------- signing (Ký số): whose turn it is, a PIN for a key on a token

async function showSignatures(section, tr) {
  const kind = section.dataset.kind;
  const version = tr.dataset.version;
  let area = section.querySelector(".signing-area");
  if (!area) {
    area = el("div", "signing-area");
    section.querySelector("table.versions").after(area);
  }
  let cell = area.querySelector(`.signing[data-version="${version}"]`);
  if (!cell) {
    cell = el("div", { className: "signing", dataset: { version } });
    area.prepend(cell); // the newest version first
  }
  cell.replaceChildren();
  let view;
  try {
    view = await request("GET", `${api}/signatures/${kind}/${version}`);
  } catch (problem) {
    cell.append(el("p", { className: "error", textContent: problem.message || failedText }));
    return;
  }
  const newest = tr === [...section.querySelectorAll("tbody tr[data-version]")].at(-1);
  cell.append(el("h3", { textContent: t.signatures(version) }));
  const list = el("ul", "signature-list");
  for (const sig of view.signatures) {
    const line = `${t.roles[sig.role]}: ${sig.signer} · ${sig.signed_at_local}` + (sig.timestamped ? ` · ${t.timestamped}` : "");
    list.append(el("li", { dataset: { role: sig.role } }, el("span", "sig-ok", "✓ "), line, " ", el("a", { href: sig.verify, textContent: t.check })));
  }
  if (!view.signatures.length) list.append(el("li", { className: "muted", textContent: t.unsigned }));
  cell.append(list);
  if (view.links.pdf) cell.append(el("p", "", el("a", { className: "button", href: view.links.pdf, download: "", textContent: t.signedPdf })));
  if (!view.turn) {
    cell.append(el("p", { className: "muted", textContent: t.allSigned }));
    return;
  }
  if (!newest) return;
  cell.append(el("p", { className: "muted turn", textContent: t.waiting(t.roles[view.turn]) }));
  if (!view.my_turn) return;
  if (!view.has_key) {
    cell.append(el("p", { className: "muted", textContent: t.noKey }));
    return;
  }
  const form = el("form", { className: "sign-form", dataset: { role: view.turn } });
  const error = el("p", { className: "error", role: "alert" });
  const pin = el("input", { type: "password", name: "pin", autocomplete: "off", inputMode: "numeric", required: true });
  if (view.needs_pin) form.append(el("label", "", el("span", { textContent: t.pin }), pin));
  const button = el("button", { type: "submit", className: "primary", textContent: t.sign, title: t.signAs(t.roles[view.turn]) });
  form.append(button, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    button.textContent = t.signing;
    error.textContent = "";
    try {
      await request("POST", `${api}/signatures/${kind}/${version}`, { role: view.turn, pin: pin.value });
      pin.value = "";
      stateLine.textContent = t.signed(t.roles[view.turn]);
      await showSignatures(section, tr);
    } catch (problem) {
      pin.value = "";
      error.textContent = problem.message || failedText;
      button.disabled = false;
      button.textContent = t.sign;
    }
  });
  cell.append(form);
}

function showAllSignatures(section) {
  for (const tr of section.querySelectorAll("tbody tr[data-version]")) showSignatures(section, tr);
}

// ---------- start

const restored = [];
for (const input of root.querySelectorAll("[data-field]")) {
  const name = input.dataset.field;
  const box = input.closest(".field");
  fields.set(name, { input, box, error: box.querySelector(".error") });
  const kept = localStorage.getItem(storeKey(name));
  if (kept !== null && kept !== input.value) {
    input.value = kept;
    restored.push(name);
    pending.add(name);
    box.dataset.state = "pending";
  } else if (kept !== null) {
    localStorage.removeItem(storeKey(name));
  }
  input.addEventListener("input", () => typed(name));
}
if (restored.length) {
  document.getElementById("restored").textContent = t.restored(restored.length);
  schedule(0);
}
document.getElementById("save-now").addEventListener("click", flush);
for (const button of root.querySelectorAll("button.freeze")) {
  button.addEventListener("click", () => freeze(button));
}
for (const section of root.querySelectorAll("section[data-kind]")) showAllSignatures(section);
window.addEventListener("online", () => pending.size && schedule(0));
window.addEventListener("beforeunload", (event) => {
  if (!pending.size) return;
  event.preventDefault();
  event.returnValue = t.leave;
});
