// A vote as everyone sees it: its words, its count and clock while open, and the result
// after the close (the delegate's ballot, the chair's console and the projector draw it).

import { clockText, el, pickWords, plural, secondsUntil } from "./kit.js";

const TEXT = {
  vi: {
    yes: "Tán thành",
    no: "Không tán thành",
    abstain: "Không biểu quyết",
    votingNow: "Đang biểu quyết",
    progress: (voters, eligible) => (eligible ? `Đã biểu quyết ${voters}/${eligible}` : `Đã biểu quyết ${voters}`),
    left: (clock) => `Còn ${clock}`,
    timeUp: "Hết giờ — đang khóa phiếu…",
    secret: "Bỏ phiếu kín",
    named: "Biểu quyết công khai",
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
    countedBy: (name, method) => `${method === "paper" ? "Kiểm phiếu thủ công" : "Đếm biểu quyết giơ tay"}: ${name}`,
    yourChoice: (words) => `Biểu quyết của bạn đã được ghi: ${words}`,
    ballotsMatch: (ballots, voters) => `${ballots} phiếu = ${voters} người đã bỏ phiếu`,
    ballotsDiffer: (ballots, voters) => `Cảnh báo: ${ballots} phiếu ≠ ${voters} người đã bỏ phiếu`,
  },
  en: {
    yes: "In favour",
    no: "Against",
    abstain: "Abstain",
    votingNow: "Voting",
    progress: (voters, eligible) => (eligible ? `Voted ${voters}/${eligible}` : `Voted ${voters}`),
    left: (clock) => `${clock} left`,
    timeUp: "Time is up — closing…",
    secret: "Secret ballot",
    named: "Named vote",
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
    turnout: (voters) => plural(voters, "{n} member voted", "{n} members voted"),
    quorumMet: (voters, quorum) => `Minimum turnout met: ${voters}/${quorum}`,
    quorumNotMet: (voters, quorum) => `Minimum turnout not met: ${voters}/${quorum}`,
    whoVoted: (n) => `Who voted what (${n})`,
    nobodyChose: "Nobody",
    countedBy: (name, method) => `${method === "paper" ? "Counted by hand" : "Hands counted"}: ${name}`,
    yourChoice: (words) => `Your vote was recorded: ${words}`,
    ballotsMatch: (ballots, voters) => `${ballots} ballots = ${voters} people voted`,
    ballotsDiffer: (ballots, voters) => `Warning: ${ballots} ballots ≠ ${voters} people voted`,
  },
};
export const voteText = pickWords(TEXT);
const t = voteText;

const VOTERS = new Set(["chair", "delegate"]); // who may vote (server/council.py VOTERS)

// The words for an option: ours for in favour / against / abstain, the vote's own otherwise.
export function optionLabel(vote, key) {
  if (vote.kind === "yes_no_abstain" && t[key]) return t[key];
  const option = vote.options?.find((o) => o.key === key);
  return option?.label ?? vote.result?.labels?.[key] ?? key;
}

export function progressText(progress) {
  return t.progress(progress?.voters ?? 0, progress?.eligible ?? 0);
}

export function thresholdWords(threshold) {
  if (t.threshold[threshold] && typeof t.threshold[threshold] === "string") return t.threshold[threshold];
  const share = Number(threshold);
  return Number.isFinite(share) ? t.threshold.share(Math.round(share * 1000) / 10) : threshold;
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

// ---------- the result

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

// The whole result of a closed vote; `names: false` leaves out who voted what (projector);
// `me`, the viewer's user id: in a named vote, their own recorded choice is said first.
export function resultView(vote, { names = true, me = null } = {}) {
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
  if (vote.secret && r.ballots != null) {
    const same = r.ballots === r.voters;
    const words = (same ? t.ballotsMatch : t.ballotsDiffer)(r.ballots, r.voters);
    box.append(el("p", `vote-ballots${same ? "" : " not-met"}`, words));
  }
  const mine = me != null && (r.named || []).find((person) => person.user_id === me);
  if (mine) {
    const words = mine.choices.map((key) => optionLabel(vote, key)).join(", ");
    const own = el("p", "vote-mine", t.yourChoice(words));
    own.dataset.choices = mine.choices.join(" ");
    box.append(own);
  }
  if (names && r.named) box.append(namedList(vote));
  return box;
}

// How many may vote, from the snapshot's attendance, until the server's own count arrives.
export function eligibleIn(state) {
  return (state.attendance?.people || []).filter((p) => VOTERS.has(p.role)).length;
}
