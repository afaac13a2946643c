// The QR reader worker of the check-in panel (checkin.js): decodes one camera frame at a time
// with the vendored jsQR, off the page's thread, so the page stays quick while it reads.
//
//   worker.postMessage({ pixels, width, height }, [pixels])  // RGBA bytes of a frame
//   worker.onmessage = ({ data }) => data.code               // the QR code's text, or null

importScripts("/static/vendor/jsqr/jsQR.js");

self.onmessage = ({ data }) => {
  const { pixels, width, height } = data;
  const found = self.jsQR(new Uint8ClampedArray(pixels), width, height, { inversionAttempts: "dontInvert" });
  self.postMessage({ code: found ? found.data : null });
};
