// The delegate's ballot (biểu quyết), on the reader and the meeting page: choose, confirm,
// cast over the meeting socket, and see the result after the close.
//
//   const ballot = createBallot(element, { canVote: true, overlay: true });
//   const link = connectMeeting(id, joinHandlers(mine, ballot.handlers));
//   ballot.attach(link);

import { button, el, everyHalfSecond, failedText, pickWords, plural, request, secondsUntil } from "./kit.js";
import { eligibleIn, optionLabel, progressText, resultView, voteClock, voteText } from "./vote-result.js";

const TEXT = {
  vi: {
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
    byHand: { hands: "Biểu quyết bằng hình thức giơ tay: không bỏ phiếu trên máy tính bảng.", paper: "Bỏ phiếu kín bằng phiếu giấy: không bỏ phiếu trên máy tính bảng." },
    needsLink: "Mất kết nối mạng: cần có mạng mới bỏ phiếu được. Phiếu của bạn chưa gửi; hãy chờ kết nối lại.",
  },
  en: {
    chooseUpTo: (n) => plural(n, "Choose {n} option", "Choose up to {n} options"),
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
    byHand: { hands: "A show of hands: nothing to cast on the tablet.", paper: "Paper ballots: nothing to cast on the tablet." },
    needsLink: "No network: voting needs the connection. Your ballot has not been sent; wait until it is back.",
  },
};
const t = { ...voteText, ...pickWords(TEXT) };

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
export function createBallot(root, { canVote, overlay = false, showResult = true, userId = null }) {
  let link = null;
  let vote = null; // the open or just-closed vote
  let stage = "idle"; // choose | confirm | sending | voted | watch | result
  let selected = []; // keys picked before confirming
  let voted = null; // keys the server took, or [] when it is known only that we voted
  let progress = null;
  let error = "";
  let minimized = false;
  let eligible = 0;
  let linked = true; // the meeting socket is up: a ballot can go out
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
      box.append(resultView(vote, { me: userId }));
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
    if (!linked && vote.status === "open" && canVote && stage !== "voted" && stage !== "watch") {
      root.querySelector(".ballot-card, .ballot-bar")?.append(el("p", "ballot-offline", t.needsLink));
      timeIsUp(); // nothing can be cast until the link is back
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
      status(name) {
        if (linked === (name === "online")) return;
        linked = name === "online";
        render();
      },
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
