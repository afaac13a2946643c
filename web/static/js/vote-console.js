// The chair's vote console (meeting page): prepare a vote, open it, watch the count, close
// it, or record the tally committee's count of a show of hands or paper ballots.
//
//   const votes = createVoteConsole(element, { meetingId });
//   const link = connectMeeting(id, joinHandlers(mine, votes.handlers));

import { button, clockText, el, everyHalfSecond, pickWords, request } from "./kit.js";
import {
  eligibleIn, optionLabel, progressText, resultView, tallyBars, thresholdWords, voteClock, voteText,
} from "./vote-result.js";

const TEXT = {
  vi: {
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
    methods: { electronic: "Trên máy tính bảng", hands: "Giơ tay", paper: "Phiếu giấy" },
    needs: (needed, base, basis, election) => (election ? `Mỗi người trúng cử cần ít nhất ${needed}/${base} phiếu (${basis})` : `Cần ít nhất ${needed}/${base} đại biểu tán thành (${basis})`),
    needsCast: (threshold) => `Cần ${threshold} số phiếu biểu quyết tán thành`,
    basis: { members: "tổng số đại biểu của Hội đồng", present: "số đại biểu có mặt lúc này" },
    countTitle: "Kết quả kiểm phiếu (Ban kiểm phiếu)",
    showOnTablets: "Hiện nội dung biểu quyết trên máy tính bảng",
    countVoters: "Số phiếu hợp lệ / số đại biểu biểu quyết",
    countSave: "Ghi kết quả kiểm phiếu",
  },
  en: {
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
    methods: { electronic: "On the tablets", hands: "Show of hands", paper: "Paper ballots" },
    needs: (needed, base, basis, election) => (election ? `Each elected candidate needs at least ${needed}/${base} votes (${basis})` : `Needs at least ${needed}/${base} delegates in favour (${basis})`),
    needsCast: (threshold) => `Needs ${threshold} the votes cast in favour`,
    basis: { members: "all delegates of the council", present: "delegates present now" },
    countTitle: "The tally committee's count",
    showOnTablets: "Show the question on the tablets",
    countVoters: "Valid ballots / delegates who voted",
    countSave: "Record the count",
  },
};
const t = { ...voteText, ...pickWords(TEXT) };

// What a vote needs, in words, before it opens: "Cần ít nhất 16/30 đại biểu tán thành".
export function requirementText(vote, requirement) {
  if (!requirement) return "";
  if (requirement.needed == null) return t.needsCast(thresholdWords(vote.threshold));
  const basis = t.basis[vote.majority_base] || "";
  return t.needs(requirement.needed, requirement.base, basis, vote.kind === "election" || vote.kind === "multiple");
}

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

