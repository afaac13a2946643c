// Annotations over the reader's page: pen, highlighter, notes, eraser, undo, sharing.
//
// Marks are drawn in an SVG laid over the page image, in page-normalized coordinates, so
// they stay sharp and in place at any zoom. Every change is written to an outbox in
// IndexedDB before it is sent, and leaves the outbox only when the server has acked it:
// a reload, a dropped connection or a server restart loses nothing, and sending a change
// twice is harmless (same mark UUID, same effect).

import { el, pickWords, plural, request } from "./kit.js";
import { newUUID } from "./live.js";
import { pageWords } from "./presented.js";

const TEXT = {
  vi: {
    pending: (n) => `${n} thay đổi chưa gửi`,
    refused: (message) => `Không lưu được một ghi chú: ${message}`,
    shared: "Nét vừa vẽ đã được chia sẻ với cuộc họp.",
    unshared: "Nét vừa vẽ giờ chỉ mình bạn xem.",
    shareNext: "Các nét vẽ tiếp theo sẽ được chia sẻ với cuộc họp.",
    privateNext: "Các nét vẽ tiếp theo chỉ mình bạn xem.",
  },
  en: {
    pending: (n) => plural(n, "{n} change not sent yet", "{n} changes not sent yet"),
    refused: (message) => `A mark could not be saved: ${message}`,
    shared: "Your last mark is now shared with the meeting.",
    unshared: "Your last mark is now private.",
    shareNext: "Your next marks will be shared with the meeting.",
    privateNext: "Your next marks will be private.",
  },
};
const t = pickWords(TEXT);

const SVG = "http://www.w3.org/2000/svg";
const VIEW_WIDTH = 1000; // SVG user units across the page
const PEN_WIDTH = 0.005; // fraction of the page width
const MIN_STEP_PX = 1.5; // closer points add nothing but weight
const MAX_POINTS = 5000; // the server's limit for one stroke
const ERASE_PX = 12;
const MIN_RECT = 0.004;
const LINE_HEIGHT = 0.02; // a drag along a line, where there are no words: a band this tall
const WORDS_WAIT_MS = 1500; // then the dragged rectangle is the highlight
const DEFAULT_COLORS = { pen: "#d32f2f", highlight: "#ffd400", note: "#ffd400" };
const RETRY_MS = 5000;
const MAX_SERVER_FAILURES = 5;
const narrowScreen = window.matchMedia("(max-width: 700px)");
const uprightTablet = window.matchMedia("(orientation: portrait) and (min-width: 701px)"); // tools in a row (reader.css)

const round = (value) => Math.round(Math.min(1, Math.max(0, value)) * 10000) / 10000;
const copy = (mark) => (mark ? structuredClone(mark) : null);

// ---------- the outbox: changes not yet acked, in order
//
// Kept in IndexedDB (a stroke can weigh more than localStorage holds, and a tablet may draw
// offline for a whole session); read once into memory, written through on every change.

const OUTBOX_DB = "phonghop";
const OUTBOX_STORE = "outbox";

function openOutboxes() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(OUTBOX_DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(OUTBOX_STORE, { keyPath: "key" });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

class Outbox {
  constructor(meetingId, userId) {
    this.owner = `${meetingId}.${userId}`;
    this.entries = [];
    this.db = null;
    this.loaded = this.load().catch(() => {}); // no IndexedDB (private mode): memory only
  }

  async load() {
    this.db = await openOutboxes();
    const all = await this.store("readonly", (store) => store.getAll());
    const mine = all.filter((entry) => entry.owner === this.owner).sort((a, b) => a.at - b.at);
    const early = this.entries; // drawn while it opened: after the older ones, and kept now
    this.entries = [...mine, ...early];
    for (const entry of early) await this.store("readwrite", (store) => store.put(entry));
    const legacy = `phonghop.outbox.${this.owner}`; // the outbox of earlier versions
    for (const entry of JSON.parse(localStorage.getItem(legacy) || "[]")) this.add(entry);
    localStorage.removeItem(legacy);
  }

  store(mode, act) {
    return new Promise((resolve, reject) => {
      if (!this.db) return resolve(null);
      const request = act(this.db.transaction(OUTBOX_STORE, mode).objectStore(OUTBOX_STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  all() {
    return this.entries;
  }

  add(entry) {
    const kept = { key: newUUID(), ...entry, owner: this.owner, at: Date.now() + this.entries.length / 1000 };
    this.entries = [...this.entries, kept];
    this.store("readwrite", (store) => store.put(kept)).catch(() => {});
  }

  remove(key) {
    this.entries = this.entries.filter((entry) => entry.key !== key);
    this.store("readwrite", (store) => store.delete(key)).catch(() => {});
  }

  touches(markId) {
    return this.entries.some((entry) => (entry.annotation?.id ?? entry.annotation_id) === markId);
  }
}

// ---------- drawing marks as SVG

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  return node;
}

// A smooth path through the points: quadratic curves from midpoint to midpoint.
function smoothPath(points, w, h) {
  const xy = points.map(([x, y]) => [x * w, y * h]);
  if (xy.length === 1) return `M${xy[0][0]} ${xy[0][1]}l0.01 0`;
  let d = `M${xy[0][0].toFixed(1)} ${xy[0][1].toFixed(1)}`;
  for (let i = 1; i < xy.length - 1; i += 1) {
    const mx = (xy[i][0] + xy[i + 1][0]) / 2;
    const my = (xy[i][1] + xy[i + 1][1]) / 2;
    d += `Q${xy[i][0].toFixed(1)} ${xy[i][1].toFixed(1)} ${mx.toFixed(1)} ${my.toFixed(1)}`;
  }
  const last = xy[xy.length - 1];
  return `${d}L${last[0].toFixed(1)} ${last[1].toFixed(1)}`;
}

// Runs of points whose pressure is alike, each drawn as one path of its own width.
function pressureRuns(points) {
  const band = (point) => Math.round((point[2] ?? 0.5) * 8);
  const runs = [];
  let run = [points[0]];
  for (let i = 1; i < points.length; i += 1) {
    run.push(points[i]);
    if (band(points[i]) !== band(run[0]) && run.length > 2) {
      runs.push(run);
      run = [points[i]];
    }
  }
  runs.push(run);
  return runs;
}

function inkNode(mark, w, h) {
  const group = element("g", { class: "ink", stroke: mark.data.color || "#1f5fa8" });
  const width = mark.data.width || PEN_WIDTH;
  for (const run of pressureRuns(mark.data.points)) {
    const pressure = run.reduce((sum, p) => sum + (p[2] ?? 0.5), 0) / run.length;
    group.append(element("path", { d: smoothPath(run, w, h), "stroke-width": width * w * (0.5 + pressure) }));
  }
  return group;
}

function highlightNode(mark, w, h) {
  const group = element("g", { class: "highlight", fill: mark.data.color || "#ffd400" });
  for (const [x0, y0, x1, y1] of mark.data.rects) {
    group.append(element("rect", {
      x: Math.min(x0, x1) * w, y: Math.min(y0, y1) * h,
      width: Math.abs(x1 - x0) * w, height: Math.abs(y1 - y0) * h,
    }));
  }
  return group;
}

// ---------- geometry for the eraser and the highlighter

function distanceToSegment(px, py, [ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const length = dx * dx + dy * dy;
  const k = length ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / length)) : 0;
  return Math.hypot(px - (ax + k * dx), py - (ay + k * dy));
}

// Word boxes under the dragged rectangle, joined into one rectangle per line of text. A drag
// along a line is as thin as the hand is steady (a mouse's is 0 high): a word it runs through
// counts, as does one it covers a third of.
function wordsUnder(words, [x0, y0, x1, y1]) {
  const hit = words.filter(([wx0, wy0, wx1, wy1]) => {
    const overlapY = Math.min(y1, wy1) - Math.max(y0, wy0);
    const inside = y0 >= wy0 && y1 <= wy1;
    return wx1 > x0 && wx0 < x1 && (inside || overlapY > 0.3 * (wy1 - wy0));
  });
  const lines = [];
  for (const [wx0, wy0, wx1, wy1] of hit) {
    const line = lines.find((r) => Math.abs((r[1] + r[3]) / 2 - (wy0 + wy1) / 2) < (wy1 - wy0) / 2);
    if (line) {
      line[0] = Math.min(line[0], wx0);
      line[1] = Math.min(line[1], wy0);
      line[2] = Math.max(line[2], wx1);
      line[3] = Math.max(line[3], wy1);
    } else {
      lines.push([wx0, wy0, wx1, wy1]);
    }
  }
  return lines.map((r) => r.map(round));
}

// ---------- the pen

export function createPen({ sheet, toolbar, link, meetingId, userId, canShare, noteTemplate, notify }) {
  const layer = sheet.querySelector(".ink-layer");
  const notesLayer = sheet.querySelector(".note-layer");
  const outbox = new Outbox(meetingId, userId);
  const marks = new Map(); // id -> annotation, own and shared, all documents
  const sharedRead = new Set(); // documents whose shared marks are here
  const gone = new Map(); // id -> updated_at of marks deleted or unshared since
  const history = new Map(); // "doc:page" -> [{before, after}] for undo
  const failures = new Map(); // outbox key -> server errors so far
  const state = {
    doc: null,
    page: 0,
    size: [1, 1.414],
    tool: "read",
    colors: { ...DEFAULT_COLORS },
    share: false,
    selected: null, // id of the own mark made last on this page: what "share" changes
    stroke: null, // the mark being drawn
    landing: null, // a highlight just dragged, shown until its words are found
    sawPen: false, // a stylus was used: fingers then pan and page instead of drawing
    flushing: false,
    people: new Map(),
  };

  // ----- state of the marks

  function applyEntry(entry) {
    if (entry.op === "put") marks.set(entry.annotation.id, { ...entry.annotation, owner_id: userId });
    else marks.delete(entry.annotation_id);
  }

  // The snapshot has this user's own marks; what others share is read once per document.
  function load(list) {
    marks.clear();
    sharedRead.clear();
    for (const mark of list) marks.set(mark.id, mark);
    for (const entry of outbox.all()) applyEntry(entry); // our changes not acked yet come on top
    readShared(state.doc?.id);
    render();
  }

  async function readShared(documentId) {
    if (!documentId || sharedRead.has(documentId)) return;
    sharedRead.add(documentId);
    try {
      for (const mark of (await request("GET", `/api/documents/${documentId}/annotations`)).annotations) merge(mark);
    } catch {
      sharedRead.delete(documentId); // read again when the document is shown next
      return;
    }
    if (documentId === state.doc?.id) render();
  }

  // A mark read over HTTP may be older than the events since: the newer one stays.
  function merge(mark) {
    if (outbox.touches(mark.id)) return;
    const held = marks.get(mark.id)?.updated_at || gone.get(mark.id);
    if (held && held >= mark.updated_at) return;
    marks.set(mark.id, mark);
  }

  function changed(mark) {
    if (outbox.touches(mark.id)) return; // ours, and what we hold is newer
    if (mark.deleted) {
      marks.delete(mark.id);
      gone.set(mark.id, mark.updated_at);
    } else marks.set(mark.id, mark);
    if (mark.document_id === state.doc?.id && mark.page === state.page) render();
  }

  // One change by this user: shown now, queued for the server, remembered for undo.
  function commit(before, after, { remember = true } = {}) {
    const entry = after
      ? { op: "put", annotation: wireForm(after) }
      : { op: "delete", annotation_id: before.id };
    outbox.add(entry);
    applyEntry(entry);
    if (remember) {
      const key = pageKey();
      if (!history.has(key)) history.set(key, []);
      history.get(key).push({ before: copy(before), after: copy(after) });
    }
    render();
    flush();
  }

  function wireForm(mark) {
    const { id, document_id, page, kind, data, visibility } = mark;
    return { id, document_id, page, kind, data, visibility };
  }

  function undo() {
    const done = history.get(pageKey())?.pop();
    if (!done) return;
    const current = marks.get((done.after || done.before).id) || null;
    if (done.before) commit(current, done.before, { remember: false });
    else if (current) commit(current, null, { remember: false });
    state.selected = null;
    updateToolbar();
  }

  // ----- the outbox, sent in order whenever the server is there

  async function flush() {
    if (state.flushing) return;
    state.flushing = true;
    try {
      await outbox.loaded; // the oldest changes go first
      for (let entry = outbox.all()[0]; entry && link.ready; entry = outbox.all()[0]) {
        try {
          if (entry.op === "put") await link.send("annotation.put", { annotation: entry.annotation });
          else await link.send("annotation.delete", { annotation_id: entry.annotation_id });
        } catch (error) {
          if (error.code === "offline" || error.code === "timeout") break; // kept; sent on reconnect
          if (error.code === "too_fast") break; // kept; the retry below sends it when there is room
          if (error.code === "internal" && (failures.get(entry.key) || 0) < MAX_SERVER_FAILURES) {
            failures.set(entry.key, (failures.get(entry.key) || 0) + 1);
            break; // the server had a passing trouble: try again in a while
          }
          outbox.remove(entry.key); // refused for good: tell the user, do not retry forever
          if (entry.op === "put") marks.delete(entry.annotation.id);
          notify(t.refused(error.message));
          render();
          continue;
        }
        outbox.remove(entry.key);
        updatePending();
      }
    } finally {
      state.flushing = false;
      updatePending();
    }
    if (outbox.all().length && link.ready) setTimeout(flush, RETRY_MS);
  }

  function updatePending() {
    const count = outbox.all().length;
    toolbar.dataset.pending = String(count);
    const badge = toolbar.querySelector(".pen-pending");
    badge.hidden = count === 0;
    badge.textContent = count ? String(count) : "";
    badge.title = count ? t.pending(count) : "";
    badge.setAttribute("aria-label", badge.title);
  }

  // ----- showing the current page's marks

  function pageKey() {
    return `${state.doc?.id}:${state.page}`;
  }

  function show(doc, page, size) {
    const moved = doc?.id !== state.doc?.id || page !== state.page;
    if (moved && state.stroke) finishEarly(); // the chair turned the page mid-stroke: keep what was drawn
    state.doc = doc;
    state.page = page;
    if (size) state.size = size;
    if (moved) {
      state.selected = null;
      closeEditor();
      readShared(doc?.id);
    }
    if (doc) toolbar.hidden = false; // stays up while the next document loads
    const pdf = toolbar.querySelector("#annotated-pdf");
    pdf.hidden = !doc?.downloadable;
    pdf.href = doc?.downloadable ? `/api/documents/${doc.id}/annotated.pdf` : "#";
    render();
    updateToolbar();
  }

  function marksOnPage() {
    if (!state.doc) return [];
    return [...marks.values()].filter((m) => m.document_id === state.doc.id && m.page === state.page);
  }

  function viewSize() {
    const [pw, ph] = state.size;
    return [VIEW_WIDTH, (VIEW_WIDTH * ph) / pw];
  }

  function render() {
    const [w, h] = viewSize();
    layer.setAttribute("viewBox", `0 0 ${w} ${h}`);
    layer.setAttribute("preserveAspectRatio", "none");
    const shapes = [];
    const notes = [];
    const onPage = marksOnPage();
    // highlights under ink, so strokes stay crisp over them
    for (const mark of [...onPage].sort((a, b) => (a.kind === "highlight" ? 0 : 1) - (b.kind === "highlight" ? 0 : 1))) {
      if (mark.kind === "note") {
        notes.push(noteNode(mark));
        continue;
      }
      const node = mark.kind === "ink" ? inkNode(mark, w, h) : highlightNode(mark, w, h);
      node.classList.add(mark.owner_id === userId ? "mine" : "theirs");
      if (mark.visibility === "meeting") node.classList.add("shared");
      node.dataset.id = mark.id;
      shapes.push(node);
    }
    if (state.stroke?.node) shapes.push(state.stroke.node);
    if (state.landing) shapes.push(state.landing);
    layer.replaceChildren(...shapes);
    const editor = notesLayer.querySelector(".note-editor");
    notesLayer.replaceChildren(...notes, ...(editor ? [editor] : []));
  }

  function noteNode(mark) {
    const mine = mark.owner_id === userId;
    const node = el("div", { className: `pen-note ${mine ? "mine" : "theirs"}${mark.visibility === "meeting" ? " shared" : ""}`, dataset: { id: mark.id } });
    node.style.left = `${mark.data.x * 100}%`;
    node.style.top = `${mark.data.y * 100}%`;
    node.style.setProperty("--note", mark.data.color || DEFAULT_COLORS.note);
    if (mark.data.x > 0.6) node.classList.add("flip");
    node.append(el("span", { className: "note-text", textContent: mark.data.text }));
    if (!mine) node.append(el("span", { className: "note-by", textContent: state.people.get(mark.owner_id) || "" }));
    return node;
  }

  // ----- pointer input on the page

  function pointOf(event) {
    const box = layer.getBoundingClientRect();
    return [(event.clientX - box.left) / box.width, (event.clientY - box.top) / box.height];
  }

  function wantsEvent(event) {
    if (state.tool === "read" || !state.doc) return false;
    if (event.pointerType === "pen") state.sawPen = true;
    if (event.pointerType === "touch" && state.sawPen) return false; // fingers pan while a stylus draws
    if (event.pointerType === "mouse" && event.button !== 0) return false;
    return true;
  }

  function onPointerDown(event) {
    if (!wantsEvent(event) || state.stroke) return;
    if (event.target.closest(".note-editor")) return;
    event.stopPropagation(); // the reader must not take this for a swipe
    event.preventDefault();
    layer.setPointerCapture(event.pointerId);
    const [x, y] = pointOf(event);
    if (state.tool === "eraser") {
      state.stroke = { pointerId: event.pointerId, kind: "eraser" };
      eraseAt(event);
    } else if (state.tool === "note") {
      state.stroke = { pointerId: event.pointerId, kind: "note", x, y };
    } else if (state.tool === "highlight") {
      const node = element("rect", { class: "drag-rect" });
      pageWords(state.doc.id, state.page).catch(() => {}); // asked now, ready when the drag ends
      state.stroke = { pointerId: event.pointerId, kind: "highlight", from: [x, y], to: [x, y], node };
      layer.append(node);
      drawDragRect();
    } else {
      startStroke(event, x, y);
    }
  }

  function onPointerMove(event) {
    const stroke = state.stroke;
    if (!stroke || event.pointerId !== stroke.pointerId) return;
    event.stopPropagation();
    if (stroke.kind === "eraser") eraseAt(event);
    else if (stroke.kind === "highlight") {
      stroke.to = pointOf(event);
      drawDragRect();
    } else if (stroke.kind === "ink") {
      const events = event.getCoalescedEvents?.() || [event];
      for (const e of events.length ? events : [event]) addPoint(e);
      stroke.path.setAttribute("d", smoothPath(stroke.points, ...viewSize()));
    }
  }

  function onPointerUp(event) {
    const stroke = state.stroke;
    if (!stroke || event.pointerId !== stroke.pointerId) return;
    event.stopPropagation();
    state.stroke = null;
    if (event.type === "pointercancel") {
      render();
      return;
    }
    if (stroke.kind === "ink") finishStroke(stroke);
    else if (stroke.kind === "highlight") finishHighlight(stroke);
    else if (stroke.kind === "note") placeNote(stroke.x, stroke.y, event);
  }

  function finishEarly() {
    const stroke = state.stroke;
    state.stroke = null;
    if (stroke.kind === "ink") finishStroke(stroke);
    else stroke.node?.remove();
  }

  function pressureOf(event) {
    return event.pointerType === "pen" && event.pressure > 0 ? event.pressure : 0.5;
  }

  function startStroke(event, x, y) {
    const [w] = viewSize();
    const width = PEN_WIDTH;
    const path = element("path", { "stroke-width": width * w });
    const node = element("g", { class: "ink mine drawing", stroke: state.colors.pen });
    node.append(path);
    state.stroke = {
      pointerId: event.pointerId,
      kind: "ink",
      points: [[round(x), round(y), round(pressureOf(event))]],
      last: [event.clientX, event.clientY],
      width,
      node,
      path,
    };
    layer.append(node);
    path.setAttribute("d", smoothPath(state.stroke.points, ...viewSize()));
  }

  function addPoint(event) {
    const stroke = state.stroke;
    if (Math.hypot(event.clientX - stroke.last[0], event.clientY - stroke.last[1]) < MIN_STEP_PX) return;
    if (stroke.points.length >= MAX_POINTS) return;
    const [x, y] = pointOf(event);
    stroke.last = [event.clientX, event.clientY];
    stroke.points.push([round(x), round(y), round(pressureOf(event))]);
  }

  function newMark(kind, data) {
    return {
      id: newUUID(),
      owner_id: userId,
      document_id: state.doc.id,
      page: state.page,
      kind,
      data,
      visibility: state.share ? "meeting" : "private",
    };
  }

  function finishStroke(stroke) {
    const mark = newMark("ink", { points: stroke.points, width: stroke.width, color: state.colors.pen });
    state.selected = mark.id;
    commit(null, mark);
    updateToolbar();
  }

  function dragRect(stroke) {
    const [ax, ay] = stroke.from;
    const [bx, by] = stroke.to;
    return [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)].map(round);
  }

  function drawDragRect() {
    const [w, h] = viewSize();
    const dragged = dragRect(state.stroke);
    const [x0, y0, x1, y1] = draggedBand(dragged) || dragged;
    const node = state.stroke.node;
    node.setAttribute("x", x0 * w);
    node.setAttribute("y", y0 * h);
    node.setAttribute("width", (x1 - x0) * w);
    node.setAttribute("height", (y1 - y0) * h);
    node.setAttribute("fill", state.colors.highlight);
  }

  // Where no word is under the drag, the dragged rectangle is the highlight; a drag along a
  // line (or down the margin) with hardly any height (width) becomes a band one line thick.
  // A tap marks nothing.
  function draggedBand([x0, y0, x1, y1]) {
    if (x1 - x0 <= MIN_RECT && y1 - y0 <= MIN_RECT) return null;
    const [w, h] = viewSize();
    const widen = (a, b, least) => (b - a >= least ? [a, b] : [(a + b - least) / 2, (a + b + least) / 2]);
    const [left, right] = widen(x0, x1, (LINE_HEIGHT * h) / w);
    const [top, bottom] = widen(y0, y1, LINE_HEIGHT);
    return [left, top, right, bottom].map(round);
  }

  async function finishHighlight(stroke) {
    const rect = dragRect(stroke);
    const { doc, page } = state;
    state.landing = stroke.node; // stays on screen while the words are looked up
    let rects = [];
    try {
      const late = new Promise((resolve) => setTimeout(() => resolve([]), WORDS_WAIT_MS));
      rects = wordsUnder(await Promise.race([pageWords(doc.id, page), late]), rect);
    } catch {
      // no words (a scan, or no network): the dragged rectangle itself is the highlight
    }
    if (state.landing === stroke.node) state.landing = null;
    stroke.node.remove();
    if (state.doc !== doc || state.page !== page) return;
    if (!rects.length) rects = [draggedBand(rect)].filter(Boolean);
    if (!rects.length) return;
    const mark = newMark("highlight", { rects: rects.slice(0, 200), color: state.colors.highlight });
    state.selected = mark.id;
    commit(null, mark);
    updateToolbar();
  }

  // ----- notes

  function noteAt(event) {
    for (const node of notesLayer.querySelectorAll(".pen-note.mine")) {
      const box = node.getBoundingClientRect();
      if (event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom) {
        return marks.get(node.dataset.id);
      }
    }
    return null;
  }

  function placeNote(x, y, event) {
    const existing = noteAt(event);
    openEditor(existing, existing ? [existing.data.x, existing.data.y] : [round(x), round(y)]);
  }

  function openEditor(existing, [x, y]) {
    closeEditor();
    const form = noteTemplate.content.firstElementChild.cloneNode(true);
    const input = form.querySelector("textarea");
    input.value = existing?.data.text || "";
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      saveNote(existing, x, y, input.value.trim());
    });
    form.querySelector("[data-note=cancel]").addEventListener("click", closeEditor);
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeEditor();
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
    });
    for (const type of ["pointerdown", "pointermove", "pointerup", "dblclick"]) {
      form.addEventListener(type, (event) => event.stopPropagation()); // typing, not paging
    }
    notesLayer.append(form);
    // at the tap, but inside the page
    const room = [notesLayer.clientWidth - form.offsetWidth, notesLayer.clientHeight - form.offsetHeight];
    form.style.left = `${Math.max(0, Math.min(x * notesLayer.clientWidth, room[0]))}px`;
    form.style.top = `${Math.max(0, Math.min(y * notesLayer.clientHeight, room[1]))}px`;
    input.focus();
  }

  function closeEditor() {
    notesLayer.querySelector(".note-editor")?.remove();
  }

  function saveNote(existing, x, y, text) {
    closeEditor();
    if (existing && !text) {
      commit(existing, null);
    } else if (existing && text !== existing.data.text) {
      commit(existing, { ...copy(existing), data: { ...existing.data, text } });
    } else if (!existing && text) {
      const mark = newMark("note", { x, y, text, color: state.colors.note });
      state.selected = mark.id;
      commit(null, mark);
    }
    updateToolbar();
  }

  // ----- the eraser

  function eraseAt(event) {
    const target = markAt(event);
    if (target) {
      if (state.selected === target.id) state.selected = null;
      commit(target, null);
      updateToolbar();
    }
  }

  // The newest own mark under the pointer.
  function markAt(event) {
    const note = noteAt(event);
    if (note) return note;
    const box = layer.getBoundingClientRect();
    const px = event.clientX - box.left;
    const py = event.clientY - box.top;
    const own = marksOnPage().filter((m) => m.owner_id === userId).reverse();
    for (const mark of own) {
      if (mark.kind === "ink") {
        const points = mark.data.points.map(([x, y]) => [x * box.width, y * box.height]);
        const reach = Math.max(ERASE_PX, (mark.data.width || PEN_WIDTH) * box.width);
        if (points.length === 1 && Math.hypot(px - points[0][0], py - points[0][1]) < reach) return mark;
        for (let i = 1; i < points.length; i += 1) {
          if (distanceToSegment(px, py, points[i - 1], points[i]) < reach) return mark;
        }
      } else if (mark.kind === "highlight") {
        const x = px / box.width;
        const y = py / box.height;
        if (mark.data.rects.some(([x0, y0, x1, y1]) => x >= x0 && x <= x1 && y >= y0 && y <= y1)) return mark;
      }
    }
    return null;
  }

  // ----- the toolbar

  function setTool(tool) {
    state.tool = tool;
    closeEditor();
    sheet.classList.toggle("drawing", tool !== "read");
    sheet.dataset.penTool = tool;
    updateToolbar();
  }

  function setColor(color) {
    const tool = state.tool === "read" || state.tool === "eraser" ? "pen" : state.tool;
    state.colors[tool] = color;
    if (state.tool === "read" || state.tool === "eraser") setTool("pen");
    updateToolbar();
  }

  function toggleShare() {
    state.share = !state.share;
    const selected = state.selected && marks.get(state.selected);
    if (selected && selected.owner_id === userId) {
      const visibility = state.share ? "meeting" : "private";
      if (selected.visibility !== visibility) {
        commit(selected, { ...copy(selected), visibility });
        notify(state.share ? t.shared : t.unshared);
      }
    } else {
      notify(state.share ? t.shareNext : t.privateNext);
    }
    updateToolbar();
  }

  function updateToolbar() {
    for (const button of toolbar.querySelectorAll("[data-tool]")) {
      button.setAttribute("aria-pressed", String(button.dataset.tool === state.tool));
    }
    const colorTool = state.tool === "read" || state.tool === "eraser" ? "pen" : state.tool;
    for (const button of toolbar.querySelectorAll("[data-color]")) {
      button.style.background = button.dataset.color;
      button.setAttribute("aria-pressed", String(button.dataset.color === state.colors[colorTool]));
    }
    toolbar.style.setProperty("--pen-color", state.colors.pen);
    toolbar.style.setProperty("--highlight-color", state.colors.highlight);
    toolbar.querySelector("[data-pen=undo]").disabled = !history.get(pageKey())?.length;
    const share = toolbar.querySelector("[data-pen=share]");
    share.hidden = !canShare;
    share.setAttribute("aria-pressed", String(state.share));
    updatePending();
  }

  // On a phone the toolbar shows only the current tool until it is tapped.
  function onToolbarClick(event) {
    const button = event.target.closest("button");
    if (!button) return;
    if (narrowScreen.matches && !toolbar.classList.contains("open")) {
      toolbar.classList.add("open");
      return;
    }
    if (button.dataset.tool) {
      setTool(button.dataset.tool);
      toolbar.classList.remove("open");
    }
    else if (button.dataset.color) setColor(button.dataset.color);
    else if (button.dataset.pen === "undo") undo();
    else if (button.dataset.pen === "share") toggleShare();
  }

  function onKey(event) {
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && state.doc) {
      event.preventDefault();
      undo();
    }
  }

  layer.addEventListener("pointerdown", onPointerDown);
  layer.addEventListener("pointermove", onPointerMove);
  layer.addEventListener("pointerup", onPointerUp);
  layer.addEventListener("pointercancel", onPointerUp);
  toolbar.addEventListener("click", onToolbarClick);
  const orient = () => toolbar.setAttribute("aria-orientation", uprightTablet.matches ? "horizontal" : "vertical");
  uprightTablet.addEventListener("change", orient);
  orient();
  document.addEventListener("keydown", onKey);
  updateToolbar();
  outbox.loaded.then(() => {
    for (const entry of outbox.all()) applyEntry(entry); // drawn before a reload, not acked yet
    render();
    updatePending();
    flush();
  });

  return {
    show,
    load,
    changed,
    ready: flush,
    setPeople(people) {
      state.people = new Map(people.map((p) => [p.user_id, p.name]));
      render();
    },
    isDrawing: () => state.tool !== "read",
  };
}
