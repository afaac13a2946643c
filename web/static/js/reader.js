// The delegate's reader: one page at a time beside the agenda. Paging by swipe, keys and
// buttons; zoom by buttons, pinch or ctrl+wheel; thumbnails; search with highlighted words.
// Live: follows the page the chair presents (unless the reader browses on their own), lets
// the chair and the secretary present, and carries the pen's marks (pen.js).

import { el, pickWords, request, syncClock } from "./kit.js";
import { connectMeeting, joinHandlers, statusIndicator, text as liveText } from "./live.js";
import { createPen } from "./pen.js";
import { createBallot } from "./ballot.js";
import { createFloor } from "./floor.js";
import { createOpinions } from "./opinions.js";
import { forget, installWorker, keepBook, keepShell, tidy, words as offlineWords } from "./offline.js";
import { documentInfo, pageImageUrl, pageLabel, pageName, pageSize, pageWords, presentedText } from "./presented.js";

const TEXT = {
  vi: {
    sheet: (n, count) => `tờ ${n}/${count} của tệp`,
    noSuchPage: (typed) => `Tài liệu này không có trang “${typed}”.`,
    pageFailed: "Không tải được trang. Kiểm tra mạng rồi thử lại.",
    documentFailed: "Không mở được tài liệu. Kiểm tra mạng rồi thử lại.",
    signedOut: "Phiên đăng nhập đã hết. Hãy đăng nhập lại rồi mở lại tài liệu.",
    confidential: "Tài liệu mật — chỉ đọc trên màn hình",
    searching: "Đang tìm…",
    searchFailed: "Không tìm được. Kiểm tra mạng rồi thử lại.",
    noMatches: "Không tìm thấy trong tài liệu kỳ họp.",
    pagesFound: (n) => `Có ở ${n} trang`,
    tooMany: (n) => `Có ở hơn ${n} trang; hãy gõ thêm chữ để thu hẹp.`,
    times: (n) => `${n} lần`,
    presented: (title, label) => `Đang trình chiếu trang ${label}: ${title}`,
    nothingPresented: "Chủ tọa chưa trình chiếu trang nào",
    stoppedFollowing: "Bạn đang xem tự do, không theo chủ tọa nữa.",
    following: "Đang theo trang chủ tọa trình chiếu.",
    presentFailed: (message) => `Không trình chiếu được: ${message}`,
    newVersion: (version) => `Tài liệu vừa có phiên bản mới (phiên bản ${version}); bạn đang xem bản mới, cùng chỗ đang đọc.`,
    newBook: (version) => `Tài liệu kỳ họp vừa được phát hành lại (phiên bản ${version}); bạn đang xem bản mới, cùng chỗ đang đọc.`,
    version: (n) => `Phiên bản ${n}`,
    oldVersion: (n) => `Phiên bản ${n} — đã có bản mới hơn`,
    versionLine: (v) => `${v.when} · ${v.uploaded_by || "—"} · ${v.page_count} trang`,
    current: "đang dùng",
    versionsFailed: "Không tải được danh sách phiên bản.",
  },
  en: {
    sheet: (n, count) => `sheet ${n} of ${count} in the file`,
    noSuchPage: (typed) => `This document has no page “${typed}”.`,
    pageFailed: "Could not load the page. Check the network and try again.",
    documentFailed: "Could not open the document. Check the network and try again.",
    signedOut: "Your session has ended. Sign in again, then reopen the document.",
    confidential: "Confidential — read on screen only",
    searching: "Searching…",
    searchFailed: "Search failed. Check the network and try again.",
    noMatches: "Not found in the meeting documents.",
    pagesFound: (n) => (n === 1 ? "Found on 1 page" : `Found on ${n} pages`),
    tooMany: (n) => `Found on more than ${n} pages; type more to narrow it down.`,
    times: (n) => (n === 1 ? "once" : `${n} times`),
    presented: (title, label) => `Presented: page ${label} of ${title}`,
    nothingPresented: "The chair has not presented a page yet",
    stoppedFollowing: "You are browsing on your own, no longer following the chair.",
    following: "Following the page the chair presents.",
    presentFailed: (message) => `Could not present: ${message}`,
    newVersion: (version) => `This document has a new version (version ${version}); you are reading it now, at the same place.`,
    newBook: (version) => `The agenda book was published again (version ${version}); you are reading it now, at the same place.`,
    version: (n) => `Version ${n}`,
    oldVersion: (n) => `Version ${n} — a newer one exists`,
    versionLine: (v) => `${v.when} · ${v.uploaded_by || "—"} · ${v.page_count === 1 ? "1 page" : `${v.page_count} pages`}`,
    current: "current",
    versionsFailed: "Could not load the versions.",
  },
};
const t = pickWords(TEXT);

const ZOOM_STEPS = [1, 1.25, 1.5, 2, 2.5, 3, 4];
const MAX_ZOOM = 5;
const MAX_HITS = 200; // the server lists at most this many pages
const SWIPE_PX = 50;
const narrowScreen = window.matchMedia("(max-width: 899px)");

const root = document.getElementById("reader");
const $ = (id) => document.getElementById(id);
const ui = {
  agendaToggle: root.querySelector("[data-action=toggle-agenda]"),
  backdrop: root.querySelector(".agenda-backdrop"),
  stage: $("stage"),
  sheet: $("sheet"),
  image: $("page-image"),
  marks: $("marks"),
  message: $("stage-message"),
  title: $("doc-title"),
  badge: $("doc-confidential"),
  versions: $("doc-versions"),
  download: $("doc-download"),
  pager: $("pager"),
  pageJump: $("page-jump"),
  pageInput: $("page-input"),
  pageTotal: $("page-total"),
  pageCount: $("page-count"),
  pageSheet: $("page-sheet"),
  zoomLevel: $("zoom-level"),
  thumbs: $("reader-thumbs"),
  thumbList: $("thumb-list"),
  search: $("reader-search"),
  searchInput: $("search-input"),
  searchStatus: $("search-status"),
  searchResults: $("search-results"),
  followToggle: $("follow-toggle"),
  followReturn: $("follow-return"),
  followNotice: $("follow-notice"),
  presented: $("presented"),
  presentedText: $("presented-text"),
  presentButton: $("present-page"),
  presentOnTurn: $("present-on-turn"),
};

const state = {
  meetingId: Number(root.dataset.meeting),
  doc: null, // metadata from /api/documents/{id}
  page: 1,
  scale: 1, // 1 = the whole page fits the stage
  bucket: 0, // width bucket of the image on screen
  query: "",
  hits: [],
  retry: null,
  prefetched: null,
  opening: 0,
  userId: Number(root.dataset.user),
  presides: root.dataset.presides === "1",
  following: sessionStorage.getItem(`phonghop.follow.${root.dataset.meeting}`) !== "0",
  presented: null, // {document_id, page, label, title, by, seq} from the chair
};
let live = null; // the meeting socket (live.js)
let pen = null;
let opinions = null; // opinions on drafts (opinions.js)

// ---------- small helpers

function fold(text) {
  return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase();
}

// The physical page a person means by what they typed: the printed number ("3", "ii").
function pageFromLabel(typed) {
  const wanted = typed.trim().toLowerCase();
  const labels = state.doc?.page_labels || [];
  const at = labels.findIndex((label) => label.toLowerCase() === wanted);
  return at === -1 ? null : at + 1;
}

// What to say when the server could not be read: a lost session, a lost network, or its refusal.
function readFailure(error, failed = t.documentFailed) {
  if (error.status === 401) return t.signedOut;
  return error.status ? error.message : failed;
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// ---------- messages over the stage

function showMessage(text, { error = false, retry = null } = {}) {
  ui.message.hidden = false;
  ui.message.classList.toggle("failed", error);
  ui.message.querySelector("p").textContent = text;
  ui.message.querySelector("[data-action=retry]").hidden = !retry;
  state.retry = retry;
}

function hideMessage() {
  ui.message.hidden = true;
  state.retry = null;
}

// ---------- opening a document

// `by` says who turned: "user" (may stop following), "chair" (following) or "load".
async function openDocument(id, page = 1, by = "user", known = null) {
  const ticket = ++state.opening; // a later click wins over a slower earlier answer
  hideMessage();
  state.doc = null;
  state.scale = 1;
  ui.sheet.hidden = false;
  ui.sheet.classList.add("loading");
  ui.image.removeAttribute("src");
  clearMarks();
  pen?.show(null, 0);
  opinions?.show(null, 0);
  markCurrentInAgenda(id);
  let doc;
  try {
    doc = known || (await documentInfo(id));
  } catch (error) {
    if (ticket !== state.opening) return;
    ui.sheet.hidden = true;
    const retry = error.status === 0 ? () => openDocument(id, page, by) : null; // no answer: the network
    showMessage(readFailure(error), { error: true, retry });
    return;
  }
  if (ticket !== state.opening) return;
  state.doc = doc;
  showDocumentFacts(doc);
  buildThumbs(doc);
  showPage(page, by);
  if (!keeping.width) keepOffline();
  if (ui.searchInput.value.trim()) runSearch(ui.searchInput.value);
  else clearSearch();
}

function showDocumentFacts(doc) {
  ui.title.textContent = doc.title;
  ui.title.title = doc.title;
  ui.badge.hidden = !doc.confidential;
  ui.badge.querySelector("span").textContent = t.confidential;
  showVersion(doc);
  ui.download.hidden = !doc.downloadable;
  ui.download.href = doc.downloadable ? `/api/documents/${doc.id}/download` : "#";
  ui.pager.hidden = false;
  ui.pageCount.textContent = doc.printed_page_count ?? doc.page_count;
  for (const button of root.querySelectorAll("[data-action=toggle-search], [data-action=toggle-thumbs]")) {
    button.disabled = false;
  }
}

function markCurrentInAgenda(id) {
  for (const link of root.querySelectorAll(".doc-link")) {
    if (Number(link.dataset.document) === id) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}

// ---------- one page on the stage

function fitSize() {
  const [width, height] = pageSize(state.doc, state.page);
  const pad = parseFloat(getComputedStyle(ui.stage.firstElementChild).paddingLeft) || 0;
  const roomW = Math.max(100, ui.stage.clientWidth - 2 * pad);
  const roomH = Math.max(100, ui.stage.clientHeight - 2 * pad);
  const fitW = Math.min(roomW, (roomH * width) / height);
  return [fitW, (fitW * height) / width];
}

function layout() {
  const [fitW, fitH] = fitSize();
  ui.sheet.style.width = `${Math.round(fitW * state.scale)}px`;
  ui.sheet.style.height = `${Math.round(fitH * state.scale)}px`;
  ui.zoomLevel.textContent = `${Math.round(state.scale * 100)}%`;
  ui.stage.classList.toggle("can-pan", state.scale > 1.001);
}

function bucketFor(cssWidth) {
  const widths = state.doc?.widths || [1280];
  const needed = Math.ceil(cssWidth * (window.devicePixelRatio || 1));
  return widths.find((w) => w >= needed) || widths[widths.length - 1];
}

function imageUrl(page, width) {
  return pageImageUrl(state.doc, page, width);
}

function showPage(n, by = "user") {
  if (!state.doc) return;
  state.page = clamp(Math.round(n) || 1, 1, state.doc.page_count);
  showPageNumber();
  rememberInUrl();
  layout();
  ui.stage.scrollTo(0, 0);
  loadImage();
  markCurrentThumb();
  markCurrentHit();
  showMarks();
  prefetch(state.page + 1);
  pen?.show(state.doc, state.page, pageSize(state.doc, state.page));
  opinions?.show(state.doc, state.page);
  afterTurn(by);
}

// The printed number in the page box; the file's own sheet count only in the tooltip.
function showPageNumber() {
  const { doc, page } = state;
  const label = pageLabel(doc, page);
  ui.pageInput.value = label;
  ui.pageInput.setCustomValidity("");
  ui.pageTotal.hidden = !/^\d+$/.test(label) || doc.printed_page_count == null;
  ui.image.alt = presentedText.page(label);
  const sheet = t.sheet(page, doc.page_count);
  ui.pageSheet.textContent = sheet;
  ui.pageJump.title = `${pageName({ page }, doc)} (${sheet})`;
}

function jumpToTyped() {
  const typed = ui.pageInput.value;
  const page = pageFromLabel(typed);
  ui.pageInput.blur();
  if (page) {
    showPage(page);
    return;
  }
  if (state.doc) showPageNumber();
  if (!typed.trim()) return;
  ui.pageInput.setCustomValidity(t.noSuchPage(typed.trim())); // said beside the box
  ui.pageInput.reportValidity();
}

function loadImage() {
  const page = state.page;
  state.bucket = bucketFor(ui.sheet.offsetWidth);
  const url = imageUrl(page, state.bucket);
  hideMessage();
  ui.sheet.classList.remove("failed");
  ui.sheet.classList.add("loading");
  ui.image.onload = () => {
    if (!ui.image.src.endsWith(url)) return;
    ui.sheet.classList.remove("loading");
    sharpen(); // in case the page was zoomed while it loaded
  };
  ui.image.onerror = () => {
    if (ui.image.getAttribute("src") === url) pageFailed();
  };
  ui.image.removeAttribute("src"); // so a retry of the same address loads again
  ui.image.src = url;
}

async function pageFailed() {
  const { doc, page } = state;
  ui.sheet.classList.replace("loading", "failed");
  let signedOut = false;
  try {
    await request("GET", `/api/documents/${doc.id}`); // tells a lost session from a lost network
  } catch (error) {
    signedOut = error.status === 401;
  }
  if (state.doc !== doc || state.page !== page) return;
  if (signedOut) showMessage(t.signedOut, { error: true });
  else showMessage(t.pageFailed, { error: true, retry: loadImage });
}

// When zoomed in, swap in a sharper image once it is ready, without blanking the page.
const sharpen = debounce(() => {
  if (!state.doc || ui.sheet.classList.contains("loading")) return;
  const bucket = bucketFor(ui.sheet.offsetWidth);
  if (bucket <= state.bucket) return;
  const { doc, page } = state;
  const url = imageUrl(page, bucket);
  const probe = new Image();
  probe.src = url;
  probe.decode().then(
    () => {
      if (state.doc !== doc || state.page !== page) return;
      state.bucket = bucket;
      ui.image.src = url;
    },
    () => {}, // the page already on screen stays; nothing to tell
  );
}, 250);

function prefetch(n) {
  if (!state.doc || n > state.doc.page_count) return;
  state.prefetched = new Image();
  state.prefetched.src = imageUrl(n, state.bucket);
}

function go(delta) {
  if (state.doc) showPage(state.page + delta);
}

function rememberInUrl() {
  const params = new URLSearchParams(window.location.search);
  params.set("document", state.doc.id);
  params.set("page", state.page);
  window.history.replaceState(window.history.state, "", `?${params}`);
}

// ---------- zoom

// Zooms to `scale`, keeping the point under (clientX, clientY) where it is.
function zoomTo(scale, clientX, clientY) {
  if (!state.doc) return;
  const before = ui.sheet.getBoundingClientRect();
  const stageBox = ui.stage.getBoundingClientRect();
  const x = clientX ?? stageBox.left + stageBox.width / 2;
  const y = clientY ?? stageBox.top + stageBox.height / 2;
  const fx = (x - before.left) / before.width;
  const fy = (y - before.top) / before.height;
  state.scale = clamp(scale, 1, MAX_ZOOM);
  layout();
  const after = ui.sheet.getBoundingClientRect();
  ui.stage.scrollLeft += after.left + fx * after.width - x;
  ui.stage.scrollTop += after.top + fy * after.height - y;
  sharpen();
}

// Double tap or double click: from the whole page to the page's full width, and back.
function onDoubleClick(event) {
  if (!state.doc || event.target.closest("button, a, input, .note-editor")) return;
  if (pen?.isDrawing()) return; // two quick strokes are not a zoom
  if (state.scale > 1.001) {
    zoomTo(1);
    return;
  }
  const pad = parseFloat(getComputedStyle(ui.stage.firstElementChild).paddingLeft) || 0;
  const fullWidth = (ui.stage.clientWidth - 2 * pad) / fitSize()[0];
  zoomTo(fullWidth > 1.2 ? fullWidth : 2, event.clientX, event.clientY);
}

function zoomStep(direction) {
  const current = state.scale;
  const next = direction > 0
    ? ZOOM_STEPS.find((s) => s > current + 0.01) || MAX_ZOOM
    : [...ZOOM_STEPS].reverse().find((s) => s < current - 0.01) || 1;
  zoomTo(next);
}

// ---------- gestures: swipe to page, drag to pan, pinch to zoom

const pointers = new Map();
let gesture = null;

function onPointerDown(event) {
  if (!state.doc || event.target.closest("button, a, input, textarea")) return;
  if (event.pointerType === "mouse" && event.button !== 0) return;
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  ui.stage.setPointerCapture(event.pointerId);
  if (pointers.size === 1) {
    const s = ui.stage;
    gesture = {
      x: event.clientX,
      y: event.clientY,
      left: s.scrollLeft,
      top: s.scrollTop,
      atLeft: s.scrollLeft <= 1,
      atRight: s.scrollLeft + s.clientWidth >= s.scrollWidth - 1,
      pinch: null,
      pinched: false,
    };
  } else if (pointers.size === 2 && gesture) {
    const [a, b] = [...pointers.values()];
    const box = ui.sheet.getBoundingClientRect();
    const cx = (a.x + b.x) / 2;
    const cy = (a.y + b.y) / 2;
    gesture.pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, scale: state.scale, cx, cy, ratio: 1 };
    gesture.pinched = true;
    ui.sheet.style.transformOrigin = `${cx - box.left}px ${cy - box.top}px`;
  }
}

function onPointerMove(event) {
  if (!pointers.has(event.pointerId) || !gesture) return;
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  if (gesture.pinch) {
    const [a, b] = [...pointers.values()];
    const pinch = gesture.pinch;
    const scale = clamp((pinch.scale * Math.hypot(a.x - b.x, a.y - b.y)) / pinch.distance, 1, MAX_ZOOM);
    pinch.ratio = scale / pinch.scale;
    ui.sheet.style.transform = `scale(${pinch.ratio})`;
  } else if (!gesture.pinched) {
    ui.stage.scrollLeft = gesture.left - (event.clientX - gesture.x);
    ui.stage.scrollTop = gesture.top - (event.clientY - gesture.y);
  }
}

function onPointerUp(event) {
  if (!pointers.has(event.pointerId)) return;
  pointers.delete(event.pointerId);
  if (!gesture) return;
  if (gesture.pinch) {
    const { scale, ratio, cx, cy } = gesture.pinch;
    gesture.pinch = null;
    ui.sheet.style.transform = "";
    ui.sheet.style.transformOrigin = "";
    zoomTo(scale * ratio, cx, cy);
  } else if (!gesture.pinched && event.type === "pointerup") {
    const dx = event.clientX - gesture.x;
    const dy = event.clientY - gesture.y;
    if (Math.abs(dx) > SWIPE_PX && Math.abs(dx) > 1.5 * Math.abs(dy)) {
      if (dx < 0 && gesture.atRight) go(1);
      if (dx > 0 && gesture.atLeft) go(-1);
    }
  }
  if (pointers.size === 0) gesture = null;
}

function onWheel(event) {
  if (!event.ctrlKey || !state.doc) return; // ctrl+wheel is also what a trackpad pinch sends
  event.preventDefault();
  zoomTo(state.scale * Math.exp(-event.deltaY / 300), event.clientX, event.clientY);
}

// ---------- keyboard

const KEYS = {
  ArrowRight: () => go(1),
  PageDown: () => go(1),
  ArrowLeft: () => go(-1),
  PageUp: () => go(-1),
  Home: () => showPage(1),
  End: () => state.doc && showPage(state.doc.page_count),
};

function onKey(event) {
  if (event.key === "Escape") {
    if (agendaIsOpen() && narrowScreen.matches) setAgenda(false, { focusToggle: true });
    else if (!ui.search.hidden) setSearch(false);
    return;
  }
  if (event.ctrlKey || event.altKey || event.metaKey) return;
  if (event.target.closest("input, textarea, select, [contenteditable]")) return;
  const action = KEYS[event.key];
  if (!action || !state.doc) return;
  event.preventDefault();
  action();
}

// ---------- thumbnails

let thumbWatcher = null;

function buildThumbs(doc) {
  thumbWatcher?.disconnect();
  thumbWatcher = new IntersectionObserver(loadVisibleThumbs, { root: ui.thumbs, rootMargin: "0px 400px" });
  const items = [];
  for (let n = 1; n <= doc.page_count; n += 1) {
    const [w, h] = pageSize(doc, n);
    const name = pageName({ page: n }, doc);
    const img = el("img", { alt: "", loading: "lazy", dataset: { src: pageImageUrl(doc, n, 320) } });
    const frame = el("span", "thumb-page", img);
    frame.style.aspectRatio = `${w} / ${h}`;
    const button = el("button", { type: "button", title: `${name} (${t.sheet(n, doc.page_count)})`, dataset: { page: n } });
    button.setAttribute("aria-label", name);
    button.append(frame, el("span", "", pageLabel(doc, n)));
    items.push(el("li", "", button));
    thumbWatcher.observe(img);
  }
  ui.thumbList.replaceChildren(...items);
}

function loadVisibleThumbs(entries) {
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    entry.target.src = entry.target.dataset.src;
    thumbWatcher.unobserve(entry.target);
  }
}

function markCurrentThumb() {
  let current = null;
  for (const button of ui.thumbList.querySelectorAll("button")) {
    const here = Number(button.dataset.page) === state.page;
    if (here) {
      button.setAttribute("aria-current", "true");
      current = button;
    } else {
      button.removeAttribute("aria-current");
    }
  }
  if (current && !ui.thumbs.hidden) {
    const li = current.parentElement;
    ui.thumbs.scrollLeft = li.offsetLeft - (ui.thumbs.clientWidth - li.offsetWidth) / 2;
  }
}

function setThumbs(show) {
  ui.thumbs.hidden = !show;
  root.querySelector("[data-action=toggle-thumbs]").setAttribute("aria-expanded", String(show));
  localStorage.setItem("phonghop.reader.thumbs", show ? "1" : "0");
  if (show) markCurrentThumb();
}

// ---------- search and highlights

let searchRequest = null;

// Searches the agenda book and every paper this person may read; the server lists each
// page once, in the document being read when it holds the page.
async function runSearch(text) {
  const query = text.trim();
  searchRequest?.abort();
  if (!state.doc || fold(query).replace(/\s+/g, "").length < 2) {
    clearSearch();
    return;
  }
  searchRequest = new AbortController();
  ui.searchStatus.textContent = t.searching;
  const params = new URLSearchParams({ q: query.slice(0, 200), reading: state.doc.id });
  let found;
  try {
    found = await request("GET", `/api/meetings/${state.meetingId}/search?${params}`, undefined, { signal: searchRequest.signal });
  } catch (error) {
    if (error.name === "AbortError") return;
    found = error.status === 0 ? await searchHere(state.doc, query) : null; // no network: the tablet's copy
    if (!found) {
      ui.searchStatus.textContent = readFailure(error, t.searchFailed);
      return;
    }
  }
  state.query = query;
  state.hits = found.results;
  const count = state.hits.length;
  ui.searchStatus.textContent = count >= MAX_HITS ? t.tooMany(MAX_HITS) : count ? t.pagesFound(count) : t.noMatches;
  ui.searchResults.replaceChildren(...hitList(state.hits));
  markCurrentHit();
  showMarks();
}

// The same search over the word boxes of `doc` kept on the tablet, for when the server cannot
// be reached; null when they are not here.
async function searchHere(doc, query) {
  const words = fold(query).split(/\s+/).filter(Boolean);
  const phrase = new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"), "g");
  const results = [];
  for (let page = 1; page <= doc.page_count && results.length < MAX_HITS; page++) {
    let boxes;
    try {
      boxes = await pageWords(doc.id, page);
    } catch {
      return page === 1 ? null : { results };
    }
    const text = boxes.map((box) => String(box[4])).join(" ");
    const found = [...fold(text).matchAll(phrase)];
    if (!found.length) continue;
    const { index, 0: match } = found[0];
    const parts = [text.slice(Math.max(0, index - 40), index), text.slice(index, index + match.length), text.slice(index + match.length, index + match.length + 40)];
    results.push({ document_id: doc.id, document_title: doc.title, page, label: pageLabel(doc, page), count: found.length, parts });
  }
  return { results };
}

// Hits under a heading per document, and per paper inside the agenda book.
function hitList(hits) {
  const items = [];
  let group = null;
  for (const hit of hits) {
    const name = hit.paper_title || hit.document_title;
    if (name !== group) {
      group = name;
      items.push(el("li", "hit-group", name));
    }
    items.push(hitItem(hit));
  }
  return items;
}

function hitItem(hit) {
  const page = presentedText.page(hit.label ?? hit.page);
  const head = el("span", "hit-page", page, el("span", "muted", t.times(hit.count)));
  const [before, match, after] = hit.parts || ["", hit.snippet, ""];
  const snippet = el("span", "", before, el("b", "", match), after);
  const button = el("button", {
    type: "button",
    title: `${hit.document_title} — ${page}`,
    dataset: { document: hit.document_id, page: hit.page },
  }, head, snippet);
  return el("li", "", button);
}

function clearSearch() {
  state.query = "";
  state.hits = [];
  ui.searchStatus.textContent = "";
  ui.searchResults.replaceChildren();
  clearMarks();
}

function markCurrentHit() {
  for (const button of ui.searchResults.querySelectorAll("button")) {
    const here = Number(button.dataset.document) === state.doc?.id && Number(button.dataset.page) === state.page;
    if (here) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
  }
}

function hitOnThisPage() {
  return state.hits.some((hit) => hit.document_id === state.doc?.id && hit.page === state.page);
}

function chooseHit(documentId, page) {
  if (documentId === state.doc?.id) showPage(page);
  else openDocument(documentId, page, "user");
  if (narrowScreen.matches) setSearch(false);
}

function goToPage(documentId, page) {
  if (state.doc?.id === documentId) showPage(page);
  else openDocument(documentId, page, "user");
}

function setSearch(show) {
  if (show) opinions?.closePanel();
  ui.search.hidden = !show;
  root.querySelector("[data-action=toggle-search]").setAttribute("aria-expanded", String(show));
  if (show) ui.searchInput.focus();
}

// Indices of the words that the query covers; the query may span several words.
function matchingWords(words, query) {
  const needle = fold(query).split(/\s+/).filter(Boolean).join(" ");
  if (!needle) return [];
  let text = "";
  const starts = words.map((word) => {
    const at = text.length;
    text += `${fold(String(word[4]))} `;
    return at;
  });
  const hit = new Set();
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
    const end = at + needle.length;
    starts.forEach((start, i) => {
      if (start < end && start + fold(String(words[i][4])).length > at) hit.add(i);
    });
  }
  return [...hit];
}

async function showMarks() {
  const { query, page } = state;
  const doc = state.doc;
  if (!query || !doc || !hitOnThisPage()) {
    clearMarks();
    return;
  }
  let words;
  try {
    words = await pageWords(doc.id, page);
  } catch {
    return; // highlights are a help, not the page; the page itself still shows
  }
  if (state.doc !== doc || state.page !== page || state.query !== query) return;
  const boxes = matchingWords(words, query).map((i) => markBox(words[i]));
  ui.marks.replaceChildren(...boxes);
  if (boxes.length && state.scale > 1.001) scrollToMark(boxes[0]);
}

function markBox([x0, y0, x1, y1]) {
  const box = el("div", "mark");
  box.style.left = `${x0 * 100}%`;
  box.style.top = `${y0 * 100}%`;
  box.style.width = `${(x1 - x0) * 100}%`;
  box.style.height = `${(y1 - y0) * 100}%`;
  return box;
}

function scrollToMark(box) {
  const s = ui.stage;
  s.scrollLeft = box.offsetLeft + ui.sheet.offsetLeft - s.clientWidth / 3;
  s.scrollTop = box.offsetTop + ui.sheet.offsetTop - s.clientHeight / 3;
}

function clearMarks() {
  ui.marks.replaceChildren();
}

// ---------- versions: a paper replaced, a book published again

// The version of the open paper, and its history when the person opens it.
function showVersion(doc) {
  const versions = ui.versions;
  const many = doc.kind === "paper" && (doc.version > 1 || Boolean(doc.replaced_at));
  versions.hidden = !many;
  versions.open = false;
  versions.classList.toggle("old", Boolean(doc.replaced_at));
  versions.querySelector("summary").textContent = doc.replaced_at ? t.oldVersion(doc.version) : t.version(doc.version);
  versions.querySelector("ol").replaceChildren();
}

async function loadVersions() {
  if (!ui.versions.open || !state.doc) return;
  const list = ui.versions.querySelector("ol");
  try {
    const versions = await request("GET", `/api/documents/${state.doc.id}/versions`);
    list.replaceChildren(...versions.map(versionRow));
  } catch {
    list.replaceChildren(el("li", "error", t.versionsFailed));
  }
}

function versionRow(v) {
  const name = v.current ? `${t.version(v.version)} (${t.current})` : t.version(v.version);
  const link = el("a", { href: `?document=${v.id}`, className: "doc-version" }, name);
  link.dataset.document = v.id;
  if (v.id === state.doc?.id) link.setAttribute("aria-current", "true");
  return el("li", "", link, el("span", "muted", t.versionLine(v)));
}

// The page of `next` that shows what page `page` of `doc` showed (same content key), else
// the same page number as near as it goes.
function samePlace(doc, page, next) {
  const key = doc.page_keys?.[page - 1];
  const found = key ? (next.page_keys || []).indexOf(key) : -1;
  return found === -1 ? clamp(page, 1, next.page_count) : found + 1;
}

async function moveToVersion(newId, said) {
  const doc = state.doc;
  const page = state.page;
  try {
    const next = await documentInfo(newId);
    if (state.doc !== doc) return; // the person opened something else meanwhile
    await openDocument(newId, samePlace(doc, page, next), "load", next);
    tell(said);
  } catch {
    // the reader stays on the old version, which stays readable; the agenda link is new
  }
}

function relink(link, id) {
  link.dataset.document = id;
  link.href = `?document=${id}`;
}

function onReplaced(event) {
  for (const link of root.querySelectorAll(`.doc-link[data-document="${event.document_id}"]`)) {
    relink(link, event.replaced_by);
    const count = link.querySelector(".muted")?.firstChild;
    if (count) count.textContent = count.textContent.replace(/^\d+/, String(event.page_count));
  }
  if (state.doc?.id === event.document_id) moveToVersion(event.replaced_by, t.newVersion(event.version));
  keepOffline();
}

function onBookPublished(event) {
  const link = root.querySelector(".doc-link.book");
  if (link) {
    relink(link, event.document_id);
    link.querySelector(".muted").textContent = t.version(event.version);
  }
  if (state.doc?.kind === "book" && state.doc.id !== event.document_id) {
    moveToVersion(event.document_id, t.newBook(event.version));
  }
  keepOffline();
}

function onDeleted(event) {
  root.querySelector(`.doc-link[data-document="${event.document_id}"]`)?.remove();
}

// ---------- the book on the tablet (offline.js, sw.js)

const keeping = { width: 0, round: 0 };

// Downloads the book and the confidential papers this person may read, at the width the
// stage shows a whole page, and says how far it got; a new version replaces the old one.
async function keepOffline() {
  if (!("caches" in window)) return;
  keeping.width ||= bucketFor(fitSize()[0]);
  const round = ++keeping.round; // a republished book starts a new round; the old one stops
  if (!(await installWorker())) return;
  keepShell().catch(() => {}); // a failed file is fetched again on the next load
  const links = [...root.querySelectorAll(".doc-link[data-keep]")];
  const keep = new Set(links.map((link) => Number(link.dataset.document)));
  const ended = root.dataset.ended === "1";
  await tidy(state.userId, state.meetingId, keep);
  if (ended) await forget(state.meetingId, { confidentialOnly: true });
  const docs = [];
  for (const id of keep) {
    try {
      const doc = await documentInfo(id);
      if (!(doc.confidential && ended)) docs.push(doc);
    } catch {
      return; // no network: the next page load or the next book tries again
    }
  }
  const total = docs.reduce((sum, doc) => sum + doc.page_count, 0);
  let before = 0;
  let complete = true;
  for (const doc of docs) {
    const options = {
      userId: state.userId,
      meetingId: state.meetingId,
      width: keeping.width,
      wanted: () => round === keeping.round,
      progress: (done) => showKept(before + done, total),
    };
    complete = (await keepBook(doc, options)) && complete;
    if (round !== keeping.round) return;
    before += doc.page_count;
  }
  showKept(before, total, complete);
}

function showKept(done, total, complete = false) {
  const mark = $("offline-mark");
  mark.hidden = !total;
  mark.classList.toggle("ready", complete);
  mark.textContent = complete ? `✓ ${offlineWords.ready()}` : offlineWords.loading(done, total);
  mark.title = complete ? offlineWords.readyTitle() : "";
}

function onMeetingEnded() {
  root.dataset.ended = "1";
  forget(state.meetingId, { confidentialOnly: true });
}

// ---------- following the chair

function afterTurn(by) {
  updateFollowBar();
  if (by !== "user") return;
  if (state.presides) {
    // the chair looks ahead without being told it stopped following itself
    if (ui.presentOnTurn?.checked && !onPresentedPage()) presentThisPage();
  } else if (state.following && !onPresentedPage() && state.presented) {
    setFollowing(false);
    tell(t.stoppedFollowing);
  }
}

function onPresentedPage() {
  const shown = state.presented;
  return Boolean(shown && state.doc && shown.document_id === state.doc.id && shown.page === state.page);
}

function goToPresented() {
  const shown = state.presented;
  if (!shown || onPresentedPage()) return;
  if (state.doc?.id === shown.document_id) showPage(shown.page, "chair");
  else openDocument(shown.document_id, shown.page, "chair");
}

function setFollowing(on) {
  state.following = on;
  sessionStorage.setItem(`phonghop.follow.${state.meetingId}`, on ? "1" : "0");
  live?.send("follow", { on }).catch(() => {}); // sent again on reconnect
  if (on) goToPresented();
  updateFollowBar();
}

function onPresented(event) {
  state.presented = {
    document_id: event.document_id,
    page: event.page,
    label: event.label,
    title: event.title,
    by: event.by,
    item_id: event.item_id ?? null,
  };
  // Our own presentation echoes back after we already turned; following it could step back.
  if (state.following && event.by !== state.userId) goToPresented();
  updateFollowBar();
}

async function presentThisPage() {
  if (!state.doc || !live) return;
  ui.presentButton.disabled = true;
  try {
    await live.send("page.present", { document_id: state.doc.id, page: state.page });
  } catch (error) {
    tell(t.presentFailed(error.message));
  } finally {
    updateFollowBar();
  }
}

function updateFollowBar() {
  const shown = state.presented;
  ui.followToggle.setAttribute("aria-pressed", String(state.following));
  ui.presentedText.textContent = shown ? t.presented(shown.title, shown.label ?? shown.page) : t.nothingPresented;
  ui.presented.classList.toggle("none", !shown);
  ui.presented.classList.toggle("here", onPresentedPage());
  ui.followReturn.hidden = !shown || onPresentedPage();
  if (ui.presentButton) ui.presentButton.disabled = !state.doc || onPresentedPage() || !live?.ready;
}

let noticeTimer = 0;

function tell(message) {
  ui.followNotice.textContent = message;
  ui.followNotice.classList.add("shown");
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => ui.followNotice.classList.remove("shown"), 6000);
}

// Votes and the floor come with the reader: the ballot over the page, the request button
// in the live bar, and a banner while this person has the floor.
function votesAndFloor() {
  const ballot = createBallot($("ballot"), { canVote: root.dataset.canVote === "1", overlay: true, userId: state.userId });
  const views = [ballot];
  if ($("floor-request")) {
    views.push(createFloor({
      userId: state.userId,
      button: $("floor-request"),
      place: $("floor-place"),
      banner: $("floor-banner"),
      notify: tell,
      itemOf: () => state.presented?.item_id ?? null,
    }));
  }
  syncClock();
  return views;
}

function connect() {
  statusIndicator();
  const views = votesAndFloor();
  live = connectMeeting(state.meetingId, joinHandlers({
    snapshot(meeting) {
      pen.load(meeting.annotations || []);
      pen.setPeople(meeting.attendance?.people || []);
      if (meeting.presented) onPresented(meeting.presented);
      else updateFollowBar();
    },
    "page.presented": onPresented,
    "document.replaced": onReplaced,
    "document.deleted": onDeleted,
    "agenda.published": onBookPublished,
    "meeting.ended": onMeetingEnded,
    "annotation.changed": (event) => pen.changed(event.annotation),
    "meeting.started": () => live.send("attendance.here").catch(() => {}),
    ready() {
      if (!state.following) live.send("follow", { on: false }).catch(() => {});
      if (state.doc && ui.sheet.classList.contains("failed")) loadImage(); // the network is back
      pen.ready();
      updateFollowBar();
    },
    status(name) {
      updateFollowBar();
      if (name === "signed-out") showMessage(t.signedOut, { error: true });
      if (name === "forbidden") {
        forget(state.meetingId); // no longer this person's to read
        showMessage(liveText.forbidden, { error: true });
      }
    },
  }, ...views.map((view) => view.handlers)));
  for (const view of views) view.attach(live);
  pen = createPen({
    sheet: ui.sheet,
    toolbar: $("pen-tools"),
    link: live,
    meetingId: state.meetingId,
    userId: state.userId,
    canShare: root.dataset.canShare === "1",
    noteTemplate: $("note-editor-template"),
    notify: tell,
  });
}

// ---------- agenda: a column on wide screens, a drawer on narrow ones

function agendaIsOpen() {
  return narrowScreen.matches ? root.classList.contains("agenda-open") : !root.classList.contains("agenda-collapsed");
}

function setAgenda(show, { focusToggle = false } = {}) {
  if (narrowScreen.matches) {
    root.classList.toggle("agenda-open", show);
    ui.backdrop.hidden = !show;
    if (show) (root.querySelector(".doc-link[aria-current]") || root.querySelector(".reader-agenda a"))?.focus();
  } else {
    root.classList.toggle("agenda-collapsed", !show);
    localStorage.setItem("phonghop.reader.agenda", show ? "1" : "0");
  }
  ui.agendaToggle.setAttribute("aria-expanded", String(show));
  if (focusToggle) ui.agendaToggle.focus();
}

function syncAgendaToScreen() {
  root.classList.remove("agenda-open");
  ui.backdrop.hidden = true;
  if (!narrowScreen.matches) {
    root.classList.toggle("agenda-collapsed", localStorage.getItem("phonghop.reader.agenda") === "0");
  }
  ui.agendaToggle.setAttribute("aria-expanded", String(agendaIsOpen()));
}

function onAgendaClick(event) {
  const link = event.target.closest("a.doc-link[data-document]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  openDocument(Number(link.dataset.document), 1, "user");
  if (narrowScreen.matches) setAgenda(false);
  ui.stage.focus({ preventScroll: true }); // so the arrow keys page the new document
}

// ---------- wiring

const ACTIONS = {
  "toggle-agenda": () => setAgenda(!agendaIsOpen()),
  "close-agenda": () => setAgenda(false, { focusToggle: true }),
  "toggle-search": () => setSearch(ui.search.hidden),
  "close-search": () => setSearch(false),
  "toggle-thumbs": () => setThumbs(ui.thumbs.hidden),
  prev: () => go(-1),
  next: () => go(1),
  "zoom-in": () => zoomStep(1),
  "zoom-out": () => zoomStep(-1),
  "zoom-fit": () => zoomTo(1),
  retry: () => state.retry?.(),
  "toggle-follow": () => {
    setFollowing(!state.following);
    tell(state.following ? t.following : t.stoppedFollowing);
  },
  "follow-return": () => setFollowing(true),
  present: presentThisPage,
};

function onClick(event) {
  const control = event.target.closest("[data-action]");
  if (control && ACTIONS[control.dataset.action]) {
    ACTIONS[control.dataset.action]();
    return;
  }
  const thumb = event.target.closest("#thumb-list button");
  if (thumb) {
    showPage(Number(thumb.dataset.page));
    return;
  }
  const version = event.target.closest("a.doc-version[data-document]");
  if (version && !event.ctrlKey && !event.metaKey) {
    event.preventDefault();
    openDocument(Number(version.dataset.document), 1, "user");
    return;
  }
  const hit = event.target.closest("#search-results button");
  if (hit) chooseHit(Number(hit.dataset.document), Number(hit.dataset.page));
}

function start() {
  root.addEventListener("click", onClick);
  root.querySelector(".reader-agenda").addEventListener("click", onAgendaClick);
  document.addEventListener("keydown", onKey);
  ui.stage.addEventListener("pointerdown", onPointerDown);
  ui.stage.addEventListener("pointermove", onPointerMove);
  ui.stage.addEventListener("pointerup", onPointerUp);
  ui.stage.addEventListener("pointercancel", onPointerUp);
  ui.stage.addEventListener("wheel", onWheel, { passive: false });
  ui.stage.addEventListener("dblclick", onDoubleClick);
  ui.pageJump.addEventListener("submit", (event) => {
    event.preventDefault();
    jumpToTyped();
  });
  ui.pageInput.addEventListener("focus", () => ui.pageInput.select());
  ui.pageInput.addEventListener("input", () => ui.pageInput.setCustomValidity(""));
  ui.pageInput.addEventListener("change", () => {
    if (state.doc && ui.pageInput.value.trim() !== pageLabel(state.doc, state.page)) jumpToTyped();
  });
  ui.search.querySelector("form").addEventListener("submit", (event) => {
    event.preventDefault();
    runSearch(ui.searchInput.value);
  });
  ui.searchInput.addEventListener("input", debounce(() => runSearch(ui.searchInput.value), 300));
  ui.versions.addEventListener("toggle", loadVersions);
  narrowScreen.addEventListener("change", syncAgendaToScreen);
  new ResizeObserver(() => {
    if (!state.doc) return;
    layout();
    sharpen();
  }).observe(ui.stage);

  opinions = createOpinions({
    root,
    meetingId: state.meetingId,
    goTo: goToPage,
    beforePanel: () => setSearch(false),
  });
  syncAgendaToScreen();
  if (localStorage.getItem("phonghop.reader.thumbs") === "1") setThumbs(true);
  connect();
  updateFollowBar();
  const opened = Number(root.dataset.document);
  if (opened) openDocument(opened, Number(root.dataset.page) || 1, "load");
}

start();
