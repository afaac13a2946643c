// The meeting page: opens the meeting socket and runs the page's panels on it. Attendance is
// its own: the chair and the secretary start and end the session, watch the quorum and who is
// connected, and the secretary marks people by hand; everyone else sees their own status.
// The other panels come where the template has them: the ballot, and the chair's vote,
// speakers, ward points and recording consoles.

import { el, pickWords, plural, request, syncClock } from "./kit.js";
import { connectMeeting, joinHandlers, statusIndicator } from "./live.js";
import { createBallot } from "./ballot.js";
import { createVoteConsole } from "./vote-console.js";
import { createSpeakerConsole } from "./floor.js";
import { createConferenceConsole } from "./conference-console.js";
import { createRecordingConsole } from "./recording-console.js";
import { createCheckin } from "./checkin.js";

const TEXT = {
  vi: {
    status: { present: "Có mặt", remote: "Trực tuyến", excused: "Vắng có lý do", absent: "Vắng" },
    role: { chair: "Chủ tọa", delegate: "Đại biểu", secretary: "Thư ký", ward_point: "Điểm cầu", observer: "Khách mời" },
    session: { draft: "Chưa bắt đầu", published: "Chưa bắt đầu", live: "Đang họp", closed: "Đã kết thúc" },
    quorum: (q) => `Có mặt ${q.present}/${q.members} đại biểu — cần ít nhất ${q.needed}${q.kind === "hdnd" ? " (2/3 tổng số đại biểu)" : q.kind === "ubnd" ? " (quá nửa tổng số thành viên)" : ""} — ${q.met ? "đủ điều kiện tiến hành" : "chưa đủ điều kiện tiến hành"}`,
    mine: (status) => `Điểm danh của bạn: ${status}`,
    reason: "Lý do",
    expected: { in_person: "Báo dự trực tiếp", online: "Báo dự trực tuyến" },
    online: "Đang kết nối",
    offlineNow: "Không kết nối",
    loading: "Đang tải…",
    confirmEnd: "Kết thúc phiên họp? Các thiết bị sẽ không tự điểm danh nữa.",
  },
  en: {
    status: { present: "Present", remote: "Remote", excused: "Excused", absent: "Absent" },
    role: { chair: "Chair", delegate: "Delegate", secretary: "Secretary", ward_point: "Ward point", observer: "Observer" },
    session: { draft: "Not started", published: "Not started", live: "In session", closed: "Ended" },
    quorum: (q) => `Present ${q.present}/${plural(q.members, "{n} delegate", "{n} delegates")} — at least ${q.needed} needed${q.kind === "hdnd" ? " (2/3 of all delegates)" : q.kind === "ubnd" ? " (more than half of all members)" : ""} — ${q.met ? "quorum met" : "no quorum yet"}`,
    mine: (status) => `Your attendance: ${status}`,
    reason: "Reason",
    expected: { in_person: "Replied: in person", online: "Replied: online" },
    online: "Connected",
    offlineNow: "Not connected",
    loading: "Loading…",
    confirmEnd: "End the session? Devices will stop checking in.",
  },
};
const t = pickWords(TEXT);

const STATUSES = ["present", "remote", "excused", "absent"];
const COUNTED = new Set(["chair", "delegate"]); // who makes the quorum (server/attendance.py MEMBERS)
const HERE = new Set(["present", "remote"]);

const root = document.getElementById("attendance");
const $ = (id) => document.getElementById(id);
const ui = {
  state: $("session-state"),
  start: $("session-start"),
  end: $("session-end"),
  error: $("attendance-error"),
  quorum: $("quorum"),
  list: $("attendance-list"),
  mine: $("my-attendance"),
};
const me = {
  meetingId: Number(root.dataset.meeting),
  userId: Number(root.dataset.user),
  manages: root.dataset.manage === "1",
};
const people = new Map(); // user_id -> {user_id, name, role, status, reason, online}
let rule = { needed: 0, members: 0, kind: "" }; // from the server: the quorum rule lives there
let live = null;

// ---------- showing

let sessionShown = 0; // how many times the session's status was shown: a later answer wins

function showSession(status) {
  sessionShown++;
  root.dataset.status = status;
  showMine();
  ui.state.dataset.status = status;
  ui.state.textContent = t.session[status] || status;
  if (ui.start) ui.start.hidden = status === "live";
  if (ui.end) ui.end.hidden = status !== "live";
}

function quorum() {
  const members = [...people.values()].filter((p) => COUNTED.has(p.role));
  const present = members.filter((p) => HERE.has(p.status)).length;
  return { ...rule, present, met: present >= rule.needed };
}

function showQuorum() {
  if (!ui.quorum) return;
  const q = quorum();
  ui.quorum.textContent = t.quorum(q);
  ui.quorum.classList.toggle("met", q.met);
  ui.quorum.classList.toggle("not-met", !q.met);
}

function showMine() {
  if (!ui.mine) return;
  const mine = people.get(me.userId);
  const notStarted = ["draft", "published"].includes(root.dataset.status) && mine?.status === "absent";
  ui.mine.textContent = mine && !notStarted ? t.mine(t.status[mine.status] || mine.status) : "";
}

function row(person) {
  const dot = el("span", { className: `online-dot${person.online ? " on" : ""}`, title: person.online ? t.online : t.offlineNow });
  const who = el("span", "who", `${person.name} `, el("span", "badge role", t.role[person.role] || person.role));
  // what they answered the giấy mời, until the hall says otherwise
  if (person.status === "absent" && t.expected[person.expected]) who.append(" ", el("span", `badge expected ${person.expected}`, t.expected[person.expected]));
  const li = el("li", { dataset: { user: person.user_id, status: person.status } }, dot, who);
  if (me.manages) li.append(statusPicker(person), reasonField(person));
  else li.append(statusWord(person));
  return li;
}

function statusWord(person) {
  return el("span", `status-word ${person.status}`, t.status[person.status] + (person.reason ? ` — ${person.reason}` : ""));
}

function statusPicker(person) {
  const select = el("select", { name: "status" });
  select.setAttribute("aria-label", `${person.name}: ${t.status[person.status]}`);
  for (const status of STATUSES) {
    const option = new Option(t.status[status], status, false, status === person.status);
    select.append(option);
  }
  select.addEventListener("change", () => {
    const reason = select.closest("li").querySelector("input.reason");
    if (select.value === "excused") reason.hidden = false;
    mark(person.user_id, select.value, reason.value.trim());
  });
  return select;
}

function reasonField(person) {
  const input = el("input", {
    className: "reason",
    name: "reason",
    maxLength: 300,
    placeholder: t.reason,
    value: person.reason,
    hidden: person.status !== "excused" && !person.reason, // a reason matters for leave, not for every absence
  });
  input.setAttribute("aria-label", `${person.name}: ${t.reason}`);
  input.addEventListener("change", () => {
    const current = people.get(person.user_id);
    mark(person.user_id, current.status, input.value.trim());
  });
  return input;
}

function showPeople() {
  if (ui.list) ui.list.replaceChildren(...[...people.values()].map(row));
  showQuorum();
  showMine();
}

function showPerson(userId) {
  const person = people.get(userId);
  const old = ui.list?.querySelector(`li[data-user="${userId}"]`);
  if (person && old) {
    const focused = old.contains(document.activeElement) ? document.activeElement.name : null;
    const fresh = row(person);
    old.replaceWith(fresh);
    if (focused) fresh.querySelector(`[name=${focused}]`)?.focus();
  }
  showQuorum();
  showMine();
}

function showError(message) {
  ui.error.textContent = message || "";
}

// ---------- doing

async function mark(userId, status, reason) {
  showError("");
  try {
    await live.send("attendance.set", { user_id: userId, status, reason });
  } catch (error) {
    showError(error.message);
    showPerson(userId); // back to what the server holds
  }
}

async function session(action, button) {
  if (action === "end" && !window.confirm(t.confirmEnd)) return;
  showError("");
  button.disabled = true;
  try {
    showSession((await request("POST", `/api/meetings/${me.meetingId}/session/${action}`)).status);
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
  }
}

// ---------- the socket

function onSnapshot(state) {
  const attendance = state.attendance || { people: [], quorum: {} };
  people.clear();
  for (const person of attendance.people) people.set(person.user_id, { ...person });
  takeRule(attendance.quorum);
  showPeople();
}

// All delegates of the council (not those in the meeting) and what the law asks of them.
function takeRule(given) {
  if (!given) return;
  rule = { needed: given.needed ?? 0, members: given.members ?? 0, kind: given.kind || "" };
}

function onAttendance(event) {
  takeRule(event.quorum);
  const person = people.get(event.user_id);
  if (!person) return;
  person.status = event.status;
  person.reason = event.reason || "";
  showPerson(event.user_id);
}

function onPresence(event) {
  const person = people.get(event.user_id);
  if (!person) return;
  person.online = event.online;
  const dot = ui.list?.querySelector(`li[data-user="${event.user_id}"] .online-dot`);
  if (dot) {
    dot.classList.toggle("on", event.online);
    dot.title = event.online ? t.online : t.offlineNow;
  }
}

// "2.1. Title" of an agenda item, from the console's list of items.
function itemLabel(id) {
  if (id == null) return "";
  return document.querySelector(`#vote-form select[name=item_id] option[value="${id}"]`)?.textContent || "";
}

// The page's other live panels, where the template has them.
function otherPanels() {
  const panels = [];
  if ($("ballot")) {
    const showResult = !$("vote-console"); // the console shows it to the chair
    panels.push(createBallot($("ballot"), { canVote: root.dataset.vote === "1", showResult, userId: me.userId }));
  }
  if ($("vote-console")) panels.push(createVoteConsole($("vote-console"), { meetingId: me.meetingId }));
  if ($("floor-console")) panels.push(createSpeakerConsole($("floor-console"), { itemLabel }));
  if ($("points-console")) panels.push(createConferenceConsole($("points-console"), { meetingId: me.meetingId }));
  if ($("recording-console")) panels.push(createRecordingConsole($("recording-console"), { meetingId: me.meetingId }));
  if ($("checkin")) panels.push(createCheckin($("checkin"), { meetingId: me.meetingId }));
  if (panels.length) syncClock();
  return panels;
}

function start() {
  showSession(root.dataset.status);
  if (ui.quorum) ui.quorum.textContent = t.loading;
  ui.start?.addEventListener("click", () => session("start", ui.start));
  ui.end?.addEventListener("click", () => session("end", ui.end));
  statusIndicator();
  const panels = otherPanels();
  live = connectMeeting(me.meetingId, joinHandlers({
    snapshot: onSnapshot,
    "attendance.changed": onAttendance,
    "presence.changed": onPresence,
    "meeting.started": () => {
      showSession("live");
      live.send("attendance.here").catch(() => {});
    },
    "meeting.ended": () => showSession("closed"),
    ready: refreshSession,
  }, ...panels.map((panel) => panel.handlers)), { resume: false });
  for (const panel of panels) panel.attach(live);
}

// The snapshot has no session status; after a reconnect it may have changed unseen.
async function refreshSession() {
  const asked = sessionShown;
  try {
    const { status } = await request("GET", `/api/meetings/${me.meetingId}`);
    if (sessionShown === asked) showSession(status); // else a start or end came after we asked
  } catch {
    // the next event or reconnect tells
  }
}

start();
