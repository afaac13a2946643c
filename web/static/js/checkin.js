// Check-in at the door (the secretary's meeting page): the camera reads the QR code of each
// delegate's giấy mời and marks them present; or the secretary finds them by name and taps
// "Có mặt". Every console sees the change at once (attendance.changed on the socket).
//
//   const checkin = createCheckin(root, { meetingId });
//   const link = connectMeeting(id, joinHandlers(mine, checkin.handlers));
//
// Frames are decoded by qr-reader.js in a worker, one at a time, a few a second; the camera
// stops when the panel is closed or the page is hidden. A code held in front of the camera is
// sent once.

import { el, pickWords, request } from "./kit.js";

const TEXT = {
  vi: {
    idle: "Quét mã QR trên giấy mời hoặc tìm đại biểu theo tên.",
    opening: "Đang mở máy ảnh…",
    scanning: "Đưa mã QR trên giấy mời vào khung hình.",
    sending: "Đang điểm danh…",
    refused: "Không được phép dùng máy ảnh. Hãy cho phép máy ảnh trong trình duyệt, hoặc tìm đại biểu theo tên.",
    absent: "Thiết bị này không có máy ảnh. Hãy tìm đại biểu theo tên.",
    insecure: "Trình duyệt chỉ mở máy ảnh trên trang HTTPS. Hãy tìm đại biểu theo tên.",
    failed: "Không mở được máy ảnh. Hãy tìm đại biểu theo tên.",
    present: "Có mặt",
    here: (time) => (time ? `Có mặt lúc ${time}` : "Có mặt"),
    status: { remote: "Trực tuyến", excused: "Vắng có lý do", absent: "Chưa điểm danh" },
    role: { chair: "Chủ tọa", delegate: "Đại biểu", secretary: "Thư ký", ward_point: "Điểm cầu", observer: "Khách mời" },
    mark: (name) => `Điểm danh có mặt: ${name}`,
    none: "Không tìm thấy ai trong thành phần tham dự.",
  },
  en: {
    idle: "Scan the QR code on an invitation or find a delegate by name.",
    opening: "Opening the camera…",
    scanning: "Hold the invitation's QR code in the frame.",
    sending: "Checking in…",
    refused: "The camera is not allowed. Allow it in the browser, or find the delegate by name.",
    absent: "This device has no camera. Find the delegate by name.",
    insecure: "Browsers open the camera only on HTTPS pages. Find the delegate by name.",
    failed: "The camera could not be opened. Find the delegate by name.",
    present: "Present",
    here: (time) => (time ? `Present since ${time}` : "Present"),
    status: { remote: "Remote", excused: "Excused", absent: "Not checked in" },
    role: { chair: "Chair", delegate: "Delegate", secretary: "Secretary", ward_point: "Ward point", observer: "Observer" },
    mark: (name) => `Check in: ${name}`,
    none: "Nobody of the meeting's participants found.",
  },
};
const t = pickWords(TEXT);

const FRAME_MS = 150; // between two frames read
const SAME_CODE_MS = 8000; // a code seen again within this is not sent again
const MAX_SIDE = 800; // frames are read at most this wide: enough for a QR code held near
const HERE = new Set(["present", "remote"]);

// `root` holds #checkin-result, #checkin-open, #checkin-close, #checkin-view (with a video),
// #checkin-camera-state, #checkin-q, #checkin-found and #checkin-none.
export function createCheckin(root, { meetingId }) {
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    result: $("#checkin-result"),
    open: $("#checkin-open"),
    close: $("#checkin-close"),
    view: $("#checkin-view"),
    video: $("#checkin-view video"),
    camera: $("#checkin-camera-state"),
    query: $("#checkin-q"),
    found: $("#checkin-found"),
    none: $("#checkin-none"),
  };
  const api = `/api/meetings/${meetingId}/checkin`;

  // ---------- the result, big

  function showResult(kind, text) {
    ui.result.className = `checkin-result ${kind}`;
    ui.result.dataset.kind = kind;
    ui.result.textContent = text;
  }

  function arrived(answer) {
    showResult("ok", `✓ ${answer.message}`);
    showHere(answer.user_id, answer.time);
  }

  // ---------- the camera

  let camera = null; // {stream, worker, canvas, context, timer, reading}
  let opening = 0; // bumped by each open and close: a late camera after a close is let go
  let sending = false;
  let last = { code: "", at: 0 };

  function cameraState(state, text) {
    root.dataset.camera = state;
    ui.camera.textContent = text;
    ui.camera.classList.toggle("trouble", state === "trouble");
  }

  function cameraTrouble(text) {
    stopCamera();
    cameraState("trouble", text);
  }

  function troubleWords(error) {
    if (error?.name === "NotAllowedError" || error?.name === "SecurityError") return t.refused;
    if (error?.name === "NotFoundError" || error?.name === "OverconstrainedError") return t.absent;
    return t.failed;
  }

  async function openCamera() {
    const mine = ++opening;
    last = { code: "", at: 0 }; // opened again on purpose: the code in front is read anew
    ui.open.hidden = true;
    ui.close.hidden = false;
    cameraState("opening", t.opening);
    if (!window.isSecureContext) return cameraTrouble(t.insecure);
    if (!navigator.mediaDevices?.getUserMedia) return cameraTrouble(t.absent);
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
      });
    } catch (error) {
      if (mine === opening) cameraTrouble(troubleWords(error));
      return;
    }
    if (mine !== opening) {
      for (const track of stream.getTracks()) track.stop();
      return;
    }
    const worker = new Worker("/static/js/qr-reader.js");
    const canvas = document.createElement("canvas");
    camera = { stream, worker, canvas, context: canvas.getContext("2d", { willReadFrequently: true }), timer: 0, reading: false };
    worker.onmessage = ({ data }) => {
      if (!camera || camera.worker !== worker) return;
      camera.reading = false;
      root.dataset.frames = Number(root.dataset.frames || 0) + 1;
      if (data.code) seen(data.code);
      nextFrame();
    };
    worker.onerror = () => cameraTrouble(t.failed);
    ui.video.srcObject = stream;
    ui.view.hidden = false;
    try {
      await ui.video.play();
    } catch (error) {
      if (mine === opening) cameraTrouble(troubleWords(error));
      return;
    }
    cameraState("on", t.scanning);
    nextFrame();
  }

  function stopCamera() {
    opening++;
    if (camera) {
      clearTimeout(camera.timer);
      camera.worker.terminate();
      for (const track of camera.stream.getTracks()) track.stop();
      camera = null;
    }
    ui.video.srcObject = null;
    ui.view.hidden = true;
    ui.open.hidden = false;
    ui.close.hidden = true;
    cameraState("off", "");
  }

  function nextFrame() {
    if (camera) camera.timer = setTimeout(readFrame, FRAME_MS);
  }

  function readFrame() {
    const video = ui.video;
    if (!camera || camera.reading) return;
    if (video.readyState < 2 || !video.videoWidth) return nextFrame();
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    const width = Math.round(video.videoWidth * scale);
    const height = Math.round(video.videoHeight * scale);
    camera.canvas.width = width;
    camera.canvas.height = height;
    camera.context.drawImage(video, 0, 0, width, height);
    const pixels = camera.context.getImageData(0, 0, width, height).data.buffer;
    camera.reading = true;
    camera.worker.postMessage({ pixels, width, height }, [pixels]);
  }

  // A code held in front of the camera stays quiet while it is there and a while after. One
  // seen while another is being sent is not taken as seen: it is read again once that is done.
  function seen(code) {
    if (sending) return;
    const now = Date.now();
    const again = code === last.code && now - last.at < SAME_CODE_MS;
    last = { code, at: now };
    if (!again) send(code);
  }

  async function send(code) {
    sending = true;
    showResult("pending", t.sending);
    try {
      arrived(await request("POST", api, { code }));
    } catch (error) {
      showResult("refused", `✗ ${error.message}`);
    } finally {
      sending = false;
      last = { code, at: Date.now() }; // still held up after a slow answer: quiet on
    }
  }

  // ---------- by name

  let typing = 0;
  let searching = null;

  async function find() {
    searching?.abort();
    const query = ui.query.value.trim();
    if (!query) {
      ui.found.replaceChildren();
      ui.none.hidden = true;
      return;
    }
    searching = new AbortController();
    try {
      const people = await request("GET", `${api}/people?q=${encodeURIComponent(query)}`, undefined, { signal: searching.signal });
      ui.found.replaceChildren(...people.map(personRow));
      ui.none.hidden = people.length > 0;
      ui.none.textContent = t.none;
    } catch (error) {
      if (error.name !== "AbortError") showResult("refused", `✗ ${error.message}`);
    }
  }

  function personRow(person) {
    const state = el("span", "state");
    const mark = el("button", { type: "button", className: "primary" }, t.present);
    mark.setAttribute("aria-label", t.mark(person.name));
    mark.addEventListener("click", () => markPresent(person.user_id, mark));
    const who = el("span", "who", `${person.name} `, el("span", "badge role", t.role[person.role] || person.role));
    const row = el("li", { dataset: { user: person.user_id } }, who, state, mark);
    showState(row, person.status, person.time);
    return row;
  }

  function showState(row, status, time = "") {
    const here = HERE.has(status);
    row.dataset.status = status;
    const state = row.querySelector(".state");
    state.textContent = here && status === "present" ? t.here(time) : t.status[status] || status;
    state.classList.toggle("here", here);
    row.querySelector("button").hidden = status === "present"; // one online may come in person
  }

  function showHere(userId, time) {
    const row = ui.found.querySelector(`li[data-user="${userId}"]`);
    if (row) showState(row, "present", time);
  }

  async function markPresent(userId, mark) {
    mark.disabled = true;
    showResult("pending", t.sending);
    try {
      arrived(await request("POST", `${api}/people/${userId}`));
    } catch (error) {
      showResult("refused", `✗ ${error.message}`);
    } finally {
      mark.disabled = false;
    }
  }

  // ---------- wiring

  ui.open.addEventListener("click", openCamera);
  ui.close.addEventListener("click", stopCamera);
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && camera) stopCamera();
  });
  window.addEventListener("pagehide", stopCamera);
  ui.query.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(find, 250);
  });
  showResult("idle", t.idle);
  cameraState("off", "");

  return {
    attach() {},
    handlers: {
      "attendance.changed": (event) => {
        const row = ui.found.querySelector(`li[data-user="${event.user_id}"]`);
        if (row && row.dataset.status !== event.status) showState(row, event.status);
      },
    },
  };
}
