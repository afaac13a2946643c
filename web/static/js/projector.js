// The hall's big screen: shows the page the chair presents, what it belongs to, and the time;
// who has the floor and for how long; an open vote's count, then its result.
// Needs no input once opened: it reconnects forever and catches up on its own.

import { el, everyHalfSecond, pickWords, request, say, syncClock } from "./kit.js";
import { connectMeeting, statusIndicator } from "./live.js";
import { floorText, turnClock } from "./floor.js";
import { eligibleIn, progressText, resultView, voteClock, voteText } from "./vote-result.js";
import { decoded, documentInfo, pageImageUrl, pageName, pageSize, presentedText } from "./presented.js";

const TEXT = {
  vi: {
    signedOut: "Phiên đăng nhập đã hết. Hãy đăng nhập lại trên máy này.",
    forbidden: "Tài khoản này không được xem cuộc họp.",
  },
  en: {
    signedOut: "The session has ended. Sign in again on this computer.",
    forbidden: "This account may not see the meeting.",
  },
};
const t = pickWords(TEXT);

const MAX_WIDTH = 2048;
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
  floor: $("projector-floor"),
  floorLabel: $("projector-floor-label"),
  speaker: $("projector-speaker"),
  turn: $("projector-turn"),
  next: $("projector-next"),
  vote: $("projector-vote"),
};
const waiting = ui.message.textContent; // from the template, in the page's language
const agenda = JSON.parse($("agenda-items").textContent || "{}");
let shown = null; // the presented event now on screen
let ticket = 0;

function imageWidth() {
  return Math.min(MAX_WIDTH, Math.ceil(window.screen.width * (window.devicePixelRatio || 1)));
}

function showFacts(event, doc) {
  const item = agenda[String(event.item_id)];
  ui.number.textContent = item ? `${item.number}.` : "";
  ui.itemTitle.textContent = item ? item.title : "";
  ui.doc.textContent = event.title || doc?.title || "";
  ui.page.textContent = pageName(event, doc);
}

async function present(event) {
  if (shownVote?.status === "closed" && event.seq !== shown?.seq) showVote(null); // the meeting moved on
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
    ui.message.textContent = presentedText.cannotShow;
    return;
  }
  if (mine !== ticket) return;
  showFacts(event, doc);
  const [w, h] = pageSize(doc, event.page);
  document.body.classList.toggle("wide-page", w > h);
  await showImage(pageImageUrl(doc, event.page, imageWidth()), mine);
}

// Loads the page off screen, then swaps it in: the hall never sees a blank screen.
async function showImage(url, mine) {
  if (!(await decoded(url, () => mine === ticket))) return;
  ui.image.src = url;
  ui.image.alt = `${ui.doc.textContent} — ${ui.page.textContent}`;
  ui.image.hidden = false;
  ui.message.textContent = "";
}

// ---------- the floor: who speaks, their time, and who is next

let stopTurnClock = null;

function showSpeakers(queue) {
  stopTurnClock?.();
  stopTurnClock = null;
  const speaking = queue?.speaking;
  const next = queue?.waiting?.[0];
  ui.floor.hidden = !speaking && !next;
  ui.floor.classList.toggle("idle", !speaking);
  ui.floorLabel.textContent = speaking ? floorText.speaking : "";
  ui.speaker.textContent = speaking?.name || "";
  ui.next.textContent = next ? `${floorText.next}: ${next.name}` : "";
  ui.turn.textContent = "";
  if (!speaking) return;
  stopTurnClock = everyHalfSecond(() => {
    const turn = turnClock(speaking);
    ui.turn.textContent = turn.text;
    ui.floor.classList.toggle("over", turn.over);
  });
}

// ---------- votes: the count while open, the result after the close

let shownVote = null;
let voteProgress = null;
let eligible = 0; // from the snapshot's attendance, until the server counts
let stopVoteClock = null;

function voteHeading(kicker, title) {
  return el("header", "", el("p", "projector-vote-kicker", kicker), el("h2", "projector-vote-title", title));
}

function openVoteView(vote) {
  const count = el("p", "projector-vote-count", progressText(voteProgress));
  const meter = el("div", "projector-vote-meter", el("span"));
  return [voteHeading(voteText.votingNow, vote.title), count, meter, el("p", "projector-vote-clock")];
}

function showVoteProgress() {
  const count = ui.vote.querySelector(".projector-vote-count");
  if (!count) return;
  count.textContent = progressText(voteProgress);
  const share = voteProgress?.eligible ? Math.min(1, voteProgress.voters / voteProgress.eligible) : 0;
  ui.vote.querySelector(".projector-vote-meter span").style.width = `${share * 100}%`;
}

// Counts per option only: on the hall's screen, names would be too small to read anyway.
function showVote(vote) {
  stopVoteClock?.();
  stopVoteClock = null;
  if (vote?.id !== shownVote?.id) voteProgress = vote ? { voters: vote.voters ?? 0, eligible } : null;
  shownVote = vote;
  ui.vote.hidden = !vote;
  document.body.classList.toggle("voting", Boolean(vote));
  if (!vote) {
    ui.vote.replaceChildren();
    return;
  }
  ui.vote.dataset.status = vote.status;
  if (vote.status === "closed") {
    ui.vote.replaceChildren(voteHeading(voteText.result, vote.title), resultView(vote, { names: false }));
    return;
  }
  ui.vote.replaceChildren(...openVoteView(vote));
  showVoteProgress();
  if (vote.closes_at) {
    stopVoteClock = everyHalfSecond(() => {
      ui.vote.querySelector(".projector-vote-clock").textContent = voteClock(vote);
    });
  }
}

async function catchUpVote(id) {
  try {
    const found = await request("GET", `/api/votes/${id}`);
    if (shownVote?.id !== id) return;
    if (found.status === "closed") showVote(found);
    else {
      voteProgress = { voters: Math.max(found.voters, voteProgress?.voters ?? 0), eligible: voteProgress?.eligible || eligible };
      showVoteProgress();
    }
  } catch {
    // the next progress message tells
  }
}

function onSnapshot(state) {
  eligible = eligibleIn(state) || eligible;
  if (state.presented) present(state.presented);
  showSpeakers(state.speakers);
  if (state.vote) {
    showVote(state.vote);
    catchUpVote(state.vote.id);
  } else if (shownVote?.status === "open") {
    catchUpVote(shownVote.id); // closed while the screen was away: show its result
  }
}

function onStatus(status) {
  if (status === "signed-out") ui.message.textContent = t.signedOut;
  else if (status === "forbidden") ui.message.textContent = t.forbidden;
  else if (!shown) ui.message.textContent = waiting;
}

const locale = say("vi-VN", "en-GB");

function tick() {
  const now = new Date();
  ui.clock.textContent = now.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  ui.clock.dateTime = now.toISOString();
  ui.date.textContent = now.toLocaleDateString(locale, {
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
  syncClock();
  connectMeeting(Number(document.body.dataset.meeting), {
    snapshot: onSnapshot,
    "page.presented": present,
    "speakers.changed": showSpeakers,
    "vote.opened": (event) => showVote(event.vote),
    "vote.closed": (event) => showVote(event.vote),
    "vote.progress"(event) {
      if (shownVote?.id !== event.vote_id || shownVote.status !== "open") return;
      voteProgress = { voters: event.voters, eligible: event.eligible };
      showVoteProgress();
    },
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
