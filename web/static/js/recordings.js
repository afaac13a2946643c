// The recordings page: the chapter list seeks the video (browsers do not show a chapters
// track themselves) and marks the chapter being played.

const video = document.getElementById("recording-video");
const buttons = [...document.querySelectorAll(".chapter")];

function current() {
  const now = video.currentTime;
  let playing = null;
  for (const button of buttons) if (Number(button.dataset.start) <= now + 0.05) playing = button;
  for (const button of buttons) button.setAttribute("aria-current", String(button === playing));
}

if (video) {
  for (const button of buttons) {
    button.addEventListener("click", () => {
      video.currentTime = Number(button.dataset.start);
      current();
      video.play().catch(() => {}); // autoplay rules may refuse; the seek stands
    });
  }
  video.addEventListener("timeupdate", current);
  video.addEventListener("seeked", current);
}
