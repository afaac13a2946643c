// The floor (phát biểu): a delegate or ward point asks to speak and sees their place and
// their time; the chair's console gives the floor, orders the queue and ends turns. Also
// the clock every countdown of the meeting uses (speaking turns, timed votes).
//
//   const floor = createFloor({ button, place, banner, notify, itemOf });
//   const link = connectMeeting(id, joinHandlers(mine, floor.handlers));
//   floor.attach(link);

import { sendFromPanel } from "./live.js";

const TEXT = {
  vi: {
    request: "Đăng ký phát biểu",
    withdraw: "Rút đăng ký",
    place: (n) => `Bạn đứng thứ ${n}`,
    youSpeak: "Bạn đang phát biểu",
    left: (clock) => `Còn ${clock}`,
    over: (clock) => `Hết giờ +${clock}`,
    spoken: (clock) => `Đã nói ${clock}`,
    speaking: "Đang phát biểu",
    nobody: "Chưa có ai phát biểu.",
    noQueue: "Chưa có ai đăng ký phát biểu.",
    next: "Tiếp theo",
    give: "Mời phát biểu",
    end: "Kết thúc lượt",
    up: "Lên",
    down: "Xuống",
    failed: "Không thực hiện được. Kiểm tra mạng rồi thử lại.",
  },
  en: {
    request: "Ask to speak",
    withdraw: "Withdraw",
    place: (n) => `You are number ${n} in the queue`,
    youSpeak: "You have the floor",
    left: (clock) => `${clock} left`,
    over: (clock) => `Time is up +${clock}`,
    spoken: (clock) => `Spoken ${clock}`,
    speaking: "Speaking",
    nobody: "Nobody is speaking.",
    noQueue: "Nobody has asked to speak.",
    next: "Next",
    give: "Give the floor",
    end: "End the turn",
    up: "Up",
    down: "Down",
    failed: "That did not work. Check the network and try again.",
  },
};
export const floorText = TEXT[document.documentElement.lang] || TEXT.vi;
const t = floorText;

// ---------- the meeting's clock

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

// What a speaking turn's clock says: {text, over, left} (left is null without a limit).
export function turnClock(speaking) {
  if (!speaking?.started_at) return { text: "", over: false, left: null };
  const spoken = Math.max(0, Math.floor((serverNow() - Date.parse(speaking.started_at)) / 1000));
  if (!speaking.time_limit_s) return { text: t.spoken(clockText(spoken)), over: false, left: null };
  const left = speaking.time_limit_s - spoken;
  return left >= 0
    ? { text: t.left(clockText(left)), over: false, left }
    : { text: t.over(clockText(-left)), over: true, left };
}

// Calls `fn` now and twice a second until the returned function is called.
export function everyHalfSecond(fn) {
  fn();
  const timer = setInterval(fn, 500);
  return () => clearInterval(timer);
}

// The live events that carry the speakers' queue, for any view of it.
function queueEvents(take) {
  return {
    snapshot(state) {
      take(state.speakers || { speaking: null, waiting: [] });
    },
    "speakers.changed"(event) {
      take(event);
    },
  };
}

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

// ---------- the delegate's side (reader)

// `button`, `place` and `banner` are elements of the page; `notify(text)` shows a refusal;
// `itemOf()` gives the agenda item the request is about (the presented one), or null.
export function createFloor({ userId, button: request, place, banner, notify, itemOf = () => null }) {
  let link = null;
  let queue = { speaking: null, waiting: [] };
  let busy = false;
  let stopClock = null;
  const label = request.querySelector(".floor-request-text") || request;

  function mine() {
    if (queue.speaking?.user_id === userId) return { speaking: true };
    const index = queue.waiting.findIndex((entry) => entry.user_id === userId);
    return index === -1 ? null : { place: index + 1 };
  }

  function show() {
    const me = mine();
    request.hidden = Boolean(me?.speaking);
    label.textContent = me ? t.withdraw : t.request;
    request.classList.toggle("waiting", Boolean(me));
    request.setAttribute("aria-pressed", String(Boolean(me)));
    request.disabled = busy || !link?.ready;
    place.textContent = me?.place ? t.place(me.place) : "";
    showBanner(me?.speaking ? queue.speaking : null);
  }

  function showBanner(speaking) {
    stopClock?.();
    stopClock = null;
    banner.hidden = !speaking;
    if (!speaking) return;
    const title = document.createElement("strong");
    title.textContent = t.youSpeak;
    const clock = document.createElement("span");
    clock.className = "floor-clock";
    banner.replaceChildren(title, clock);
    stopClock = everyHalfSecond(() => {
      const now = turnClock(speaking);
      clock.textContent = now.text;
      banner.classList.toggle("over", now.over);
    });
  }

  async function toggle() {
    if (busy || !link) return;
    const asking = !mine();
    busy = true;
    show();
    try {
      const item = asking ? itemOf() : null;
      await link.send(asking ? "speaker.request" : "speaker.withdraw", item ? { item_id: item } : {});
    } catch (error) {
      notify(error.message || t.failed);
    } finally {
      busy = false;
      show();
    }
  }

  request.addEventListener("click", toggle);
  show();
  return {
    attach(meetingLink) {
      link = meetingLink;
    },
    handlers: {
      ...queueEvents((speakers) => {
        queue = speakers;
        show();
      }),
      status: show,
      ready: show,
    },
  };
}

// ---------- the chair's console (meeting page)

// `root` holds #floor-now, #floor-waiting, #floor-limit (a select of seconds) and
// #floor-error; `itemLabel(id)` names an agenda item.
export function createSpeakerConsole(root, { itemLabel = () => "" } = {}) {
  const $ = (selector) => root.querySelector(selector);
  const ui = { now: $("#floor-now"), waiting: $("#floor-waiting"), limit: $("#floor-limit"), error: $("#floor-error") };
  let link = null;
  let queue = { speaking: null, waiting: [] };
  let stopClock = null;

  function showNow() {
    stopClock?.();
    stopClock = null;
    const speaking = queue.speaking;
    ui.now.classList.toggle("empty", !speaking);
    if (!speaking) {
      const none = document.createElement("p");
      none.className = "muted";
      none.textContent = t.nobody;
      ui.now.replaceChildren(none);
      return;
    }
    const label = document.createElement("span");
    label.className = "floor-label";
    label.textContent = t.speaking;
    const name = document.createElement("strong");
    name.className = "floor-name";
    name.textContent = speaking.name;
    const clock = document.createElement("span");
    clock.className = "floor-clock";
    clock.id = "floor-clock";
    const end = button(t.end, "danger floor-end", () => run("speaker.end"));
    end.id = "floor-end";
    ui.now.replaceChildren(label, name, clock, end);
    stopClock = everyHalfSecond(() => {
      const now = turnClock(speaking);
      clock.textContent = now.text;
      ui.now.classList.toggle("over", now.over);
    });
  }

  function waitingRow(entry, index, count) {
    const li = document.createElement("li");
    li.dataset.request = entry.request_id;
    const number = document.createElement("span");
    number.className = "floor-number";
    number.textContent = `${index + 1}.`;
    const who = document.createElement("span");
    who.className = "floor-who";
    who.textContent = entry.name;
    const about = itemLabel(entry.item_id);
    if (about) {
      const item = document.createElement("small");
      item.className = "muted";
      item.textContent = about;
      who.append(item);
    }
    const up = button("↑", "icon", () => run("speaker.move", { request_id: entry.request_id, position: index }));
    up.disabled = index === 0;
    up.setAttribute("aria-label", `${t.up}: ${entry.name}`);
    up.dataset.move = "up";
    const down = button("↓", "icon", () => run("speaker.move", { request_id: entry.request_id, position: index + 2 }));
    down.disabled = index === count - 1;
    down.setAttribute("aria-label", `${t.down}: ${entry.name}`);
    down.dataset.move = "down";
    const give = button(t.give, "primary floor-give", () => giveTo(entry));
    li.append(number, who, up, down, give);
    return li;
  }

  function showWaiting() {
    const rows = queue.waiting.map((entry, i) => waitingRow(entry, i, queue.waiting.length));
    if (!rows.length) {
      const none = document.createElement("li");
      none.className = "muted floor-none";
      none.textContent = t.noQueue;
      rows.push(none);
    }
    ui.waiting.replaceChildren(...rows);
  }

  function show() {
    showNow();
    showWaiting();
  }

  function giveTo(entry) {
    const seconds = Number(ui.limit.value) || null;
    run("speaker.give", seconds ? { request_id: entry.request_id, time_limit_s: seconds } : { request_id: entry.request_id });
  }

  function run(type, fields = {}) {
    return sendFromPanel({ root, error: ui.error, link, failed: t.failed }, type, fields);
  }

  show();
  return {
    attach(meetingLink) {
      link = meetingLink;
    },
    handlers: {
      ...queueEvents((speakers) => {
        queue = speakers;
        show();
      }),
    },
  };
}
