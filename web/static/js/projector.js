// The hall's big screen: shows the page the chair presents, what it belongs to, and the time.
// Needs no input once opened: it reconnects forever and catches up on its own.

import { connectMeeting, statusIndicator } from "./live.js";

const TEXT = {
  vi: {
    page: (n, count) => (count ? `Trang ${n}/${count}` : `Trang ${n}`),
    cannotShow: "Tài liệu này không hiển thị được trên màn hình này.",
    signedOut: "Phiên đăng nhập đã hết. Hãy đăng nhập lại trên máy này.",
    forbidden: "Tài khoản này không được xem cuộc họp.",
  },
  en: {
    page: (n, count) => (count ? `Page ${n}/${count}` : `Page ${n}`),
    cannotShow: "This document cannot be shown on this screen.",
    signedOut: "The session has ended. Sign in again on this computer.",
    forbidden: "This account may not see the meeting.",
  },
};
const lang = document.documentElement.lang;
const t = TEXT[lang] || TEXT.vi;

const MAX_WIDTH = 2048;
const RETRY_MS = 3000;
const $ = (id) => document.getElementById(id);
const ui = {
  image: $("projector-image"),
  message: $("projector-message"),
  number: $("projector-number"),
  itemTitle: $("projector-item-title"),
  doc: $("projector-doc"),
  page: $("projector-page"),
  clock: $("projector-clock"),
  date: $("projector-date"),
};
const waiting = ui.message.textContent; // from the template, in the page's language
const agenda = JSON.parse($("agenda-items").textContent || "{}");
const documents = new Map(); // id -> promise of metadata
let shown = null; // the presented event now on screen
let ticket = 0;

function imageWidth() {
  return Math.min(MAX_WIDTH, Math.ceil(window.screen.width * (window.devicePixelRatio || 1)));
}

function documentInfo(id) {
  if (!documents.has(id)) {
    const request = fetch(`/api/documents/${id}`, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))));
    request.catch(() => documents.delete(id));
    documents.set(id, request);
  }
  return documents.get(id);
}

function showFacts(event, doc) {
  const item = agenda[String(event.item_id)];
  ui.number.textContent = item ? `${item.number}.` : "";
  ui.itemTitle.textContent = item ? item.title : "";
  ui.doc.textContent = event.title || doc?.title || "";
  ui.page.textContent = t.page(event.page, doc?.page_count);
}

async function present(event) {
  shown = event;
  const mine = ++ticket; // a newer page wins over a slower older one
  document.body.classList.remove("waiting");
  showFacts(event, null);
  let doc = null;
  try {
    doc = await documentInfo(event.document_id);
  } catch {
    if (mine !== ticket) return;
    ui.image.hidden = true;
    ui.message.textContent = t.cannotShow;
    return;
  }
  if (mine !== ticket) return;
  showFacts(event, doc);
  const [w, h] = doc.pages?.[event.page - 1] || [595, 842];
  document.body.classList.toggle("wide-page", w > h);
  await showImage(`/api/documents/${doc.id}/pages/${event.page}?w=${imageWidth()}`, mine);
}

// Loads the page off screen, then swaps it in: the hall never sees a blank screen.
async function showImage(url, mine) {
  const probe = new Image();
  probe.src = url;
  try {
    await probe.decode();
  } catch {
    if (mine === ticket) setTimeout(() => mine === ticket && showImage(url, mine), RETRY_MS);
    return;
  }
  if (mine !== ticket) return;
  ui.image.src = url;
  ui.image.alt = `${ui.doc.textContent} — ${ui.page.textContent}`;
  ui.image.hidden = false;
  ui.message.textContent = "";
}

function onStatus(status) {
  if (status === "signed-out") ui.message.textContent = t.signedOut;
  else if (status === "forbidden") ui.message.textContent = t.forbidden;
  else if (!shown) ui.message.textContent = waiting;
}

function tick() {
  const now = new Date();
  ui.clock.textContent = now.toLocaleTimeString(lang === "en" ? "en-GB" : "vi-VN", { hour: "2-digit", minute: "2-digit" });
  ui.clock.dateTime = now.toISOString();
  ui.date.textContent = now.toLocaleDateString(lang === "en" ? "en-GB" : "vi-VN", {
    weekday: "long", day: "numeric", month: "numeric", year: "numeric",
  });
}

// The screen stays on while the page is open, where the browser allows it.
async function keepAwake() {
  if (!navigator.wakeLock || document.visibilityState !== "visible") return;
  try {
    await navigator.wakeLock.request("screen");
  } catch {
    // not allowed here (no secure context, or power saving); the screen may dim
  }
}

let idleTimer = 0;
function showCursorForAWhile() {
  document.body.classList.remove("idle");
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add("idle"), 3000);
}

function start() {
  statusIndicator($("projector-status"));
  connectMeeting(Number(document.body.dataset.meeting), {
    snapshot(state) {
      if (state.presented) present(state.presented);
    },
    "page.presented": present,
    status: onStatus,
  });
  tick();
  setInterval(tick, 1000);
  keepAwake();
  document.addEventListener("visibilitychange", keepAwake);
  document.addEventListener("pointermove", showCursorForAWhile);
  showCursorForAWhile();
  // A click or a key makes the screen full-screen; nothing else is needed.
  const fullScreen = () => document.fullscreenElement || document.documentElement.requestFullscreen?.().catch(() => {});
  document.addEventListener("click", fullScreen);
  document.addEventListener("keydown", fullScreen);
}

start();
