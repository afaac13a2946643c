// The chair's "Ghi hình" panel (meeting page): start and stop the recorder and see how it
// goes, live from the recorder's `recording.changed` reports (a full disk above all).
//
//   const recording = createRecordingConsole(root, { meetingId });
//   const link = connectMeeting(id, joinHandlers(mine, recording.handlers));
//   recording.attach(link);

import { csrfToken } from "./live.js";

const TEXT = {
  vi: {
    state: {
      idle: "Chưa ghi hình",
      starting: "Đang bắt đầu ghi…",
      recording: "Đang ghi hình",
      stopping: "Đang dừng ghi…",
      done: "Đã ghi xong",
      interrupted: "Bản ghi bị gián đoạn",
      disk_full: "Ổ đĩa đã đầy: đã dừng ghi, phần đã ghi được giữ lại",
      failed: "Ghi hình bị lỗi",
      refused: "Không ghi hình được",
    },
    failed: "Không thực hiện được. Kiểm tra mạng rồi thử lại.",
  },
  en: {
    state: {
      idle: "Not recording",
      starting: "Starting to record…",
      recording: "Recording",
      stopping: "Stopping…",
      done: "Recording finished",
      interrupted: "The recording was interrupted",
      disk_full: "The disk is full: recording stopped, what was recorded is kept",
      failed: "Recording failed",
      refused: "Could not record",
    },
    failed: "That did not work. Check the network and try again.",
  },
};
const t = TEXT[document.documentElement.lang] || TEXT.vi;

const RUNNING = new Set(["starting", "recording", "stopping"]);
const TROUBLE = new Set(["disk_full", "failed", "refused", "interrupted"]);

// `root` holds #recording-state, #recording-start, #recording-stop and #recording-error.
export function createRecordingConsole(root, { meetingId }) {
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    state: $("#recording-state"),
    start: $("#recording-start"),
    stop: $("#recording-stop"),
    error: $("#recording-error"),
  };

  function show(status, message = "") {
    root.dataset.status = status;
    ui.state.dataset.status = status;
    ui.state.textContent = t.state[status] || status;
    ui.start.hidden = RUNNING.has(status);
    ui.stop.hidden = !RUNNING.has(status) || status === "stopping";
    ui.error.textContent = TROUBLE.has(status) ? message : "";
  }

  async function call(path, during) {
    const before = root.dataset.status;
    show(during);
    try {
      const response = await fetch(`/api/meetings/${meetingId}/recordings${path}`, {
        method: "POST",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(body.message || t.failed);
      return body;
    } catch (error) {
      show(before);
      ui.error.textContent = error instanceof TypeError ? t.failed : error.message;
      return null;
    }
  }

  async function start() {
    await call("", "starting"); // the recorder says "recording" once it is
  }

  async function stop() {
    const body = await call("/stop", "stopping");
    if (body?.status === "stopped" && root.dataset.status === "stopping") show("done");
  }

  // What is recording now, after a (re)connect: events missed meanwhile are not replayed.
  async function refresh() {
    try {
      const response = await fetch(`/api/meetings/${meetingId}/recordings`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const rows = await response.json();
      if (rows.some((row) => row.status === "live")) show("recording");
      else if (RUNNING.has(root.dataset.status) && root.dataset.status !== "starting") show("idle");
    } catch {
      // the next event or reconnect tells
    }
  }

  ui.start.addEventListener("click", start);
  ui.stop.addEventListener("click", stop);
  show("idle");

  return {
    attach() {},
    handlers: {
      ready: refresh,
      "recording.changed": (event) => show(event.status, event.message || ""),
    },
  };
}
