// The floor (phát biểu): a delegate or ward point asks to speak and sees their place and
// their time; the chair's console gives the floor, orders the queue and ends turns. Also
// the clock every countdown of the meeting uses (speaking turns, timed votes).
//
//   const floor = createFloor({ button, place, banner, notify, itemOf });
//   const link = connectMeeting(id, joinHandlers(mine, floor.handlers));
//   floor.attach(link);

import { button, clockText, el, everyHalfSecond, failedText, pickWords, serverNow } from "./kit.js";
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
    needsLink: "Cần có mạng để đăng ký phát biểu",
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
    needsLink: "Asking to speak needs the network",
  },
};
export const floorText = pickWords(TEXT);
const t = floorText;

// ---------- the clock of a turn

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
    const cut = link && link.status !== "online" && link.status !== "connecting";
    request.title = cut ? t.needsLink : "";
    place.textContent = cut ? t.needsLink : me?.place ? t.place(me.place) : "";
    showBanner(me?.speaking ? queue.speaking : null);
  }

  function showBanner(speaking) {
    stopClock?.();
    stopClock = null;
    banner.hidden = !speaking;
    if (!speaking) return;
    const clock = el("span", "floor-clock");
    banner.replaceChildren(el("strong", "", t.youSpeak), clock);
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
      notify(error.message || failedText);
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
      ui.now.replaceChildren(el("p", "muted", t.nobody));
      return;
    }
    const clock = el("span", { className: "floor-clock", id: "floor-clock" });
    const end = button(t.end, () => run("speaker.end"), { className: "danger floor-end", id: "floor-end" });
    ui.now.replaceChildren(el("span", "floor-label", t.speaking), el("strong", "floor-name", speaking.name), clock, end);
    stopClock = everyHalfSecond(() => {
      const now = turnClock(speaking);
      clock.textContent = now.text;
      ui.now.classList.toggle("over", now.over);
    });
  }

  function waitingRow(entry, index, count) {
    const about = itemLabel(entry.item_id);
    const who = el("span", "floor-who", entry.name, about && el("small", "muted", about));
    const up = button("↑", () => run("speaker.move", { request_id: entry.request_id, position: index }), "icon");
    up.disabled = index === 0;
    up.setAttribute("aria-label", `${t.up}: ${entry.name}`);
    up.dataset.move = "up";
    const down = button("↓", () => run("speaker.move", { request_id: entry.request_id, position: index + 2 }), "icon");
    down.disabled = index === count - 1;
    down.setAttribute("aria-label", `${t.down}: ${entry.name}`);
    down.dataset.move = "down";
    const give = button(t.give, () => giveTo(entry), "primary floor-give");
    return el("li", { dataset: { request: entry.request_id } }, el("span", "floor-number", `${index + 1}.`), who, up, down, give);
  }

  function showWaiting() {
    const rows = queue.waiting.map((entry, i) => waitingRow(entry, i, queue.waiting.length));
    if (!rows.length) rows.push(el("li", "muted floor-none", t.noQueue));
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
    return sendFromPanel({ root, error: ui.error, link }, type, fields);
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
