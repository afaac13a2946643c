// The page the chair presents, as sharp page images: shared by the projector and the
// conference page. Document facts are fetched once per page load; images are decoded off
// screen before they are shown, so a screen never goes blank between two pages.

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
export const presentedText = TEXT[document.documentElement.lang] || TEXT.vi;

const RETRY_MS = 3000;
const documents = new Map(); // id -> promise of metadata

// The document's metadata (title, page sizes), or a rejection when it cannot be read.
export function documentInfo(id) {
  if (!documents.has(id)) {
    const request = fetch(`/api/documents/${id}`, { headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))));
    request.catch(() => documents.delete(id));
    documents.set(id, request);
  }
  return documents.get(id);
}

// "Trang 3/37": the presented page by its printed number (the server's `label`), with the
// printed page count on content pages; "Trang ii" on the front matter.
export function pageName(event, doc) {
  const label = event.label ?? doc?.page_labels?.[event.page - 1] ?? String(event.page);
  const total = /^\d+$/.test(label) && doc ? doc.printed_page_count : null;
  return presentedText.page(label, total);
}

// [width, height] of a page in points; A4 portrait until the facts say otherwise.
export function pageSize(doc, page) {
  return doc?.pages?.[page - 1] || [595, 842];
}

export function pageImageUrl(documentId, page, width) {
  return `/api/documents/${documentId}/pages/${page}?w=${width}`;
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
