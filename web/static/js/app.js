// Page-wide behaviour: htmx shows refusals (4xx) in the flash area instead of dropping them.

import { el, say } from "./kit.js";

document.addEventListener("DOMContentLoaded", () => {
  if (!window.htmx) return;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];
});

document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 400) {
    event.detail.target = document.getElementById("flash");
    event.detail.shouldSwap = true;
  } else if (event.detail.target.id !== "flash") {
    document.getElementById("flash").replaceChildren();
  }
});

document.addEventListener("htmx:sendError", () => {
  const message = say(
    "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.",
    "No connection to the server. Check the network and try again.",
  );
  document.getElementById("flash").replaceChildren(el("p", "error", message));
});
