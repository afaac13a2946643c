// The agenda book on the tablet: the reader downloads a meeting's book (and the confidential
// papers this person may read, as the watermarked images the server made for them) at the
// tablet's width, page by page, into the browser's cache, where the service worker (sw.js)
// reads it. One cache per document and width, named for its person and meeting, so what a
// person may no longer read, or another person's papers, can be found and removed.

import { say } from "./kit.js";
import { pageImageUrl } from "./presented.js";

const PREFIX = "phonghop-book";
const AT_ONCE = 3; // requests in flight while downloading: the hall's Wi-Fi is shared
const RETRY_MS = 5000;

// "phonghop-book-u3-m7-d12-w1024-c": user 3, meeting 7, document 12, 1024 px, confidential
function cacheName({ userId, meetingId, documentId, width, confidential }) {
  return `${PREFIX}-u${userId}-m${meetingId}-d${documentId}-w${width}${confidential ? "-c" : ""}`;
}

function parse(name) {
  const found = /^phonghop-book-u(\d+)-m(\d+)-d(\d+)-w(\d+)(-c)?$/.exec(name);
  if (!found) return null;
  const [, userId, meetingId, documentId, width, confidential] = found;
  return { name, userId: +userId, meetingId: +meetingId, documentId: +documentId, width: +width, confidential: !!confidential };
}

async function kept() {
  if (!("caches" in window)) return [];
  return (await caches.keys()).map(parse).filter(Boolean);
}

// The service worker that lets the reader open and work with the network gone.
export async function installWorker() {
  if (!("serviceWorker" in navigator)) return false;
  try {
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    await navigator.serviceWorker.ready;
    return true;
  } catch {
    return false; // an old browser or a refused install: the reader works as before, online
  }
}

// The reader page and every static file it loaded, so it opens again with the network gone
// (they were fetched before the worker was there to keep them).
export async function keepShell() {
  const files = performance
    .getEntriesByType("resource")
    .map((entry) => new URL(entry.name))
    .filter((url) => url.origin === location.origin && url.pathname.startsWith("/static/"))
    .map((url) => url.pathname + url.search);
  const cache = await caches.open("phonghop-shell");
  await cache.addAll([location.pathname + location.search, ...new Set(files)]);
}

// Removes what no longer belongs on this tablet: another person's books, and of this meeting
// the documents not in `keep` (an older version, a paper this person may no longer read).
export async function tidy(userId, meetingId, keep) {
  for (const book of await kept()) {
    const stale = book.userId !== userId || (book.meetingId === meetingId && !keep.has(book.documentId));
    if (stale) await caches.delete(book.name);
  }
}

// Confidential papers leave the tablet when the meeting ends; everything of the meeting when
// the person loses access to it.
export async function forget(meetingId, { confidentialOnly = false } = {}) {
  for (const book of await kept()) {
    if (book.meetingId === meetingId && (book.confidential || !confidentialOnly)) await caches.delete(book.name);
  }
}

// Every kept book of every person: signing out leaves nothing behind.
export async function forgetAll() {
  for (const book of await kept()) await caches.delete(book.name);
  if ("caches" in window) await caches.delete("phonghop-shell");
}

// Downloads `doc` (its facts from /api/documents/{id}) at `width` into its cache, skipping
// what is there already; `progress(done, total)` after each page. Resolves when every page
// and its words are kept; keeps trying while `wanted()`, every few seconds after a failure.
export async function keepBook(doc, { userId, meetingId, width, progress, wanted }) {
  const cache = await caches.open(cacheName({ userId, meetingId, documentId: doc.id, width, confidential: doc.confidential }));
  const facts = `/api/documents/${doc.id}`;
  const files = (page) => [pageImageUrl(doc, page, width), `/api/documents/${doc.id}/pages/${page}/words`];
  const missing = [];
  let done = 0;
  for (let page = 1; page <= doc.page_count; page++) {
    const held = await Promise.all(files(page).map((url) => cache.match(url)));
    if (held.every(Boolean)) done++;
    else missing.push(page);
  }
  progress(done, doc.page_count);
  const fetchPage = async (page) => {
    while (wanted()) {
      try {
        await cache.addAll(files(page));
        progress(++done, doc.page_count);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  };
  const queue = [...missing];
  const worker = async () => {
    while (queue.length && wanted()) await fetchPage(queue.shift());
  };
  await Promise.all(Array.from({ length: AT_ONCE }, worker));
  if (done !== doc.page_count) return false;
  try {
    await cache.put(facts, await fetch(facts));
  } catch {
    return false; // the link went just now: the next round keeps the facts
  }
  return true;
}

export const words = {
  loading: (done, total) => say(`Đã tải ${done}/${total} trang`, `Downloaded ${done}/${total} pages`),
  ready: () => say("Sẵn sàng ngoại tuyến", "Ready offline"),
  readyTitle: () =>
    say(
      "Tài liệu kỳ họp đã nằm trên máy này: đọc, tìm, ghi chú được cả khi mất mạng.",
      "The agenda book is on this device: reading, search and notes work without the network.",
    ),
};
