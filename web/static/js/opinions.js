// Opinions on drafts in the reader (góp ý dự thảo). While a paper is open for opinions a
// banner says until when; "Góp ý" lets the delegate drag over a passage of the page (the
// words between where the drag starts and ends, as the page's word boxes give them), then
// write what they think of it. Their own opinions are listed with links to their pages and
// faintly marked on the page; they may change or withdraw them until the deadline, and only
// read them after. The agenda book's pages are matched to the paper's by content key.

import { el, pickWords, request, serverNow } from "./kit.js";
import { pageWords } from "./presented.js";

const TEXT = {
  vi: {
    open: (c) => `Đang lấy ý kiến góp ý đến ${c.deadline_time} ngày ${c.deadline_date.slice(0, 5)}`,
    closed: (c) => `Đã hết hạn góp ý (${c.deadline_time} ngày ${c.deadline_date.slice(0, 5)}) — chỉ xem lại ý kiến đã gửi`,
    give: "Góp ý",
    mine: (n) => `Góp ý của tôi (${n})`,
    picking: "Kéo ngón tay hoặc chuột trên đoạn văn cần góp ý.",
    cancelPick: "Hủy chọn",
    wholePage: "Góp ý cả trang",
    panelTitle: (title) => `Góp ý dự thảo: ${title}`,
    close: "Đóng",
    page: (label) => `Trang ${label}`,
    wholePageQuote: "(cả trang)",
    yourOpinion: "Ý kiến góp ý",
    placeholder: "Nội dung góp ý đối với đoạn này…",
    send: "Gửi góp ý",
    cancel: "Hủy",
    save: "Lưu",
    edit: "Sửa",
    withdraw: "Rút ý kiến",
    confirmWithdraw: "Rút ý kiến góp ý này? Ý kiến đã rút không còn trong bảng tổng hợp.",
    edited: "đã sửa",
    none: "Bạn chưa góp ý dự thảo này.",
    sent: "Đã gửi ý kiến góp ý.",
    tooLong: (n) => `Đoạn đã chọn dài quá ${n} ký tự; hãy chọn đoạn ngắn hơn.`,
    noWords: "Không tìm thấy chữ ở chỗ đã chọn; hãy kéo lại trên dòng chữ, hoặc góp ý cả trang.",
    notHere: "Trang này không thuộc dự thảo đang lấy ý kiến.",
  },
  en: {
    open: (c) => `Taking opinions until ${c.deadline_time} on ${c.deadline_date.slice(0, 5)}`,
    closed: (c) => `Opinions closed (${c.deadline_time} on ${c.deadline_date.slice(0, 5)}) — yours can be read only`,
    give: "Comment",
    mine: (n) => `My opinions (${n})`,
    picking: "Drag your finger or the mouse over the passage you want to comment on.",
    cancelPick: "Cancel",
    wholePage: "Comment on the whole page",
    panelTitle: (title) => `Opinions on the draft: ${title}`,
    close: "Close",
    page: (label) => `Page ${label}`,
    wholePageQuote: "(whole page)",
    yourOpinion: "Your opinion",
    placeholder: "What you think of this passage…",
    send: "Send",
    cancel: "Cancel",
    save: "Save",
    edit: "Edit",
    withdraw: "Withdraw",
    confirmWithdraw: "Withdraw this opinion? A withdrawn opinion is left out of the summary.",
    edited: "edited",
    none: "You have not commented on this draft.",
    sent: "Your opinion was sent.",
    tooLong: (n) => `The passage is longer than ${n} characters; choose a shorter one.`,
    noWords: "No words where you dragged; drag along the text again, or comment on the whole page.",
    notHere: "This page is not part of a draft open for opinions.",
  },
};
const t = pickWords(TEXT);

const MAX_PASSAGE = 1000; // the server's limits
const MAX_RECTS = 50;
const REFRESH_MS = 120_000; // a paper opened meanwhile shows within two minutes
const round = (v) => Math.round(Math.min(1, Math.max(0, v)) * 100000) / 100000;

// The word nearest a point: the one under it, else the closest box.
function nearestWord(words, [x, y]) {
  let best = -1;
  let bestDistance = Infinity;
  words.forEach(([x0, y0, x1, y1], i) => {
    const dx = x < x0 ? x0 - x : x > x1 ? x - x1 : 0;
    const dy = y < y0 ? y0 - y : y > y1 ? y - y1 : 0;
    const distance = Math.hypot(dx, dy * 2); // a line above or below is farther than a word beside
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  });
  return bestDistance < 0.05 ? best : -1;
}

// One rectangle per line of the chosen words.
function lineRects(chosen) {
  const rects = [];
  for (const [x0, y0, x1, y1] of chosen) {
    const last = rects[rects.length - 1];
    if (last && Math.abs((last[1] + last[3]) / 2 - (y0 + y1) / 2) < (y1 - y0) / 2 && x0 >= last[0]) {
      last[2] = Math.max(last[2], x1);
      last[1] = Math.min(last[1], y0);
      last[3] = Math.max(last[3], y1);
    } else rects.push([x0, y0, x1, y1]);
  }
  return rects.map((r) => r.map(round));
}

function box([x0, y0, x1, y1], className) {
  const node = el("div", className);
  node.style.left = `${x0 * 100}%`;
  node.style.top = `${y0 * 100}%`;
  node.style.width = `${(x1 - x0) * 100}%`;
  node.style.height = `${(y1 - y0) * 100}%`;
  return node;
}

export function createOpinions({ root, meetingId, goTo, beforePanel }) {
  const ui = {
    banner: root.querySelector("#opinion-banner"),
    status: root.querySelector("#opinion-status"),
    give: root.querySelector("#opinion-give"),
    whole: root.querySelector("#opinion-whole"),
    mine: root.querySelector("#opinion-mine"),
    marks: root.querySelector("#opinion-marks"),
    picker: root.querySelector("#opinion-picker"),
    panel: root.querySelector("#opinion-panel"),
  };
  const state = {
    consultations: [],
    mine: [],
    doc: null,
    page: 0,
    here: null, // {consultation, page}: the paper and its page under the reader's page
    picking: false,
    drag: null,
    choice: null, // {passage, position, page, documentId}
    editing: null, // id of the opinion whose words are being changed
    sent: null, // id of the opinion just sent, said so in the list
    message: "",
  };

  async function refresh() {
    try {
      const [consultations, mine] = await Promise.all([
        request("GET", `/api/meetings/${meetingId}/consultations`),
        request("GET", `/api/meetings/${meetingId}/opinions/mine`),
      ]);
      state.consultations = consultations;
      state.mine = mine;
    } catch {
      return; // offline: what was known stays
    }
    place();
  }

  const isOpen = (c) => Date.parse(c.deadline) > serverNow();

  // The paper (and its page) that the reader's page shows, if it is under consultation.
  function paperAt(doc, page) {
    if (!doc) return null;
    for (const c of state.consultations) {
      if (c.document_id === doc.id) return { consultation: c, page };
    }
    const key = doc.page_keys?.[page - 1];
    if (!key) return null;
    for (const c of state.consultations) {
      const at = c.page_keys.indexOf(key);
      if (at >= 0) return { consultation: c, page: at + 1 };
    }
    return null;
  }

  // Where a paper's page is in the document being read (the book or the paper itself).
  function readerPage(c, paperPage) {
    const doc = state.doc;
    if (!doc) return null;
    if (doc.id === c.document_id) return paperPage;
    const at = doc.page_keys?.indexOf(c.page_keys[paperPage - 1]) ?? -1;
    return at >= 0 ? at + 1 : null;
  }

  function show(doc, page) {
    state.doc = doc;
    state.page = page;
    if (state.picking) stopPicking();
    place();
  }

  // The banner, the marks on this page and the panel, for where the reader is now.
  function place() {
    state.here = paperAt(state.doc, state.page);
    const c = state.here?.consultation;
    ui.banner.hidden = !c;
    if (c) {
      const open = isOpen(c);
      ui.banner.classList.toggle("closed", !open);
      ui.status.textContent = state.picking ? t.picking : open ? t.open(c) : t.closed(c);
      ui.give.hidden = !open;
      ui.give.textContent = state.picking ? t.cancelPick : t.give;
      ui.give.setAttribute("aria-pressed", String(state.picking));
      ui.whole.hidden = !state.picking;
      ui.whole.textContent = t.wholePage;
      ui.mine.textContent = t.mine(ownOn(c).length);
    } else if (!ui.panel.hidden && !state.choice) {
      closePanel();
    }
    drawMarks();
    // a form half typed is not drawn again under the person's fingers
    if (!ui.panel.hidden && !state.choice && !state.editing) renderPanel();
  }

  function ownOn(c) {
    return state.mine.filter((o) => o.document_id === c.document_id);
  }

  function drawMarks() {
    const nodes = [];
    const here = state.here;
    if (here) {
      for (const o of ownOn(here.consultation)) {
        if (o.page === here.page) nodes.push(...o.position.map((r) => box(r, "opinion-mark")));
      }
    }
    if (state.choice && here && state.choice.page === here.page) {
      nodes.push(...state.choice.position.map((r) => box(r, "opinion-mark chosen")));
    }
    if (state.drag?.rects) nodes.push(...state.drag.rects.map((r) => box(r, "opinion-mark chosen")));
    ui.marks.replaceChildren(...nodes);
  }

  // ----- choosing a passage

  function startPicking() {
    state.picking = true;
    ui.picker.hidden = false;
    place();
  }

  function stopPicking() {
    state.picking = false;
    state.drag = null;
    ui.picker.hidden = true;
    place();
  }

  function pointOf(event) {
    const r = ui.picker.getBoundingClientRect();
    return [(event.clientX - r.left) / r.width, (event.clientY - r.top) / r.height];
  }

  async function onDown(event) {
    if (event.pointerType === "mouse" && event.button !== 0) return;
    event.stopPropagation(); // not a swipe or a pan of the reader
    event.preventDefault();
    ui.picker.setPointerCapture(event.pointerId);
    const { doc, page } = state;
    const drag = { pointerId: event.pointerId, from: pointOf(event), to: pointOf(event), words: null, rects: [] };
    state.drag = drag;
    try {
      drag.words = await pageWords(doc.id, page);
    } catch {
      drag.words = [];
    }
    if (state.drag === drag) update(drag);
  }

  function chosenWords(drag) {
    if (!drag.words?.length) return [];
    const a = nearestWord(drag.words, drag.from);
    const b = nearestWord(drag.words, drag.to);
    if (a < 0 || b < 0) return [];
    return drag.words.slice(Math.min(a, b), Math.max(a, b) + 1);
  }

  function update(drag) {
    drag.rects = lineRects(chosenWords(drag));
    drawMarks();
  }

  function onMove(event) {
    const drag = state.drag;
    if (!drag || event.pointerId !== drag.pointerId) return;
    event.stopPropagation();
    drag.to = pointOf(event);
    if (drag.words) update(drag);
  }

  function onUp(event) {
    const drag = state.drag;
    if (!drag || event.pointerId !== drag.pointerId) return;
    event.stopPropagation();
    if (event.type === "pointercancel" || !drag.words) {
      state.drag = null;
      drawMarks();
      return;
    }
    const chosen = chosenWords(drag);
    state.drag = null;
    if (!chosen.length) {
      ui.status.textContent = t.noWords;
      drawMarks();
      return;
    }
    const passage = chosen.map((w) => w[4]).join(" ");
    choose(passage, lineRects(chosen).slice(0, MAX_RECTS));
  }

  function choose(passage, position) {
    const here = state.here;
    state.choice = { passage, position, page: here.page, documentId: here.consultation.document_id };
    state.message = passage.length > MAX_PASSAGE ? t.tooLong(MAX_PASSAGE) : "";
    stopPicking();
    openPanel();
    ui.panel.querySelector("textarea[name=text]")?.focus();
  }

  // ----- the panel: the form, then one's own opinions on this paper

  function openPanel() {
    beforePanel?.();
    ui.panel.hidden = false;
    ui.mine.setAttribute("aria-expanded", "true");
    renderPanel();
  }

  function closePanel() {
    state.sent = null;
    ui.panel.hidden = true;
    ui.mine.setAttribute("aria-expanded", "false");
    state.choice = null;
    state.editing = null;
    drawMarks();
  }

  function renderPanel() {
    const c = state.here?.consultation || state.consultations.find((x) => x.document_id === state.choice?.documentId);
    if (!c) {
      ui.panel.replaceChildren(el("p", "muted", t.notHere));
      return;
    }
    const head = el(
      "div",
      "opinion-panel-head",
      el("h2", "", t.panelTitle(c.title)),
      button(t.close, closePanel, "icon-text"),
    );
    const parts = [head];
    if (c.note) parts.push(el("p", "opinion-note", c.note));
    if (state.choice) parts.push(form(c)); // kept after the deadline, with what was typed
    const own = ownOn(c);
    parts.push(own.length ? el("ol", "opinion-mine", ...own.map((o) => item(c, o))) : el("p", "muted", t.none));
    ui.panel.replaceChildren(...parts);
  }

  function form(c) {
    const choice = state.choice;
    const quote = choice.passage ? `“${choice.passage}”` : t.wholePageQuote;
    const error = el("div", "form-error", state.message ? el("p", "error", state.message) : "");
    const text = el("textarea", { name: "text", rows: 4, maxLength: 5000, placeholder: t.placeholder, required: true });
    text.value = choice.draft || "";
    text.setAttribute("aria-label", t.yourOpinion);
    text.addEventListener("input", () => (choice.draft = text.value));
    const send = el("button", { type: "submit", className: "primary" }, t.send);
    send.disabled = choice.passage.length > MAX_PASSAGE || !isOpen(c);
    const node = el(
      "form",
      "opinion-form",
      el("p", "opinion-where", t.page(labelOf(c, choice.page))),
      el("blockquote", "", quote),
      text,
      el("div", "opinion-buttons", button(t.cancel, closePanel), send),
      error,
    );
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      send.disabled = true;
      try {
        const given = await request("POST", `/api/documents/${choice.documentId}/opinions`, {
          page: choice.page,
          passage: choice.passage,
          position: choice.position,
          text: text.value,
        });
        state.mine.push(given);
        state.choice = null;
        state.message = "";
        state.sent = given.id;
        place();
      } catch (failure) {
        state.message = failure.message;
        error.replaceChildren(el("p", "error", failure.message));
        send.disabled = false;
        if (failure.status === 409) {
          await refresh(); // ended meanwhile: the banner and the list say so
          renderPanel();
        }
      }
    });
    return node;
  }

  function labelOf(c, paperPage) {
    const doc = state.doc;
    const page = readerPage(c, paperPage);
    if (doc && page && doc.page_labels) return doc.page_labels[page - 1];
    return String(paperPage);
  }

  function item(c, o) {
    const open = o.open && isOpen(c);
    const link = button(t.page(o.label), () => {
      const page = readerPage(c, o.page);
      goTo(page ? state.doc.id : c.document_id, page || o.page);
    }, "opinion-page-link");
    const when = el("p", "opinion-when muted", o.when + (o.edited ? ` (${t.edited})` : ""));
    const row = el("li", { dataset: { opinion: o.id } }, link);
    if (state.sent === o.id) row.append(el("p", { className: "opinion-sent", role: "status" }, t.sent));
    if (o.passage) row.append(el("blockquote", "", `“${o.passage}”`));
    if (state.editing === o.id && open) {
      row.append(editForm(o));
      return row;
    }
    row.append(el("p", "opinion-text", o.text), when);
    if (open) {
      row.append(
        el(
          "div",
          "opinion-buttons",
          button(t.edit, () => {
            state.editing = o.id;
            renderPanel();
          }),
          button(t.withdraw, () => withdraw(o, row), "danger"),
        ),
        el("div", "form-error"),
      );
    }
    return row;
  }

  function editForm(o) {
    const text = el("textarea", { name: "text", rows: 4, maxLength: 5000, value: o.text });
    text.setAttribute("aria-label", t.yourOpinion);
    const error = el("div", "form-error");
    const node = el(
      "form",
      "opinion-form",
      text,
      el("div", "opinion-buttons", button(t.cancel, () => {
        state.editing = null;
        renderPanel();
      }), el("button", { type: "submit", className: "primary" }, t.save)),
      error,
    );
    node.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const changed = await request("PATCH", `/api/opinions/${o.id}`, { text: text.value });
        Object.assign(o, { text: changed.text, when: changed.when, edited: changed.edited });
        state.editing = null;
        renderPanel();
      } catch (failure) {
        error.replaceChildren(el("p", "error", failure.message));
      }
    });
    return node;
  }

  async function withdraw(o, row) {
    if (!confirm(t.confirmWithdraw)) return;
    try {
      await request("DELETE", `/api/opinions/${o.id}`);
      state.mine = state.mine.filter((x) => x.id !== o.id);
      place();
    } catch (failure) {
      row.querySelector(".form-error")?.replaceChildren(el("p", "error", failure.message));
    }
  }

  function button(label, onClick, className = "") {
    const node = el("button", { type: "button", className }, label);
    node.addEventListener("click", onClick);
    return node;
  }

  ui.give.addEventListener("click", () => (state.picking ? stopPicking() : startPicking()));
  ui.whole.addEventListener("click", () => choose("", []));
  ui.mine.addEventListener("click", () => (ui.panel.hidden ? openPanel() : closePanel()));
  ui.picker.addEventListener("pointerdown", onDown);
  ui.picker.addEventListener("pointermove", onMove);
  ui.picker.addEventListener("pointerup", onUp);
  ui.picker.addEventListener("pointercancel", onUp);
  setInterval(refresh, REFRESH_MS);
  let wasOpen = null;
  setInterval(() => {
    const open = state.here ? isOpen(state.here.consultation) : null;
    if (open !== wasOpen) { // the deadline passed while reading
      wasOpen = open;
      if (open === false && state.choice && !state.message) state.message = t.closed(state.here.consultation);
      place();
      if (!ui.panel.hidden) renderPanel(); // a form being typed stays, with its words, not to be sent
    }
  }, 15_000);
  refresh();

  return { show, refresh, closePanel };
}
