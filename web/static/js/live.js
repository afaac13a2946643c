// The meeting socket, shared by the reader, the projector and the meeting page: hello and
// catch-up, commands answered by promises, reconnection with backoff, and a status dot.
//
//   const link = connectMeeting(7, {
//     snapshot(state, seq) {…}, "page.presented"(event) {…}, ready() {…}, status(name) {…},
//   });
//   await link.send("page.present", { document_id: 3, page: 2 });
//
// A page load always starts from a snapshot (a fresh page has nothing to apply missed
// events to); later reconnects send `since` and get only what was missed.

import { el, failedText, pickWords } from "./kit.js";

const TEXT = {
  vi: {
    online: "Đã kết nối",
    connecting: "Đang kết nối…",
    reconnecting: "Mất kết nối — đang kết nối lại…",
    offline: "Không có mạng — nội dung có thể đã cũ",
    "signed-out": "Phiên đăng nhập đã hết — hãy đăng nhập lại",
    forbidden: "Bạn không có quyền vào cuộc họp này",
    replaced: "Cuộc họp đang mở trên quá nhiều thiết bị của bạn — kết nối này đã đóng; tải lại trang để dùng thiết bị này",
    timeout: "Máy chủ không trả lời. Thử lại sau.",
    notConnected: "Chưa kết nối được máy chủ.",
  },
  en: {
    online: "Connected",
    connecting: "Connecting…",
    reconnecting: "Connection lost — reconnecting…",
    offline: "No network — what you see may be out of date",
    "signed-out": "Your session has ended — sign in again",
    forbidden: "You may not join this meeting",
    replaced: "The meeting is open on too many of your devices — this one was closed; reload to use it",
    timeout: "The server did not answer. Try again later.",
    notConnected: "Not connected to the server.",
  },
};
export const text = pickWords(TEXT);

const CLOSE_NOT_SIGNED_IN = 4401;
const CLOSE_FORBIDDEN = 4403;
const CLOSE_REPLACED = 4409; // too many sockets of this account: reconnecting would close another
const CLOSED_FOR_GOOD = {
  [CLOSE_NOT_SIGNED_IN]: "signed-out",
  [CLOSE_FORBIDDEN]: "forbidden",
  [CLOSE_REPLACED]: "replaced",
};
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 10_000;
const JITTER = 0.3;
const ANSWER_TIMEOUT_MS = 12_000;
const OFFLINE_AFTER_FAILURES = 4; // amber while it may come back soon, red after that

// crypto.randomUUID needs a secure context; a council LAN served over plain http is not one.
export function newUUID() {
  if (window.isSecureContext && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// A console panel's command over the socket: the panel looks busy while it runs, and a
// refusal (or no socket yet) shows in its error line.
export async function sendFromPanel({ root, error, link, failed = failedText }, type, fields = {}) {
  error.textContent = "";
  root.classList.add("busy");
  try {
    if (!link) throw new Error(failed);
    await link.send(type, fields);
  } catch (problem) {
    error.textContent = problem.message || failed;
  } finally {
    root.classList.remove("busy");
  }
}

// One handler object from several: each event calls every view's handler, in order.
export function joinHandlers(...sets) {
  const names = new Set(sets.flatMap((set) => Object.keys(set)));
  const joined = {};
  for (const name of names) {
    const handlers = sets.map((set) => set[name]).filter(Boolean);
    joined[name] = (...args) => {
      for (const handler of handlers) {
        try {
          handler(...args);
        } catch (error) {
          console.error(`the ${name} handler failed`, error); // one broken view must not stop the others
        }
      }
    };
  }
  return joined;
}

export class CommandError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code; // the server's code, or "timeout" / "offline"
  }
}

export class MeetingLink {
  // `resume: false` asks for a fresh snapshot on every reconnect, for views of state that
  // the journal does not replay (who is online).
  constructor(meetingId, handlers = {}, { resume = true } = {}) {
    this.meetingId = meetingId;
    this.handlers = handlers;
    this.resume = resume;
    this.seq = null; // highest journaled seq applied on this page
    this.status = "connecting";
    this.socket = null;
    this.ready = false; // hello answered: commands may go out
    this.pending = new Map(); // message id -> {resolve, reject, timer}
    this.failures = 0;
    this.retryTimer = 0;
    this.stopped = false;
    this.prefix = newUUID().slice(0, 8);
    this.counter = 0;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.dropConnection());
    this.open();
  }

  // Sends a command; resolves with its ack, rejects with a CommandError.
  send(type, fields = {}, { timeout = ANSWER_TIMEOUT_MS } = {}) {
    if (!this.ready) return Promise.reject(new CommandError("offline", text.notConnected));
    return this.request({ type, ...fields }, timeout);
  }

  request(message, timeout) {
    const id = `${this.prefix}-${++this.counter}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CommandError("timeout", text.timeout));
        this.dropConnection(); // an unanswered command means a dead socket more often than a slow server
      }, timeout);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.send(JSON.stringify({ ...message, id }));
    });
  }

  open() {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${window.location.host}/ws/meetings/${this.meetingId}`);
    this.socket = socket;
    this.setStatus(this.failures ? this.reconnectingStatus() : "connecting");
    socket.onopen = () => this.greet(socket);
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.closed(socket, event.code);
    socket.onerror = () => {}; // onclose follows and decides
  }

  async greet(socket) {
    try {
      const since = this.resume ? this.seq : null;
      const ack = await this.request({ type: "hello", since }, ANSWER_TIMEOUT_MS);
      if (socket !== this.socket) return;
      this.seq = Math.max(this.seq ?? 0, ack.seq ?? 0);
      this.ready = true;
      this.failures = 0;
      this.setStatus("online");
      this.call("ready");
    } catch {
      // the socket is being closed; onclose schedules the next try
    }
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (message.type === "ack" || message.type === "error") {
      this.answer(message);
      return;
    }
    if (message.type === "access.changed") {
      window.location.reload(); // the page shows what the new role may do
      return;
    }
    if (message.type === "snapshot") {
      this.seq = message.seq; // may go back if the server's journal was reset: the snapshot is the truth
      this.call("snapshot", message.state, message.seq);
      return;
    }
    if (typeof message.seq === "number") {
      if (this.seq !== null && message.seq <= this.seq) return; // already applied
      this.seq = message.seq;
    }
    this.call(message.type, message);
    this.call("event", message);
  }

  answer(message) {
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.type === "ack") waiting.resolve(message);
    else waiting.reject(new CommandError(message.code, message.message));
  }

  closed(socket, code) {
    if (socket !== this.socket) return;
    this.ready = false;
    this.socket = null;
    for (const [, waiting] of this.pending) {
      clearTimeout(waiting.timer);
      waiting.reject(new CommandError("offline", text.notConnected));
    }
    this.pending.clear();
    if (CLOSED_FOR_GOOD[code]) {
      this.stopped = true;
      this.setStatus(CLOSED_FOR_GOOD[code]);
      return;
    }
    this.failures += 1;
    this.setStatus(this.reconnectingStatus());
    this.retryTimer = setTimeout(() => this.open(), this.delay());
  }

  delay() {
    const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (this.failures - 1));
    return base * (1 + JITTER * (2 * Math.random() - 1));
  }

  reconnectingStatus() {
    return !navigator.onLine || this.failures >= OFFLINE_AFTER_FAILURES ? "offline" : "reconnecting";
  }

  dropConnection() {
    if (!navigator.onLine) {
      this.ready = false; // say so now: closing a socket with no network can take a while
      this.setStatus("offline");
    }
    this.socket?.close();
  }

  reconnectNow() {
    if (this.stopped || this.socket) return;
    this.failures = Math.min(this.failures, 1);
    this.open();
  }

  setStatus(name) {
    this.status = name;
    document.documentElement.dataset.live = name;
    this.call("status", name);
    for (const dot of document.querySelectorAll(".live-status")) showStatus(dot, name);
  }

  call(name, ...args) {
    const handler = this.handlers[name];
    if (!handler) return;
    try {
      handler(...args);
    } catch (error) {
      console.error(`live: the ${name} handler failed`, error); // one broken view must not stop the others
    }
  }
}

export function connectMeeting(meetingId, handlers, options) {
  return new MeetingLink(meetingId, handlers, options);
}

// ---------- the status dot

// Kept here so the indicator looks the same on every page that connects.
const STYLE = `
.live-status { display: inline-flex; align-items: center; gap: .4rem; font-size: .85rem; white-space: nowrap; }
.live-status .live-dot { width: 12px; height: 12px; border-radius: 50%; flex: none;
  box-shadow: 0 0 0 2px rgba(255, 255, 255, .85); background: #9aa5b1; }
.live-status[data-status="online"] .live-dot { background: #2fbf5b; }
.live-status[data-status="connecting"] .live-dot,
.live-status[data-status="reconnecting"] .live-dot { background: #f0a500; animation: live-blink 1s ease-in-out infinite; }
.live-status[data-status="offline"] .live-dot,
.live-status[data-status="signed-out"] .live-dot,
.live-status[data-status="forbidden"] .live-dot,
.live-status[data-status="replaced"] .live-dot { background: #e5372b; }
.live-status[data-status="online"] .live-label { display: none; }
@media (max-width: 560px) { .topbar .live-status .live-label { display: none; } }
@keyframes live-blink { 50% { opacity: .35; } }
`;

function addStyle() {
  if (document.getElementById("live-status-style")) return;
  document.head.append(el("style", { id: "live-status-style", textContent: STYLE }));
}

function showStatus(element, name) {
  element.dataset.status = name;
  element.title = text[name] || name;
  element.querySelector(".live-label").textContent = text[name] || name;
}

// A dot with a label, put in `container` (the top bar by default).
export function statusIndicator(container = document.querySelector(".topbar-right")) {
  addStyle();
  const element = el("span", "live-status", el("span", "live-dot"), el("span", "live-label"));
  element.setAttribute("role", "status");
  showStatus(element, document.documentElement.dataset.live || "connecting");
  container?.prepend(element);
  return element;
}
