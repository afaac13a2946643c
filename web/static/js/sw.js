// The tablet's service worker: the agenda book is read from the tablet once it is there, and
// the reader opens and works with the network gone.
//
// Pages and word boxes come from the books the reader downloaded (offline.js names their
// caches); the document facts, the reader page and the static files from the network while
// there is one, else from the last copy kept. Everything else goes to the server as before.

const SHELL = "phonghop-shell";
const PAGE_FILE = /^\/api\/documents\/\d+\/pages\/\d+(\/words)?$/;
const DOCUMENT_FACTS = /^\/api\/documents\/\d+$/;
const READER = /^\/meetings\/\d+\/read$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (PAGE_FILE.test(url.pathname)) event.respondWith(fromBook(request));
  else if (DOCUMENT_FACTS.test(url.pathname)) event.respondWith(networkFirst(request, null));
  else if (url.pathname.startsWith("/static/")) event.respondWith(networkFirst(request, SHELL));
  else if (request.mode === "navigate" && READER.test(url.pathname)) {
    event.respondWith(networkFirst(request, SHELL, { ignoreSearch: true }));
  }
});

// A page kept on the tablet costs no bytes; a page at another width is better than none.
async function fromBook(request) {
  const kept = await caches.match(request);
  if (kept) return kept;
  try {
    return await fetch(request);
  } catch (error) {
    const near = await caches.match(request, { ignoreSearch: true });
    if (near) return near;
    throw error;
  }
}

// The network's answer, kept in `keep` when it is good; the kept copy when there is no network.
async function networkFirst(request, keep, options = {}) {
  try {
    const answer = await fetch(request);
    if (keep && answer.ok) {
      const copy = answer.clone();
      caches.open(keep).then((cache) => cache.put(request, copy));
    }
    return answer;
  } catch (error) {
    const kept = await caches.match(request, options);
    if (kept) return kept;
    throw error;
  }
}
