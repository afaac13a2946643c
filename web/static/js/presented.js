// A document's pages as the server gives them, for every view of a page: the reader, and the
// page the chair presents on the projector and the conference page. Document facts and word
// boxes are fetched once per page load; images are decoded off screen before they are shown,
// so a screen never goes blank between two pages.

import { pickWords, request } from "./kit.js";

const TEXT = {
  vi: {
    page: (n, count) => (count ? `Trang ${n}/${count}` : `Trang ${n}`),
    cannotShow: "Tài liệu này không hiển thị được trên màn hình này.",
  },
  en: {
    page: (n, count) => (count ? `Page ${n}/${count}` : `Page ${n}`),
    cannotShow: "This document cannot be shown on this screen.",
  },
};
export const presentedText = pickWords(TEXT);

const RETRY_MS = 3000;
const A4 = [595.28, 841.89];
const documents = new Map(); // id -> promise of metadata
const words = new Map(); // "doc:page" -> promise of word boxes

// Asked once; a failure is forgotten, so the next call asks again.
function once(cache, key, ask) {
  if (!cache.has(key)) {
    const answer = ask();
    answer.catch(() => cache.delete(key));
    cache.set(key, answer);
  }
  return cache.get(key);
}

// The document's metadata (title, page sizes, labels), or the request's error (kit.js).
export function documentInfo(id) {
  return once(documents, id, () => request("GET", `/api/documents/${id}`));
}

// The word boxes of a page, [x0, y0, x1, y1, text] in page fractions.
export function pageWords(documentId, page) {
  return once(words, `${documentId}:${page}`, () =>
    request("GET", `/api/documents/${documentId}/pages/${page}/words`).then((body) => body.words || []));
}

// The printed number of physical page `page` (1-based): "ii", "3".
export function pageLabel(doc, page) {
  return doc?.page_labels?.[page - 1] ?? String(page);
}

// "Trang 3/37": a page by its printed number (the server's `label` for a presented page),
// with the printed page count on content pages; "Trang ii" on the front matter.
export function pageName(event, doc) {
  const label = event.label ?? pageLabel(doc, event.page);
  const total = /^\d+$/.test(label) && doc ? doc.printed_page_count : null;
  return presentedText.page(label, total);
}

// [width, height] of a page in points; A4 portrait until the facts say otherwise.
export function pageSize(doc, page) {
  const sizes = doc?.pages || [];
  return sizes[page - 1] || sizes[0] || A4;
}

// A confidential page is watermarked for its reader: its address names them (`viewer`), so no
// cache on a shared tablet hands one person's copy to the next.
export function pageImageUrl(doc, page, width) {
  const viewer = doc.viewer ? `&v=${doc.viewer}` : "";
  return `/api/documents/${doc.id}/pages/${page}?w=${width}${viewer}`;
}

// Resolves true once `url` is decoded, trying again every few seconds while `wanted()`;
// false when a newer page made it moot.
export async function decoded(url, wanted) {
  while (wanted()) {
    const probe = new Image();
    probe.src = url;
    try {
      await probe.decode();
      return wanted();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
    }
  }
  return false;
}
