// Votes (biểu quyết): the delegate's ballot (reader and meeting page), the result everyone
// sees after the close (also drawn on the projector), and the chair's vote console.
//
//   const ballot = createBallot(element, { canVote: true, overlay: true });
//   const link = connectMeeting(id, joinHandlers(mine, ballot.handlers));
//   ballot.attach(link);

import { button, clockText, el, everyHalfSecond, failedText, pickWords, request, secondsUntil } from "./kit.js";

const TEXT = {
  vi: {
    yes: "Tán thành",
    no: "Không tán thành",
    abstain: "Không biểu quyết",
    voting: "Biểu quyết",
    votingNow: "Đang biểu quyết",
    progress: (voters, eligible) => (eligible ? `Đã biểu quyết ${voters}/${eligible}` : `Đã biểu quyết ${voters}`),
    left: (clock) => `Còn ${clock}`,
    timeUp: "Hết giờ — đang khóa phiếu…",
    secret: "Bỏ phiếu kín",
    named: "Biểu quyết công khai",
    chooseUpTo: (n) => (n === 1 ? "Chọn 1 phương án" : `Chọn tối đa ${n} phương án`),
    send: "Gửi phiếu",
    confirm: (choice) => `Xác nhận: ${choice}?`,
    confirmYes: "Xác nhận",
    cancel: "Hủy",
    sending: "Đang gửi phiếu…",
    voted: (choice) => (choice ? `Đã biểu quyết: ${choice}` : "Bạn đã biểu quyết"),
    change: "Đổi phiếu",
    watching: "Bạn theo dõi biểu quyết này, không bỏ phiếu.",
    minimize: "Xem tài liệu",
    reopen: "Mở phiếu",
    dismiss: "Đóng",
    result: "Kết quả biểu quyết",
    passed: "THÔNG QUA",
    failed: "KHÔNG THÔNG QUA",
    chosen: "Được chọn",
    elected: "Trúng cử",
    noneChosen: "KHÔNG CÓ PHƯƠNG ÁN ĐƯỢC CHỌN",
    noneElected: "KHÔNG CÓ NGƯỜI TRÚNG CỬ",
    rule: (needed, base, threshold, over) => `Cần ≥ ${needed}/${base} — ${threshold} ${over}`,
    threshold: { half: "quá nửa", two_thirds: "ít nhất 2/3", three_quarters: "ít nhất 3/4", share: (p) => `ít nhất ${p}%` },
    base: { cast: "số phiếu biểu quyết", present: "số đại biểu có mặt", members: "tổng số đại biểu của Hội đồng" },
    turnout: (voters) => `${voters} đại biểu đã biểu quyết`,
    quorumMet: (voters, quorum) => `Đủ số đại biểu tham gia tối thiểu: ${voters}/${quorum}`,
    quorumNotMet: (voters, quorum) => `Không đủ số đại biểu tham gia tối thiểu: ${voters}/${quorum}`,
    whoVoted: (n) => `Danh sách biểu quyết (${n} đại biểu)`,
    nobodyChose: "Không ai",
    kinds: { yes_no_abstain: "Tán thành / Không tán thành", single: "Chọn một phương án", multiple: "Chọn nhiều phương án", election: "Bầu cử" },
    draft: "Chưa mở",
    open: "Mở biểu quyết",
    close: "Kết thúc biểu quyết",
    confirmClose: (progress) => `Kết thúc biểu quyết bây giờ? ${progress}.`,
    closeNow: "Kết thúc",
    notYet: "Chưa",
    discard: "Bỏ, tạo biểu quyết khác",
    newVote: "Biểu quyết mới",
    liveTally: "Kiểm phiếu trực tiếp",
    tallyHidden: "Bỏ phiếu kín: chỉ đếm số người đã bỏ phiếu.",
    noTallyYet: "Chưa có phiếu.",
    duration: (clock) => `thời gian ${clock}`,
    byHand: { hands: "Biểu quyết bằng hình thức giơ tay: không bỏ phiếu trên máy tính bảng.", paper: "Bỏ phiếu kín bằng phiếu giấy: không bỏ phiếu trên máy tính bảng." },
    methods: { electronic: "Trên máy tính bảng", hands: "Giơ tay", paper: "Phiếu giấy" },
    needs: (needed, base, basis, election) => (election ? `Mỗi người trúng cử cần ít nhất ${needed}/${base} phiếu (${basis})` : `Cần ít nhất ${needed}/${base} đại biểu tán thành (${basis})`),
    needsCast: (threshold) => `Cần ${threshold} số phiếu biểu quyết tán thành`,
    basis: { members: "tổng số đại biểu của Hội đồng", present: "số đại biểu có mặt lúc này" },
    countTitle: "Kết quả kiểm phiếu (Ban kiểm phiếu)",
    showOnTablets: "Hiện nội dung biểu quyết trên máy tính bảng",
    countVoters: "Số phiếu hợp lệ / số đại biểu biểu quyết",
    countSave: "Ghi kết quả kiểm phiếu",
    countedBy: (name, method) => `${method === "paper" ? "Kiểm phiếu thủ công" : "Đếm biểu quyết giơ tay"}: ${name}`,
  },
  en: {
    yes: "In favour",
    no: "Against",
    abstain: "Abstain",
    voting: "Vote",
    votingNow: "Voting",
    progress: (voters, eligible) => (eligible ? `Voted ${voters}/${eligible}` : `Voted ${voters}`),
    left: (clock) => `${clock} left`,
    timeUp: "Time is up — closing…",
    secret: "Secret ballot",
    named: "Named vote",
    chooseUpTo: (n) => (n === 1 ? "Choose 1 option" : `Choose up to ${n} options`),
    send: "Cast the ballot",
    confirm: (choice) => `Confirm: ${choice}?`,
    confirmYes: "Confirm",
    cancel: "Cancel",
    sending: "Sending the ballot…",
    voted: (choice) => (choice ? `Voted: ${choice}` : "You have voted"),
    change: "Change my vote",
    watching: "You follow this vote; you do not vote in it.",
    minimize: "Back to the document",
    reopen: "Open the ballot",
    dismiss: "Close",
    result: "Result of the vote",
    passed: "PASSED",
    failed: "NOT PASSED",
    chosen: "Chosen",
    elected: "Elected",
    noneChosen: "NO OPTION CHOSEN",
    noneElected: "NOBODY ELECTED",
    rule: (needed, base, threshold, over) => `Needs ≥ ${needed}/${base} — ${threshold} ${over}`,
    threshold: { half: "more than half of", two_thirds: "at least 2/3 of", three_quarters: "at least 3/4 of", share: (p) => `at least ${p}% of` },
    base: { cast: "the votes cast", present: "the members present", members: "all delegates of the council" },
    turnout: (voters) => (voters === 1 ? "1 member voted" : `${voters} members voted`),
    quorumMet: (voters, quorum) => `Minimum turnout met: ${voters}/${quorum}`,
    quorumNotMet: (voters, quorum) => `Minimum turnout not met: ${voters}/${quorum}`,
    whoVoted: (n) => `Who voted what (${n})`,
    nobodyChose: "Nobody",
    kinds: { yes_no_abstain: "In favour / against", single: "One option", multiple: "Several options", election: "Election" },
    draft: "Not open yet",
    open: "Open the vote",
    close: "Close the vote",
    confirmClose: (progress) => `Close the vote now? ${progress}.`,
    closeNow: "Close it",
    notYet: "Not yet",
    discard: "Drop it, make another vote",
    newVote: "New vote",
    liveTally: "Live count",
    tallyHidden: "Secret ballot: only the number of voters is counted.",
    noTallyYet: "No ballots yet.",
    duration: (clock) => `time ${clock}`,
    byHand: { hands: "A show of hands: nothing to cast on the tablet.", paper: "Paper ballots: nothing to cast on the tablet." },
    methods: { electronic: "On the tablets", hands: "Show of hands", paper: "Paper ballots" },
    needs: (needed, base, basis, election) => (election ? `Each elected candidate needs at least ${needed}/${base} votes (${basis})` : `Needs at least ${needed}/${base} delegates in favour (${basis})`),
    needsCast: (threshold) => `Needs ${threshold} the votes cast in favour`,
    basis: { members: "all delegates of the council", present: "delegates present now" },
    countTitle: "The tally committee's count",
    showOnTablets: "Show the question on the tablets",
    countVoters: "Valid ballots / delegates who voted",
    countSave: "Record the count",
    countedBy: (name, method) => `${method === "paper" ? "Counted by hand" : "Hands counted"}: ${name}`,
  },
};
export const voteText = pickWords(TEXT);
const t = voteText;

const VOTERS = new Set(["chair", "delegate"]); // who may vote (server/votes.py VOTERS)

// ---------- helpers shared by every view of a vote

// The words for an option: ours for in favour / against / abstain, the vote's own otherwise.
export function optionLabel(vote, key) {
  if (vote.kind === "yes_no_abstain" && t[key]) return t[key];
  const option = vote.options?.find((o) => o.key === key);
  return option?.label ?? vote.result?.labels?.[key] ?? key;
}

export function progressText(progress) {
  return t.progress(progress?.voters ?? 0, progress?.eligible ?? 0);
}

function thresholdWords(threshold) {
  if (t.threshold[threshold] && typeof t.threshold[threshold] === "string") return t.threshold[threshold];
  const share = Number(threshold);
  return Number.isFinite(share) ? t.threshold.share(Math.round(share * 1000) / 10) : threshold;
}

// What a vote needs, in words, before it opens: "Cần ít nhất 16/30 đại biểu tán thành".
export function requirementText(vote, requirement) {
  if (!requirement) return "";
  if (requirement.needed == null) return t.needsCast(thresholdWords(vote.threshold));
  const basis = t.basis[vote.majority_base] || "";
  return t.needs(requirement.needed, requirement.base, basis, vote.kind === "election" || vote.kind === "multiple");
}

export function ruleText(vote) {
  const r = vote.result;
  return t.rule(r.needed, r.base, thresholdWords(vote.threshold), t.base[vote.majority_base] || vote.majority_base);
}

function verdictText(vote) {
  const r = vote.result;
  if (vote.kind === "yes_no_abstain" || r.passed) return r.passed ? t.passed : t.failed;
  return vote.kind === "election" ? t.noneElected : t.noneChosen;
}

// The countdown of a timed vote: "Còn 0:42", then "time is up" until the close arrives.
export function voteClock(vote) {
  if (!vote.closes_at) return "";
  const left = secondsUntil(vote.closes_at);
  return left > 0 ? t.left(clockText(left)) : t.timeUp;
}

// ---------- the result (reader, meeting page, projector)

// Bars for a tally {key: weight}, against `base`; `chosen` keys get a mark.
export function tallyBars(vote, tally, { base = 0, needed = 0, chosen = [] } = {}) {
  const list = el("ul", "vote-bars");
  const most = Math.max(base, ...Object.values(tally), 1);
  for (const option of vote.options || Object.keys(tally).map((key) => ({ key }))) {
    const weight = tally[option.key] ?? 0;
    const row = el("li", `vote-bar ${option.key}`);
    row.dataset.option = option.key;
    if (chosen.includes(option.key)) row.classList.add("chosen");
    const label = el("span", "vote-bar-label", optionLabel(vote, option.key));
    if (chosen.includes(option.key) && vote.kind !== "yes_no_abstain") {
      label.append(el("span", "vote-bar-mark", vote.kind === "election" ? t.elected : t.chosen));
    }
    const track = el("span", "vote-bar-track");
    const fill = el("span", "vote-bar-fill");
    fill.style.width = `${Math.min(100, (weight / most) * 100)}%`;
    track.append(fill);
    if (needed && base) {
      const line = el("span", "vote-bar-need");
      line.style.left = `${Math.min(100, (needed / most) * 100)}%`;
      track.append(line);
    }
    const count = el("span", "vote-bar-count", String(weight));
    const share = el("span", "vote-bar-share", base ? `${Math.round((weight / base) * 1000) / 10}%` : "");
    row.append(label, track, count, share);
    list.append(row);
  }
  return list;
}

function namedList(vote) {
  const named = vote.result.named || [];
  const details = el("details", "vote-named");
  details.append(el("summary", "", t.whoVoted(named.length)));
  for (const option of vote.options) {
    const names = named.filter((person) => person.choices.includes(option.key)).map((person) => person.name);
    const group = el("div", `vote-named-group ${option.key}`);
    group.append(el("strong", "", `${optionLabel(vote, option.key)} (${names.length})`));
    group.append(el("p", "", names.length ? names.join(", ") : t.nobodyChose));
    details.append(group);
  }
  return details;
}

// The whole result of a closed vote; `names: false` leaves out who voted what (projector).
export function resultView(vote, { names = true } = {}) {
  const r = vote.result;
  const box = el("div", `vote-result ${r.passed ? "passed" : "failed"}`);
  const verdict = el("p", "vote-verdict", verdictText(vote));
  verdict.classList.toggle("long", verdict.textContent.length > 16);
  box.append(verdict);
  box.append(tallyBars(vote, r.tally, { base: r.base, needed: r.needed, chosen: vote.kind === "yes_no_abstain" ? [] : r.chosen || [] }));
  box.append(el("p", "vote-rule", ruleText(vote)));
  const turnout = vote.quorum
    ? (r.quorum_met ? t.quorumMet : t.quorumNotMet)(r.voters, vote.quorum)
    : t.turnout(r.voters);
  box.append(el("p", `vote-turnout${r.quorum_met ? "" : " not-met"}`, turnout));
  if (r.counted_by) box.append(el("p", "vote-counted-by", t.countedBy(r.counted_by.name, r.method)));
  if (names && r.named) box.append(namedList(vote));
  return box;
}

// How many may vote, from the snapshot's attendance, until the server's own count arrives.
export function eligibleIn(state) {
  return (state.attendance?.people || []).filter((p) => VOTERS.has(p.role)).length;
}

// ---------- the delegate's ballot

function rememberedChoice(vote) {
  if (vote.secret) return null; // a secret choice is not kept on the tablet
  try {
    return JSON.parse(sessionStorage.getItem(`phonghop.ballot.${vote.id}`) || "null");
  } catch {
    return null;
  }
}

function rememberChoice(vote, choices) {
  if (!vote.secret) sessionStorage.setItem(`phonghop.ballot.${vote.id}`, JSON.stringify(choices));
}

// `root` is an empty element; `overlay` puts the panel over the page (the reader) rather
// than in the flow of the page (meeting page); without `showResult` the panel goes away at
// the close (the chair's console shows the result instead).
export function createBallot(root, { canVote, overlay = false, showResult = true }) {
  let link = null;
  let vote = null; // the open or just-closed vote
  let stage = "idle"; // choose | confirm | sending | voted | watch | result
  let selected = []; // keys picked before confirming
  let voted = null; // keys the server took, or [] when it is known only that we voted
  let progress = null;
  let error = "";
  let minimized = false;
  let eligible = 0;
  let stopClock = null;

  root.classList.add("ballot");
  root.classList.toggle("overlay", overlay);

  function choiceWords(keys) {
    return keys.map((key) => optionLabel(vote, key)).join(", ");
  }

  function header() {
    const head = el("div", "ballot-head");
    const title = el("div", "ballot-titles");
    title.append(el("span", "ballot-kicker", vote.status === "closed" ? t.result : t.votingNow));
    title.append(el("h2", "ballot-title", vote.title));
    head.append(title);
    if (stage === "result") head.append(button(t.dismiss, dismiss, "ballot-dismiss"));
    else if (overlay) head.append(button(t.minimize, () => setMinimized(true), "ballot-minimize"));
    return head;
  }

  function facts() {
    const line = el("p", "ballot-facts");
    const count = el("span", "ballot-progress", progressText(progress));
    const clock = el("span", "ballot-clock");
    const kind = el("span", "ballot-kind", vote.secret ? t.secret : t.named);
    line.append(count, clock, kind);
    return line;
  }

  function optionButtons() {
    const group = el("div", `ballot-options ${vote.kind}`);
    for (const option of vote.options) {
      const choice = button(optionLabel(vote, option.key), () => pick([option.key]), `ballot-option ${option.key}`);
      choice.dataset.option = option.key;
      if (voted?.includes(option.key)) choice.classList.add("previous");
      group.append(choice);
    }
    return group;
  }

  function optionChecks() {
    const form = el("form", "ballot-checks");
    form.append(el("p", "ballot-hint", t.chooseUpTo(vote.max_choices)));
    const list = el("div", "ballot-check-list");
    for (const option of vote.options) {
      const label = el("label", "ballot-check");
      const box = el("input", { type: "checkbox", value: option.key, checked: selected.includes(option.key) });
      box.disabled = !box.checked && selected.length >= vote.max_choices;
      box.addEventListener("change", () => {
        selected = box.checked ? [...selected, option.key] : selected.filter((key) => key !== option.key);
        render();
        root.querySelector(`.ballot-check input[value="${option.key}"]`)?.focus();
      });
      label.append(box, el("span", "", optionLabel(vote, option.key)));
      list.append(label);
    }
    const send = el("button", "primary ballot-send", t.send);
    send.type = "submit";
    send.disabled = !selected.length;
    form.append(list, send);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (selected.length) pick(selected);
    });
    return form;
  }

  function confirmStep() {
    const box = el("div", "ballot-confirm");
    const single = selected.length === 1 ? selected[0] : "several";
    box.dataset.option = single;
    box.append(el("p", `ballot-question ${single}`, t.confirm(choiceWords(selected))));
    const buttons = el("div", "ballot-confirm-buttons");
    const yes = button(stage === "sending" ? t.sending : t.confirmYes, cast, `primary ballot-confirm-yes ${single}`);
    const no = button(t.cancel, () => {
      stage = "choose";
      render();
    }, "ballot-cancel");
    yes.disabled = no.disabled = stage === "sending";
    buttons.append(no, yes);
    box.append(buttons);
    return box;
  }

  function votedStep() {
    const box = el("div", "ballot-voted");
    const words = voted.length ? choiceWords(voted) : "";
    box.dataset.option = voted.length === 1 ? voted[0] : "";
    box.append(el("p", "ballot-done", t.voted(words)));
    if (vote.allow_change) {
      box.append(button(t.change, () => {
        stage = "choose";
        selected = vote.kind === "multiple" || vote.kind === "election" ? [...voted] : [];
        render();
      }, "ballot-change"));
    }
    return box;
  }

  function body() {
    if (stage === "result") {
      const box = el("div", "ballot-result");
      box.append(resultView(vote));
      return box;
    }
    if (stage === "watch") return el("p", "ballot-watch muted", t.watching);
    if (vote.method && vote.method !== "electronic") return el("p", "ballot-watch by-hand", t.byHand[vote.method]);
    if (stage === "voted") return votedStep();
    if (stage === "confirm" || stage === "sending") return confirmStep();
    return vote.kind === "multiple" || vote.kind === "election" ? optionChecks() : optionButtons();
  }

  function minimizedBar() {
    const bar = el("div", "ballot-bar");
    const words = el("span", "ballot-bar-text");
    words.append(el("strong", "", `${t.votingNow}: `), vote.title);
    const state = el("span", "ballot-bar-state", stage === "voted" ? t.voted(voted.length ? choiceWords(voted) : "") : progressText(progress));
    bar.append(words, state, el("span", "ballot-clock"), button(t.reopen, () => setMinimized(false), "primary ballot-reopen"));
    return bar;
  }

  function render() {
    stopClock?.();
    stopClock = null;
    root.hidden = !vote;
    if (!vote) {
      root.replaceChildren();
      return;
    }
    root.dataset.stage = stage;
    root.classList.toggle("minimized", minimized && stage !== "result");
    if (minimized && stage !== "result") {
      root.replaceChildren(minimizedBar());
    } else {
      const card = el("div", "ballot-card");
      card.append(header());
      if (stage !== "result") card.append(facts());
      card.append(body());
      const message = el("p", "ballot-error", error);
      message.setAttribute("role", "alert");
      card.append(message);
      root.replaceChildren(card);
    }
    if (vote.status === "open" && vote.closes_at) {
      stopClock = everyHalfSecond(() => {
        for (const clock of root.querySelectorAll(".ballot-clock")) clock.textContent = voteClock(vote);
        if (secondsUntil(vote.closes_at) <= 0) timeIsUp();
      });
    }
  }

  // The server closes the vote on time; until its result comes, nothing more can be cast.
  function timeIsUp() {
    for (const control of root.querySelectorAll(".ballot-option, .ballot-check input, .ballot-send, .ballot-confirm-yes, .ballot-change")) {
      control.disabled = true;
    }
  }

  function setMinimized(on) {
    minimized = on;
    render();
  }

  function dismiss() {
    vote = null;
    stage = "idle";
    render();
  }

  function pick(keys) {
    selected = keys;
    error = "";
    stage = "confirm";
    render();
    root.querySelector(".ballot-confirm-yes")?.focus();
  }

  async function cast() {
    const ballotOf = vote;
    stage = "sending";
    render();
    const fields = ballotOf.kind === "multiple" || ballotOf.kind === "election"
      ? { vote_id: ballotOf.id, options: selected }
      : { vote_id: ballotOf.id, option: selected[0] };
    try {
      if (!link) throw new Error(failedText);
      const ack = await link.send("vote.cast", fields);
      if (vote !== ballotOf) return;
      voted = ack.choices || selected;
      rememberChoice(vote, voted);
      stage = "voted";
      error = "";
    } catch (failure) {
      if (vote !== ballotOf) return;
      error = failure.message || failedText;
      if (failure.code === "already_voted" && !vote.allow_change) {
        voted = voted || rememberedChoice(vote) || [];
        stage = "voted";
        error = ""; // the panel says it
      } else {
        stage = voted ? "voted" : "choose"; // a change that failed leaves the ballot as it was
      }
    }
    render();
  }

  function opened(next, { youVoted = false } = {}) {
    vote = next;
    selected = [];
    error = "";
    minimized = false;
    progress = { voters: next.voters ?? 0, eligible: eligible || 0 };
    voted = youVoted ? rememberedChoice(next) || [] : null;
    stage = !canVote ? "watch" : youVoted ? "voted" : "choose";
    render();
  }

  // In place, so a finger on a button does not lose it to a redraw.
  function showProgress(next) {
    progress = next;
    for (const count of root.querySelectorAll(".ballot-progress")) count.textContent = progressText(progress);
    const state = root.querySelector(".ballot-bar-state");
    if (state && stage !== "voted") state.textContent = progressText(progress);
  }

  // The count so far (progress is told only when it changes), after a load or a reconnect.
  async function catchUp(id) {
    try {
      const found = await request("GET", `/api/votes/${id}`);
      if (vote?.id !== id || vote.status !== "open") return;
      if (found.status === "closed") closed(found);
      else showProgress({ voters: Math.max(found.voters, progress?.voters ?? 0), eligible: progress?.eligible || eligible });
    } catch {
      // the next progress message tells
    }
  }

  function closed(final) {
    if (vote && vote.id !== final.id && vote.status === "open") return; // another vote's close
    if (!showResult) {
      dismiss();
      return;
    }
    vote = final;
    stage = "result";
    minimized = false;
    error = "";
    render();
  }

  render();
  return {
    attach(meetingLink) {
      link = meetingLink;
    },
    handlers: {
      snapshot(state) {
        eligible = eligibleIn(state) || eligible;
        if (state.vote) {
          if (vote?.id === state.vote.id && vote.status === "open") {
            vote = state.vote; // a reconnect: keep what the tablet shows (the ballot in hand)
            if (state.vote.you_voted && stage !== "voted") {
              voted = voted || rememberedChoice(vote) || [];
              if (canVote) stage = "voted";
            }
            render();
          } else {
            opened(state.vote, { youVoted: state.vote.you_voted });
          }
          catchUp(state.vote.id);
        } else if (vote?.status === "open") {
          dismiss(); // closed while we were away; its result arrives as an event or not at all
        }
      },
      "vote.opened"(event) {
        opened(event.vote);
      },
      "vote.closed"(event) {
        closed(event.vote);
      },
      "vote.progress"(event) {
        if (vote?.id === event.vote_id) showProgress({ voters: event.voters, eligible: event.eligible });
      },
    },
  };
}

// ---------- the chair's console (meeting page)

// What a new vote asks for, from the console's form.
function voteFromForm(form) {
  const data = new FormData(form);
  const kind = data.get("kind");
  const given = {
    title: String(data.get("title") || "").trim(),
    kind,
    secret: data.get("secret") === "on",
    allow_change: data.get("allow_change") === "on" && data.get("secret") !== "on",
    majority_base: data.get("majority_base"),
    threshold: data.get("threshold"),
    method: data.get("method") || "electronic",
  };
  if (given.method !== "electronic") {
    given.allow_change = false;
    if (data.get("counted_by")) given.counted_by = Number(data.get("counted_by"));
  }
  if (data.get("item_id")) given.item_id = Number(data.get("item_id"));
  if (kind !== "yes_no_abstain") {
    given.options = String(data.get("options") || "").split("\n").map((line) => line.trim()).filter(Boolean);
  }
  if (kind === "multiple" || kind === "election") given.max_choices = Number(data.get("max_choices")) || 1;
  if (Number(data.get("quorum")) > 0) given.quorum = Number(data.get("quorum"));
  if (Number(data.get("duration_s")) > 0 && given.method === "electronic") given.duration_s = Number(data.get("duration_s"));
  return given;
}

// `root` holds #vote-form and #vote-current.
export function createVoteConsole(root, { meetingId }) {
  const form = root.querySelector("#vote-form");
  const current = root.querySelector("#vote-current");
  const error = root.querySelector("#vote-error");
  const remembered = `phonghop.console.vote.${meetingId}`;
  let vote = null; // draft, open or closed: the one the console is about
  let progress = null;
  let tally = null;
  let eligible = 0;
  let confirming = false;
  let busy = false;
  let stopClock = null;
  let typed = {}; // the tally committee's figures as typed, kept across re-renders

  function showError(message = "") {
    error.textContent = message;
  }

  function summary() {
    const parts = [t.kinds[vote.kind] || vote.kind, vote.secret ? t.secret : t.named];
    if (vote.method && vote.method !== "electronic") parts.push(t.methods[vote.method]);
    if (vote.duration_s) parts.push(t.duration(clockText(vote.duration_s)));
    return el("p", "muted vote-summary", parts.join(" · "));
  }

  function requirementLine() {
    const line = el("p", "vote-requirement", requirementText(vote, vote.requirement));
    line.id = "vote-needs";
    return line;
  }

  // The tally committee's figures for a show of hands or a paper ballot.
  function countForm() {
    const box = el("form", "vote-count-form");
    box.append(el("h4", "", t.countTitle));
    const field = (name, words, required) => {
      const label = el("label", name === "voters" ? "vote-count-voters" : "vote-count-option", words);
      const input = el("input");
      Object.assign(input, { type: "number", min: 0, required, name, inputMode: "numeric", value: typed[name] ?? "" });
      input.addEventListener("input", () => { typed[name] = input.value; });
      label.append(input);
      box.append(label);
    };
    for (const option of vote.options) field(`count-${option.key}`, optionLabel(vote, option.key), true);
    field("voters", t.countVoters, vote.kind === "multiple" || vote.kind === "election");
    const save = el("button", "primary", t.countSave);
    save.type = "submit";
    save.id = "vote-count-save";
    box.append(save);
    box.addEventListener("submit", (event) => {
      event.preventDefault();
      const counts = {};
      for (const option of vote.options) counts[option.key] = Number(box.elements[`count-${option.key}`].value);
      const given = { counts };
      if (box.elements.voters.value !== "") given.voters = Number(box.elements.voters.value);
      act("count", given);
    });
    return box;
  }

  function draftView() {
    const box = el("div", "vote-draft");
    box.append(requirementLine());
    if (vote.method && vote.method !== "electronic") {
      const show = button(t.showOnTablets, () => act("open"));
      show.id = "vote-open";
      box.append(show, countForm(), button(t.discard, forget, "link"));
      return box;
    }
    const buttons = el("div", "console-buttons");
    const open = button(t.open, () => act("open"), "primary");
    open.id = "vote-open";
    buttons.append(open, button(t.discard, forget, "link"));
    box.append(el("p", "vote-state", t.draft), buttons);
    return box;
  }

  function liveTally() {
    if (vote.secret) return el("p", "muted", t.tallyHidden);
    if (!tally) return el("p", "muted vote-tally-empty", t.noTallyYet);
    const box = el("div", "vote-tally");
    box.append(el("h4", "", t.liveTally), tallyBars(vote, tally, { base: Math.max(1, progress?.voters || 0) }));
    return box;
  }

  function openView() {
    if (vote.method && vote.method !== "electronic") {
      const box = el("div", "vote-open by-hand");
      box.append(requirementLine(), countForm());
      return box;
    }
    const box = el("div", "vote-open");
    const count = el("p", "vote-count");
    count.id = "vote-count";
    const meter = el("progress", "vote-meter");
    const slot = el("div", "vote-tally-slot");
    box.append(count, meter, el("p", "vote-clock"), slot);
    const buttons = el("div", "console-buttons");
    if (confirming) {
      buttons.classList.add("confirming");
      buttons.append(el("span", "vote-confirm-text", t.confirmClose(progressText(progress))));
      buttons.append(button(t.notYet, () => setConfirming(false)));
      const yes = button(t.closeNow, () => act("close"), "danger strong");
      yes.id = "vote-close-confirm";
      buttons.append(yes);
    } else {
      const close = button(t.close, () => setConfirming(true), "danger");
      close.id = "vote-close";
      buttons.append(close);
    }
    box.append(buttons);
    return box;
  }

  // The count, the meter and the tally change in place: the buttons stay under the finger.
  function showLive() {
    const count = current.querySelector("#vote-count");
    if (!count) return;
    count.textContent = progressText(progress);
    count.dataset.voters = progress?.voters ?? 0;
    const meter = current.querySelector(".vote-meter");
    meter.max = Math.max(1, progress?.eligible || eligible || 1);
    meter.value = progress?.voters ?? 0;
    current.querySelector(".vote-tally-slot").replaceChildren(liveTally());
  }

  function closedView() {
    const box = el("div", "vote-closed");
    box.append(resultView(vote));
    const again = button(t.newVote, forget, "primary");
    again.id = "vote-new";
    box.append(again);
    return box;
  }

  function render() {
    stopClock?.();
    stopClock = null;
    form.hidden = vote !== null && vote.status !== "closed";
    current.hidden = !vote;
    if (!vote) {
      current.replaceChildren();
      return;
    }
    current.dataset.status = vote.status;
    const head = el("div", "vote-head");
    head.append(el("h3", "vote-title", vote.title), summary());
    const view = vote.status === "draft" ? draftView() : vote.status === "open" ? openView() : closedView();
    current.replaceChildren(head, view);
    showLive();
    for (const control of current.querySelectorAll("button")) control.disabled ||= busy;
    if (vote.status === "open" && vote.closes_at) {
      stopClock = everyHalfSecond(() => {
        const clock = current.querySelector(".vote-clock");
        if (clock) clock.textContent = voteClock(vote);
      });
    }
  }

  function setConfirming(on) {
    confirming = on;
    render();
  }

  function show(next) {
    if (vote?.id !== next?.id) {
      tally = null;
      typed = {};
      progress = next ? { voters: next.voters ?? 0, eligible } : null;
      confirming = false;
    }
    vote = next;
    if (vote) sessionStorage.setItem(remembered, String(vote.id));
    render();
  }

  function forget() {
    sessionStorage.removeItem(remembered);
    vote = null;
    showError();
    render();
    form.querySelector("[name=title]").focus();
  }

  async function act(action, body) {
    showError();
    busy = true;
    render();
    try {
      const answer = await request("POST", `/api/votes/${vote.id}/${action}`, body);
      busy = false;
      confirming = false;
      if (vote?.id === answer.id && !(vote.status === "closed" && answer.status !== "closed")) show({ ...vote, ...answer });
    } catch (failure) {
      busy = false;
      showError(failure.message);
      render();
    }
  }

  async function create(event) {
    event.preventDefault();
    showError();
    const submit = form.querySelector("[type=submit]");
    submit.disabled = true;
    try {
      show(await request("POST", `/api/meetings/${meetingId}/votes`, voteFromForm(form)));
      form.reset();
      fitForm();
    } catch (failure) {
      showError(failure.message);
    } finally {
      submit.disabled = false;
    }
  }

  // Options only for votes that have them; how many to choose only where several may be.
  function fitForm() {
    const kind = form.elements.kind.value;
    const secret = form.elements.secret.checked;
    form.querySelector(".vote-options").hidden = kind === "yes_no_abstain";
    form.elements.options.required = kind !== "yes_no_abstain";
    form.querySelector(".vote-max").hidden = kind !== "multiple" && kind !== "election";
    const byHand = form.elements.method.value !== "electronic";
    form.querySelector(".vote-counter").hidden = !byHand;
    form.elements.allow_change.disabled = secret || byHand;
    if (secret || byHand) form.elements.allow_change.checked = false;
    form.elements.duration_s.disabled = byHand;
    form.elements.secret.disabled = form.elements.method.value === "hands";
    if (form.elements.method.value === "hands") form.elements.secret.checked = false;
    if (form.elements.method.value === "paper") form.elements.secret.checked = true;
    foresee();
  }

  // Before the vote is made: what it will need, in words, or why the council cannot meet it.
  let foreseen = 0;
  async function foresee() {
    const line = root.querySelector("#vote-requirement");
    if (!line) return;
    const data = new FormData(form);
    const query = new URLSearchParams({ majority_base: data.get("majority_base"), threshold: data.get("threshold") });
    if (Number(data.get("quorum")) > 0) query.set("quorum", data.get("quorum"));
    const asked = ++foreseen;
    try {
      const answer = await request("GET", `/api/meetings/${meetingId}/votes/requirement?${query}`);
      if (asked !== foreseen) return;
      line.classList.remove("error");
      line.textContent = requirementText({ kind: data.get("kind"), ...answer }, answer);
    } catch (failure) {
      if (asked !== foreseen) return;
      line.classList.add("error");
      line.textContent = failure.message;
    }
  }

  // After a reload the console finds its draft (or last result) again.
  async function recall() {
    const id = Number(sessionStorage.getItem(remembered));
    if (!id || vote) return;
    try {
      const found = await request("GET", `/api/votes/${id}`);
      if (!vote && found.meeting_id === meetingId) show(found);
    } catch {
      sessionStorage.removeItem(remembered);
    }
  }

  async function refresh() {
    const id = vote.id;
    try {
      const found = await request("GET", `/api/votes/${id}`);
      if (vote?.id !== id) return;
      if (found.status === "open") progress = { voters: Math.max(found.voters, progress?.voters ?? 0), eligible: progress?.eligible || eligible };
      if (found.status !== vote.status) show(found);
      else showLive();
    } catch {
      // the next event tells
    }
  }

  form.addEventListener("submit", create);
  form.addEventListener("change", fitForm);
  fitForm();
  recall();
  return {
    attach() {},
    handlers: {
      snapshot(state) {
        eligible = eligibleIn(state) || eligible;
        if (state.vote) show(state.vote);
        if (vote?.status === "open") refresh(); // the count so far; or the close we missed
      },
      "vote.opened"(event) {
        show(event.vote);
      },
      "vote.closed"(event) {
        // not over a draft being prepared, nor over another vote still open
        if (!vote || vote.id === event.vote.id || vote.status === "closed") show(event.vote);
      },
      "vote.progress"(event) {
        if (vote?.id !== event.vote_id) return;
        progress = { voters: event.voters, eligible: event.eligible };
        showLive();
      },
      "vote.tally"(event) {
        if (vote?.id !== event.vote_id) return;
        tally = event.tally;
        progress = { voters: event.voters, eligible: event.eligible };
        showLive();
      },
    },
  };
}
