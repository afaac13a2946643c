// Page-wide behaviour: htmx shows refusals (4xx) in the flash area instead of dropping them.
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
  const flash = document.getElementById("flash");
  flash.innerHTML = "";
  const p = document.createElement("p");
  p.className = "error";
  p.textContent = document.documentElement.lang === "en"
    ? "No connection to the server. Check the network and try again."
    : "Không kết nối được máy chủ. Kiểm tra mạng rồi thử lại.";
  flash.append(p);
});
