// What every page's script needs: the page's language, elements and buttons, JSON requests
// to the server (CSRF token, the server's refusal as an error), and the server's clock.
//
//   const t = pickWords(TEXT);                     // TEXT.en on an English page, else TEXT.vi
//   const row = el("li", { className: "floor-row", dataset: { request: 7 } }, name, small);
//   const vote = await request("POST", `/api/votes/${id}/close`);

// ---------- the page's language

export function lang() {
  return document.documentElement.lang === "en" ? "en" : "vi";
}

// A module's table of words {vi: {...}, en: {...}}: the page's language, Vietnamese otherwise.
export function pickWords(table) {
  return table[lang()] || table.vi;
}

export function say(vi, en) {
  return lang() === "en" ? en : vi;
}

// English counts: `one` for 1, else `many`; "{n}" in either is the count. Vietnamese has one
// form, so its tables need none of this.
//   plural(3, "{n} page", "{n} pages") -> "3 pages"
export function plural(n, one, many) {
  return (n === 1 ? one : many).replaceAll("{n}", String(n));
}

// The one message for a request that went wrong without the server saying why.
export const failedText = say(
  "Không thực hiện được. Kiểm tra mạng rồi thử lại.",
  "That did not work. Check the network and try again.",
);

// ---------- elements

// `props` is a class name, or properties to set ({className, id, dataset, ...}); children are
// nodes or text (empty ones left out).
export function el(tag, props = "", ...children) {
  const element = document.createElement(tag);
  if (typeof props === "string") {
    if (props) element.className = props;
  } else {
    const { dataset, ...rest } = props;
    Object.assign(element, rest);
    if (dataset) Object.assign(element.dataset, dataset);
  }
  for (const child of children) {
    if (child !== "" && child != null && child !== false) element.append(child);
  }
  return element;
}

export function button(label, onClick, props = "") {
  const element = el("button", props, label);
  element.type = "button";
  element.addEventListener("click", onClick);
  return element;
}

// ---------- requests

// The token the server wants in X-CSRFToken on every request that changes something.
export function csrfToken() {
  return document.querySelector("meta[name=csrf-token]")?.content || "";
}

// Sends `body` as JSON and gives the answer's JSON. A refusal throws an Error with the
// server's {code, message} and the HTTP status; no answer at all throws one with status 0.
// `failed` is the message when the server gives none; `signal` aborts (an AbortError).
export async function request(method, url, body, { signal, failed = failedText } = {}) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw refusal(0, {}, failed);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw refusal(response.status, answer, failed);
  return answer;
}

function refusal(status, answer, failed) {
  const error = new Error(answer.message || failed);
  error.status = status;
  error.code = answer.code || null;
  return error;
}

// ---------- the server's clock

// Countdowns end when the server says; a tablet's own clock may be minutes off on a LAN
// without time sync, so it is set against the server's Date header once per page.
let clockOffset = 0; // server time minus this device's time, in ms

export async function syncClock() {
  try {
    const sent = Date.now();
    const response = await fetch("/healthz", { cache: "no-store" });
    const received = Date.now();
    const date = Date.parse(response.headers.get("Date") || "");
    if (Number.isNaN(date)) return;
    const offset = date + 500 - (sent + received) / 2; // the header is cut to the second
    clockOffset = Math.abs(offset) > 1500 ? offset : 0; // under that it is noise
  } catch {
    // no answer: this device's clock it is
  }
}

export function serverNow() {
  return Date.now() + clockOffset;
}

// Whole seconds until `isoTime` (negative once it has passed).
export function secondsUntil(isoTime) {
  return Math.ceil((Date.parse(isoTime) - serverNow()) / 1000);
}

// "4:05", "1:02:03": for a number of seconds, sign left out.
export function clockText(seconds) {
  const s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

// Calls `fn` now and twice a second until the returned function is called.
export function everyHalfSecond(fn) {
  fn();
  const timer = setInterval(fn, 500);
  return () => clearInterval(timer);
}
