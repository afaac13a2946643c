// Page-wide behaviour: htmx shows a refusal (4xx, 5xx) next to the form that was sent, in its
// own error slot; a refusal of a request made outside any form goes to the flash area.

import { el, say } from "./kit.js";
import { forgetAll } from "./offline.js";

document.addEventListener("DOMContentLoaded", () => {
  if (!window.htmx) return;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ];
});

function flash() {
  return document.getElementById("flash");
}

// The form a request came from: the element itself, its form, or the form it sits in.
function formOf(element) {
  if (!element || !element.closest) return null;
  return element.closest("form") || element.form || null;
}

// The form's error slot, made at its end on the first refusal.
function errorSlot(form) {
  let slot = form.querySelector(":scope > .form-error");
  if (!slot) {
    slot = el("div", { className: "form-error span-all", role: "alert" });
    slot.setAttribute("aria-live", "polite");
    form.append(slot);
  }
  return slot;
}

function clearErrors(form) {
  flash()?.replaceChildren();
  form?.querySelector(":scope > .form-error")?.replaceChildren();
}

// What a page asks for by itself (data-quiet, e.g. the bell's count every minute) fails
// silently: nobody asked, so no error is shown for it.
const quiet = (detail) => Boolean((detail.requestConfig?.elt || detail.elt)?.closest?.("[data-quiet]"));

document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  const form = formOf(detail.requestConfig?.elt || detail.elt);
  if (detail.xhr.status >= 400) {
    if (quiet(detail)) return;
    const slot = form && form.isConnected ? errorSlot(form) : flash();
    detail.target = slot;
    detail.swapOverride = "innerHTML";
    detail.shouldSwap = true;
    requestAnimationFrame(() => slot.scrollIntoView({ block: "nearest" }));
  } else if (detail.target.id !== "flash") {
    clearErrors(form);
  }
});

document.addEventListener("htmx:sendError", (event) => {
  if (quiet(event.detail)) return;
  const message = say(
    "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.",
    "No connection to the server. Check the network and try again.",
  );
  const form = formOf(event.detail.requestConfig?.elt || event.detail.elt);
  const slot = form && form.isConnected ? errorSlot(form) : flash();
  slot.replaceChildren(el("p", "error", message));
});

// Signing out leaves no book and no confidential page on a shared tablet.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.getAttribute("action") !== "/logout" || form.dataset.forgotten) return;
  event.preventDefault();
  await forgetAll().catch(() => {});
  form.dataset.forgotten = "1";
  form.submit();
});
