// The chair's "Điểm cầu" panel (meeting page): a live thumbnail of every point on the video
// bridge, who is talking, who is on the program; the chair picks the program's source or
// leaves it automatic, and mutes a point. The bridge sends `rtc.points` about once a second.
//
//   const points = createConferenceConsole(root, { meetingId });
//   const link = connectMeeting(id, joinHandlers(mine, points.handlers));
//   points.attach(link);

import { button, el, pickWords } from "./kit.js";
import { sendFromPanel } from "./live.js";

const TEXT = {
  vi: {
    pick: "Lên hình",
    onProgram: "Đang lên hình",
    mute: "Tắt micrô",
    unmute: "Bật micrô",
    muted: "Đã tắt micrô",
    audioOnly: "Chỉ có tiếng",
    noPicture: "Chưa có hình",
    talking: "Đang nói",
    program: (name, auto) => `Đang lên hình: ${name}${auto ? " (tự động)" : ""}`,
    nobodyOnProgram: (auto) => (auto ? "Chưa ai lên hình (tự động)" : "Chưa ai lên hình"),
  },
  en: {
    pick: "Put on screen",
    onProgram: "On screen",
    mute: "Mute",
    unmute: "Unmute",
    muted: "Muted",
    audioOnly: "Sound only",
    noPicture: "No picture yet",
    talking: "Talking",
    program: (name, auto) => `On screen: ${name}${auto ? " (automatic)" : ""}`,
    nobodyOnProgram: (auto) => (auto ? "Nobody on screen (automatic)" : "Nobody on screen"),
  },
};
const t = pickWords(TEXT);

const THUMB_EVERY_MS = 1000;

// `root` holds #points-program, #points-auto, #points-error, #points-grid and #points-none.
export function createConferenceConsole(root, { meetingId }) {
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    program: $("#points-program"),
    auto: $("#points-auto"),
    error: $("#points-error"),
    grid: $("#points-grid"),
    none: $("#points-none"),
  };
  const tiles = new Map(); // user_id -> {element, point, parts…, loading}
  let link = null;
  let program = { source: null, auto: true };

  function run(type, fields = {}) {
    return sendFromPanel({ root, error: ui.error, link }, type, fields);
  }

  function newTile(userId) {
    const tile = { element: el("li", "point"), loading: false, point: null };
    tile.element.dataset.user = userId;
    const picture = el("div", "point-picture");
    tile.image = el("img", { alt: "", hidden: true });
    tile.noPicture = el("span", "point-no-picture");
    tile.badge = el("span", "point-badge", t.onProgram);
    picture.append(tile.image, tile.noPicture, tile.badge);
    const meter = el("div", "point-meter");
    tile.level = el("span");
    meter.append(tile.level);
    tile.name = el("p", "point-name");
    tile.flags = el("p", "point-flags");
    tile.pick = button(t.pick, () => run("rtc.pick", { point: userId }), "primary point-pick");
    tile.mute = button(t.mute, () => run("rtc.mute", { point: userId, muted: !tile.point.muted }), "point-mute");
    const buttons = el("div", "point-buttons");
    buttons.append(tile.pick, tile.mute);
    tile.element.append(picture, meter, tile.name, tile.flags, buttons);
    return tile;
  }

  function showTile(tile, point) {
    tile.point = point;
    const { element: li } = tile;
    li.classList.toggle("talking", point.talking);
    li.classList.toggle("on-program", point.on_program);
    li.classList.toggle("muted", point.muted);
    tile.level.style.width = `${Math.round(Math.min(1, Math.max(0, point.level)) * 100)}%`;
    tile.name.textContent = point.name;
    tile.name.title = point.name;
    const flags = [point.talking && !point.muted && t.talking, point.muted && t.muted, point.audio_only && t.audioOnly];
    tile.flags.textContent = flags.filter(Boolean).join(" · ");
    tile.noPicture.textContent = point.audio_only ? t.audioOnly : t.noPicture;
    tile.image.hidden = point.audio_only || !tile.image.src;
    tile.noPicture.hidden = !tile.image.hidden;
    tile.pick.disabled = point.on_program && !program.auto;
    tile.pick.setAttribute("aria-label", `${t.pick}: ${point.name}`);
    tile.mute.textContent = point.muted ? t.unmute : t.mute;
    tile.mute.setAttribute("aria-label", `${tile.mute.textContent}: ${point.name}`);
    tile.mute.setAttribute("aria-pressed", String(point.muted));
  }

  function showPoints(points) {
    const seen = new Set();
    for (const point of points) {
      seen.add(point.user_id);
      let tile = tiles.get(point.user_id);
      if (!tile) {
        tile = newTile(point.user_id);
        tiles.set(point.user_id, tile);
      }
      showTile(tile, point);
      ui.grid.append(tile.element); // keeps the bridge's order; moving a node keeps its state
    }
    for (const [userId, tile] of tiles) {
      if (seen.has(userId)) continue;
      tile.element.remove();
      tiles.delete(userId);
    }
    ui.none.hidden = tiles.size > 0;
  }

  function showProgram() {
    const source = program.source == null ? null : tiles.get(program.source)?.point;
    ui.program.textContent = source ? t.program(source.name, program.auto) : t.nobodyOnProgram(program.auto);
    ui.auto.setAttribute("aria-pressed", String(program.auto));
    ui.auto.disabled = program.auto;
  }

  // The newest frame of each point, swapped in once decoded so the tile never flickers.
  async function refreshThumb(userId, tile) {
    if (tile.loading || tile.point?.audio_only) return;
    tile.loading = true;
    const url = `/api/meetings/${meetingId}/rtc/points/${userId}/thumb.jpg?t=${Date.now()}`;
    const probe = new Image();
    probe.src = url;
    try {
      await probe.decode();
      tile.image.src = url;
      tile.image.hidden = false;
      tile.noPicture.hidden = true;
    } catch {
      // no frame yet (404) or a lost one: the next round tries again
    } finally {
      tile.loading = false;
    }
  }

  setInterval(() => {
    if (document.hidden) return;
    for (const [userId, tile] of tiles) refreshThumb(userId, tile);
  }, THUMB_EVERY_MS);

  ui.auto.addEventListener("click", () => run("rtc.auto"));
  showProgram();
  return {
    attach(meetingLink) {
      link = meetingLink;
    },
    handlers: {
      snapshot(state) {
        program = state.conference?.program || { source: null, auto: true };
        showPoints(state.conference?.points || []);
        showProgram();
      },
      "rtc.points"(event) {
        program = event.program || program;
        showPoints(event.points || []);
        showProgram();
      },
      "rtc.program"(event) {
        program = { source: event.source, auto: event.auto };
        for (const [userId, tile] of tiles) {
          if (tile.point) showTile(tile, { ...tile.point, on_program: userId === event.source });
        }
        showProgram();
      },
    },
  };
}
