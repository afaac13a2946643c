// The conference page of a ward point, or of the hall: its camera and microphone go to the
// video bridge, the program picture and the meeting's voices come back, and the page the
// chair presents is shown beside the picture as a sharp image, as on the projector.
//
// The call mends itself: when the peer connection fails, or the meeting socket comes back
// after a drop, the page sends a new offer, and the bridge replaces this user's old peer.

import { csrfToken, el, pickWords, request, syncClock } from "./kit.js";
import { connectMeeting, joinHandlers, text as liveText, statusIndicator } from "./live.js";
import { createFloor } from "./floor.js";
import { decoded, documentInfo, pageImageUrl, pageName, presentedText } from "./presented.js";

const TEXT = {
  vi: {
    state: {
      connecting: liveText.connecting,
      online: liveText.online,
      reconnecting: liveText.reconnecting,
      ended: "Đã ngắt kết nối",
      stopped: "Không kết nối được",
    },
    mute: "Tắt micrô",
    unmute: "Bật micrô",
    mutedByChair: "Chủ tọa đã tắt micrô",
    audioOnly: "Chỉ dùng tiếng",
    videoBack: "Bật lại hình",
    audioOnlyNow: "Đang chỉ dùng tiếng: không gửi và không nhận hình, để đỡ tốn mạng.",
    level: {
      sd: "Đường truyền chưa tốt: đang nhận hình 640×360.",
      slides: "Đường truyền yếu: đang nhận tiếng và trang đang trình chiếu (1 hình mỗi giây). Hình sẽ trở lại khi mạng tốt lên.",
    },
    hungUpNow: "Bạn đã ngắt kết nối. Bấm “Kết nối lại” để tham gia tiếp.",
    hangUp: "Ngắt kết nối",
    rejoin: "Kết nối lại",
    youOnProgram: "Bạn đang lên hình",
    onProgram: (name) => `Đang lên hình: ${name}`,
    denied: "Trình duyệt chưa cho phép dùng camera và micrô. Bấm vào biểu tượng ổ khóa hoặc camera "
      + "cạnh địa chỉ trang, chọn Cho phép, rồi bấm Thử lại. Trong lúc đó bạn vẫn xem và nghe được cuộc họp.",
    notFound: "Không tìm thấy camera và micrô trên máy này. Hãy cắm thiết bị vào rồi bấm Thử lại.",
    noCamera: "Không tìm thấy camera: điểm cầu chỉ gửi tiếng. Cắm camera vào rồi bấm Thử lại để gửi cả hình.",
    busy: "Camera hoặc micrô đang được ứng dụng khác dùng. Hãy đóng ứng dụng đó rồi bấm Thử lại.",
    insecure: "Trình duyệt chỉ cho dùng camera và micrô khi trang được mở bằng https. Hãy báo cán bộ kỹ thuật.",
    mediaFailed: "Không mở được camera và micrô. Bấm Thử lại.",
    forbidden: "Tài khoản này không được tham gia họp trực tuyến.",
  },
  en: {
    state: {
      connecting: liveText.connecting,
      online: liveText.online,
      reconnecting: liveText.reconnecting,
      ended: "Disconnected",
      stopped: "Cannot connect",
    },
    mute: "Mute",
    unmute: "Unmute",
    mutedByChair: "Muted by the chair",
    audioOnly: "Sound only",
    videoBack: "Video back on",
    audioOnlyNow: "Sound only: no picture is sent or received, to spare the network.",
    level: {
      sd: "The line is not at its best: receiving the picture at 640×360.",
      slides: "Weak line: receiving the sound and the presented page (1 picture a second). The video comes back when the line improves.",
    },
    hungUpNow: "You have hung up. Tap “Rejoin” to take part again.",
    hangUp: "Hang up",
    rejoin: "Rejoin",
    youOnProgram: "You are on screen",
    onProgram: (name) => `On screen: ${name}`,
    denied: "The browser may not use the camera and microphone yet. Tap the padlock or camera icon next "
      + "to the address, choose Allow, then tap Try again. Meanwhile you can still watch and listen.",
    notFound: "No camera or microphone was found on this computer. Plug one in, then tap Try again.",
    noCamera: "No camera was found: this point sends sound only. Plug a camera in, then tap Try again.",
    busy: "Another program is using the camera or microphone. Close it, then tap Try again.",
    insecure: "The browser allows the camera and microphone only on pages opened over https. Tell the IT officer.",
    mediaFailed: "The camera and microphone could not be opened. Tap Try again.",
    forbidden: "This account may not join the video conference.",
  },
};
const t = pickWords(TEXT);

const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 15_000;
const STALL_MS = 5000; // "disconnected" that long is treated as failed
const GATHER_MS = 5000; // the bridge does not trickle: the offer waits for ICE, this long at most
const MAX_PAGE_WIDTH = 2048;
const NOTICE_MS = 6000;

const $ = (id) => document.getElementById(id);
const root = $("conference");
const meetingId = Number(root.dataset.meeting);
const userId = Number(root.dataset.user);
const agenda = JSON.parse($("agenda-items").textContent || "{}");
const waitingText = $("program-message").textContent; // from the template, in the page's language
const ui = {
  state: $("call-state"),
  alert: $("media-alert"),
  alertText: $("media-alert-text"),
  retry: $("media-retry"),
  program: $("program"),
  programVideo: $("program-video"),
  programAudio: $("program-audio"),
  programMessage: $("program-message"),
  programCaption: $("program-caption"),
  soundOn: $("sound-on"),
  preview: $("preview"),
  previewVideo: $("preview-video"),
  previewOff: $("preview-off"),
  mic: $("mic-toggle"),
  camera: $("camera-toggle"),
  callToggle: $("call-toggle"),
  presentedPanel: $("presented-panel"),
  presentedItem: $("presented-item"),
  presentedDoc: $("presented-doc"),
  presentedPage: $("presented-page"),
  presentedLink: $("presented-link"),
  presentedImage: $("presented-image"),
  presentedMessage: $("presented-message"),
  programLevel: $("program-level"),
};

const call = {
  wanted: true, // false once hung up by hand
  stopped: false, // refused by the server: retrying would not help
  pc: null,
  audioSender: null,
  videoSender: null,
  attempt: 0, // a newer join makes an older one's remaining steps moot
  failures: 0,
  retryTimer: 0,
  stallTimer: 0,
  config: null,
  media: null, // this device's camera and microphone, null when refused
  mediaRequest: null, // the one getUserMedia under way or done, for every join to wait on
  micMuted: false,
  mutedByChair: false,
  audioOnly: false, // chosen by hand: the bridge then sends no picture either
  sendQuality: null, // the bridge's last rtc.send
};
let live = null;
let socketDropped = false;
const names = new Map(); // user_id -> name, for who is on the program

// ---------- what the page shows

function showCallState(name) {
  ui.state.dataset.state = name;
  ui.state.textContent = t.state[name];
}

function micTrack() {
  return call.media?.getAudioTracks()[0] || null;
}

function cameraTrack() {
  return call.media?.getVideoTracks()[0] || null;
}

function sendingVideo() {
  return !call.audioOnly && Boolean(cameraTrack());
}

function showControls() {
  const micOff = call.micMuted || call.mutedByChair;
  setButton(ui.mic, micOff, call.mutedByChair ? t.mutedByChair : micOff ? t.unmute : t.mute);
  ui.mic.disabled = !call.wanted || !micTrack() || call.mutedByChair;
  setButton(ui.camera, call.audioOnly, call.audioOnly ? t.videoBack : t.audioOnly);
  ui.camera.disabled = !call.wanted;
  setButton(ui.callToggle, !call.wanted, call.wanted ? t.hangUp : t.rejoin);
  ui.callToggle.disabled = call.stopped;
  ui.previewVideo.hidden = !sendingVideo();
  ui.previewOff.hidden = sendingVideo();
  ui.preview.hidden = !call.wanted;
  ui.program.classList.toggle("audio-only", call.audioOnly); // the last picture would only freeze
}

function setButton(button, pressed, label) {
  button.setAttribute("aria-pressed", String(pressed));
  button.querySelector("span").textContent = label;
}

function showMediaProblem(message) {
  ui.alert.hidden = !message;
  ui.alertText.textContent = message || "";
  ui.retry.hidden = message === t.insecure;
}

// A refusal that stays until the page is reloaded, where the camera's problems are shown.
function showCallProblem(message) {
  ui.alert.hidden = false;
  ui.alertText.textContent = message;
  ui.retry.hidden = true;
}

function tell(message) {
  const flash = $("flash");
  const line = el("p", "error", message);
  flash.replaceChildren(line);
  setTimeout(() => line.remove(), NOTICE_MS);
}

function showProgramVideo(track) {
  ui.programVideo.srcObject = new MediaStream([track]);
  const update = () => showProgramMessage(!track.muted && track.readyState === "live");
  for (const name of ["mute", "unmute", "ended"]) track.addEventListener(name, update);
  update();
}

function showProgramMessage(playing) {
  ui.programMessage.textContent = !call.wanted ? t.hungUpNow : call.audioOnly ? t.audioOnlyNow : waitingText;
  ui.programMessage.hidden = playing && call.wanted && !call.audioOnly;
}

// What the bridge sends this point as its line allows: nothing said at HD.
function showLevel(level) {
  const said = t.level[level] || "";
  ui.programLevel.textContent = said;
  ui.programLevel.hidden = !said;
}

// Below HD the line is poor: the sound waits a little longer in the buffer, so that a lost
// packet is still played from a copy (the bridge's repeat, or the Opus in-band FEC the next
// 60 ms packet carries) rather than guessed.
const POOR_LINE_SOUND_DELAY_MS = 120;

function steadySound(level) {
  for (const receiver of call.pc?.getReceivers() ?? []) {
    if (receiver.track.kind === "audio" && "jitterBufferTarget" in receiver) {
      receiver.jitterBufferTarget = level === "hd" ? null : POOR_LINE_SOUND_DELAY_MS;
    }
  }
}

function playProgramAudio(track) {
  ui.programAudio.srcObject = new MediaStream([track]);
  playSound();
}

// Browsers may refuse sound until the user touches the page; then a button asks for it.
async function playSound() {
  try {
    await ui.programAudio.play();
    ui.soundOn.hidden = true;
  } catch {
    ui.soundOn.hidden = false;
  }
}

function showProgram(program) {
  const source = program?.source ?? null;
  ui.program.classList.toggle("on-air", source === userId);
  if (source === userId) ui.programCaption.textContent = t.youOnProgram;
  else ui.programCaption.textContent = source && names.has(source) ? t.onProgram(names.get(source)) : "";
}

// ---------- the presented page

let presentedTicket = 0;
let presented = null;

function showPresentedFacts(event, doc) {
  const item = agenda[String(event.item_id)];
  ui.presentedItem.textContent = item ? `${item.number}. ${item.title}` : "";
  ui.presentedDoc.textContent = event.title || doc?.title || "";
  ui.presentedPage.textContent = pageName(event, doc);
}

function presentedWidth() {
  const css = Math.max(ui.presentedPanel.clientWidth, 320);
  return Math.min(MAX_PAGE_WIDTH, Math.ceil(css * (window.devicePixelRatio || 1)));
}

async function present(event) {
  presented = event;
  const mine = ++presentedTicket; // a newer page wins over a slower older one
  showPresentedFacts(event, null);
  let doc;
  try {
    doc = await documentInfo(event.document_id);
  } catch {
    if (mine !== presentedTicket) return;
    ui.presentedLink.hidden = true;
    ui.presentedMessage.hidden = false;
    ui.presentedMessage.textContent = presentedText.cannotShow;
    return;
  }
  if (mine !== presentedTicket) return;
  showPresentedFacts(event, doc);
  const url = pageImageUrl(doc, event.page, presentedWidth());
  if (!(await decoded(url, () => mine === presentedTicket))) return;
  ui.presentedImage.src = url;
  ui.presentedImage.alt = `${ui.presentedDoc.textContent} — ${ui.presentedPage.textContent}`;
  ui.presentedLink.href = `/meetings/${meetingId}/read?document=${doc.id}&page=${event.page}`;
  ui.presentedLink.hidden = false;
  ui.presentedMessage.hidden = true;
}

// ---------- camera and microphone

function mediaProblem(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return t.denied;
    case "NotFoundError":
    case "OverconstrainedError":
      return t.notFound;
    case "NotReadableError":
    case "AbortError":
      return t.busy;
    default:
      return t.mediaFailed;
  }
}

// The camera at the program's size, and the microphone; the microphone alone when there is
// no camera; null (and a message saying why) when the browser refuses both.
async function openMedia({ width, height, fps }) {
  if (!navigator.mediaDevices?.getUserMedia) {
    showMediaProblem(t.insecure);
    return null;
  }
  const video = { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: fps } };
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video });
    showMediaProblem(null);
    return stream;
  } catch (error) {
    if (error.name === "NotFoundError" || error.name === "OverconstrainedError") {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => null);
      showMediaProblem(stream ? t.noCamera : t.notFound);
      return stream;
    }
    showMediaProblem(mediaProblem(error));
    return null;
  }
}

function useMedia(stream) {
  call.media = stream;
  if (micTrack()) micTrack().enabled = !call.micMuted;
  ui.previewVideo.srcObject = cameraTrack() ? new MediaStream([cameraTrack()]) : null;
  showControls();
}

function stopTracks(stream) {
  for (const track of stream?.getTracks() || []) track.stop();
}

function stopMedia() {
  call.mediaRequest = null;
  stopTracks(call.media);
  useMedia(null);
}

// Asks for the camera and microphone once, however many joins wait for them.
function mediaReady() {
  if (!call.mediaRequest) {
    const asked = openMedia(call.config.program).then((stream) => {
      if (asked === call.mediaRequest) useMedia(stream);
      else stopTracks(stream); // hung up while the browser asked
    });
    call.mediaRequest = asked;
  }
  return call.mediaRequest;
}

// ---------- the call

function bridge(method, path, body) {
  return request(method, `/api/meetings/${meetingId}/rtc${path}`, body);
}

function gathered(pc) {
  return new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", check);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(resolve, GATHER_MS); // go with the candidates found so far
    check();
  });
}

function newPeer(iceServers) {
  const pc = new RTCPeerConnection({ iceServers });
  const streams = call.media ? [call.media] : [];
  call.audioSender = pc.addTransceiver(micTrack() || "audio", { direction: "sendrecv", streams }).sender;
  const video = sendingVideo() ? cameraTrack() : "video";
  call.videoSender = pc.addTransceiver(video, { direction: "sendrecv", streams }).sender;
  pc.ontrack = ({ track }) => (track.kind === "video" ? showProgramVideo(track) : playProgramAudio(track));
  pc.onconnectionstatechange = () => peerStateChanged(pc);
  return pc;
}

function closePeer() {
  clearTimeout(call.stallTimer);
  if (!call.pc) return;
  call.pc.onconnectionstatechange = null;
  call.pc.ontrack = null;
  call.pc.close();
  call.pc = null;
  call.audioSender = null;
  call.videoSender = null;
  ui.programVideo.srcObject = null;
  ui.programAudio.srcObject = null;
  showProgramMessage(false);
}

async function join() {
  const attempt = ++call.attempt;
  clearTimeout(call.retryTimer);
  closePeer();
  showCallState(call.failures ? "reconnecting" : "connecting");
  try {
    call.config ??= await bridge("GET", "/config");
    await mediaReady();
    if (attempt !== call.attempt) return;
    const pc = newPeer(call.config.ice_servers);
    call.pc = pc;
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (attempt !== call.attempt) return;
    call.mutedByChair = false; // a new peer starts unmuted; the bridge says so if not
    showControls();
    const answer = await bridge("POST", "/offer", { sdp: pc.localDescription.sdp, type: "offer" });
    if (attempt !== call.attempt) return;
    await pc.setRemoteDescription(answer);
    applySendQuality();
    if (call.audioOnly) tellAudioOnly(); // a new peer starts with video
  } catch (error) {
    if (attempt === call.attempt) joinFailed(error);
  }
}

function joinFailed(error) {
  if (error?.status === 401 || error?.status === 403) {
    stopCalling(error.status === 401 ? liveText["signed-out"] : error.message || t.forbidden);
    return;
  }
  if (error?.code === "unsupported_codecs") {
    stopCalling(); // this browser cannot send what the bridge takes: trying again would not help
    showCallProblem(error.message);
    return;
  }
  console.warn("conference: joining failed", error);
  if (error?.status === 409) tell(error.message); // full: said, then tried again
  retryLater();
}

function retryLater() {
  if (!call.wanted || call.stopped) return;
  closePeer();
  call.failures += 1;
  showCallState("reconnecting");
  const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (call.failures - 1));
  call.retryTimer = setTimeout(join, delay * (0.8 + 0.4 * Math.random()));
}

function peerStateChanged(pc) {
  if (pc !== call.pc) return;
  clearTimeout(call.stallTimer);
  const state = pc.connectionState;
  if (state === "connected") {
    call.failures = 0;
    showCallState("online");
  } else if (state === "disconnected") {
    showCallState("reconnecting"); // it may come back by itself; if not, a new offer
    call.stallTimer = setTimeout(() => pc === call.pc && retryLater(), STALL_MS);
  } else if (state === "failed") {
    retryLater();
  }
}

function stopCalling(message) {
  call.stopped = true;
  call.attempt += 1;
  clearTimeout(call.retryTimer);
  closePeer();
  stopMedia();
  showCallState("stopped");
  if (message) tell(message);
}

function hangUp() {
  call.wanted = false;
  call.attempt += 1;
  clearTimeout(call.retryTimer);
  closePeer();
  stopMedia();
  showCallState("ended");
  bridge("DELETE", "").catch(() => {}); // the bridge also lets a silent peer go by itself
}

function rejoin() {
  call.wanted = true;
  call.failures = 0;
  showControls();
  join();
}

// Sends the camera at the size and rate the bridge asks for: full on the program,
// a thumbnail otherwise.
async function applySendQuality() {
  const sender = call.videoSender;
  const track = sender?.track;
  const wanted = call.sendQuality;
  if (!track || !wanted) return;
  const params = sender.getParameters();
  if (!params.encodings?.length) return; // not negotiated yet: applied once the answer is in
  const { width = wanted.width, height = wanted.height } = track.getSettings();
  params.encodings[0].scaleResolutionDownBy = Math.max(1, width / wanted.width, height / wanted.height);
  params.encodings[0].maxFramerate = wanted.fps;
  try {
    await sender.setParameters(params);
  } catch (error) {
    console.warn("conference: the camera's size could not be changed", error);
  }
}

function tellAudioOnly() {
  live?.send("rtc.audio_only", { on: call.audioOnly }).catch(() => {}); // said again on rejoin
}

async function toggleAudioOnly() {
  call.audioOnly = !call.audioOnly;
  showControls();
  showProgramMessage(ui.programVideo.srcObject?.getVideoTracks()[0]?.muted === false);
  await call.videoSender?.replaceTrack(sendingVideo() ? cameraTrack() : null);
  applySendQuality();
  tellAudioOnly();
}

function toggleMic() {
  call.micMuted = !call.micMuted;
  if (micTrack()) micTrack().enabled = !call.micMuted;
  showControls();
}

// ---------- the meeting socket

function onSnapshot(state) {
  for (const person of state.attendance?.people || []) names.set(person.user_id, person.name);
  if (state.presented) present(state.presented);
  showProgram(state.conference?.program);
}

function onSocketStatus(name) {
  if (name === "reconnecting" || name === "offline") socketDropped = true;
  if (name === "signed-out") stopCalling(liveText["signed-out"]);
  if (name === "forbidden") stopCalling(t.forbidden);
}

function onSocketReady() {
  if (!socketDropped) return;
  socketDropped = false;
  if (call.wanted && !call.stopped) join(); // the bridge may have lost this peer with the socket
}

function floorView() {
  if (!$("floor-request")) return null;
  return createFloor({
    userId,
    button: $("floor-request"),
    place: $("floor-place"),
    banner: $("floor-banner"),
    notify: tell,
    itemOf: () => presented?.item_id ?? null,
  });
}

function connect() {
  statusIndicator();
  const floor = floorView();
  if (floor) syncClock();
  live = connectMeeting(meetingId, joinHandlers({
    snapshot: onSnapshot,
    "page.presented": present,
    "rtc.send"(event) {
      call.sendQuality = event;
      applySendQuality();
    },
    "rtc.level"(event) {
      showLevel(event.level);
      steadySound(event.level);
    },
    "rtc.muted"(event) {
      call.mutedByChair = Boolean(event.muted);
      showControls();
    },
    "rtc.program": showProgram,
    "meeting.started": () => live.send("attendance.here").catch(() => {}),
    status: onSocketStatus,
    ready: onSocketReady,
  }, ...(floor ? [floor.handlers] : [])));
  floor?.attach(live);
}

function start() {
  ui.mic.addEventListener("click", toggleMic);
  ui.camera.addEventListener("click", toggleAudioOnly);
  ui.callToggle.addEventListener("click", () => (call.wanted ? hangUp() : rejoin()));
  ui.soundOn.addEventListener("click", playSound);
  ui.retry.addEventListener("click", () => {
    showMediaProblem(null);
    stopMedia();
    rejoin();
  });
  // Leaving the page hangs up at once, rather than leaving a frozen picture for the bridge.
  window.addEventListener("pagehide", () => {
    if (!call.pc) return;
    fetch(`/api/meetings/${meetingId}/rtc`, { method: "DELETE", keepalive: true, headers: { "X-CSRFToken": csrfToken() } });
  });
  showControls();
  connect();
  join();
}

start();
