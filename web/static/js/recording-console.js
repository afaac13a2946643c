// The chair's "Ghi hình" panel (meeting page): start and stop the recorder and see how it
// goes, live from the recorder's `recording.changed` reports (a full disk above all).
//
//   const recording = createRecordingConsole(root, { meetingId });
//   const link = connectMeeting(id, joinHandlers(mine, recording.handlers));
//   recording.attach(link);

import { pickWords, request } from "./kit.js";

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
  },
};
const t = pickWords(TEXT);

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
      return await request("POST", `/api/meetings/${meetingId}/recordings${path}`);
    } catch (error) {
      show(before);
      ui.error.textContent = error.message;
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
      const rows = await request("GET", `/api/meetings/${meetingId}/recordings`);
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
