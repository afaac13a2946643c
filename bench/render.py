"""Page rendering benchmark: how fast pages become images, and how fast a tablet gets them.

What it measures, on one real 60+ page PDF (the demo session's Vietnamese council papers,
merged with PyMuPDF and repeated until the book has at least 60 pages):

1. Renderer throughput at 150 dpi, phonghop against poppler's `pdftoppm`, in the same run:
   - phonghop: `agenda.render.render_page(path, n, width)` with width = page width in points
     / 72 * 150, WebP encoding included; once in this process (1 core) and once on a forkserver
     `ProcessPoolExecutor` with one worker per core, as the server's `PageRenderer` runs it;
   - `pdftoppm -r 150 -png` as it ships (one process), and N processes each doing a slice of
     the pages with -f/-l (all cores); plus PPM output for reference (pdftoppm's default
     format, chosen by giving no format flag: it has no -ppm; PPM is uncompressed).
   Each is warmed up once, then timed 3 times; the best run counts. Ratios are phonghop's
   pages/s over pdftoppm PNG's, for 1 core and for all cores.
2. Page request latency on loopback: a fresh data dir seeded with `phonghop demo --seed-only`,
   `phonghop serve` on 127.0.0.1 as a subprocess, sign-in as the secretary `thuky`, the book
   uploaded to the meeting's first agenda item, then GET /api/documents/{id}/pages/{n}?w=1280:
   - cold: every page once (each is rendered on its first request);
   - warm: every page again, several rounds, one keep-alive client, one request at a time;
   - warm concurrent: many clients, each on its own connection asking for every page, all at
     once (failed requests are counted in "errors", not fatal);
   - 304: every page with If-None-Match set to its ETag.
   GET /static/css/app.css (no session, no database) is timed the same way, as the floor that
   the HTTP client and the framework put under every request. The clients run in this process,
   on the same cores as the server, so on a small machine they take CPU from it; the 1-minute
   load average at the end is reported to show how busy the machine was.

Targets: phonghop on all cores at least as fast as pdftoppm PNG on all cores (ratio_all >= 1),
warm page GET p99 <= 5 ms.

Run from the project root:

    .venv/bin/python bench/render.py [--port 8766] [--rounds 5] [--clients 20] [--timeout 300]

One JSON object goes to stdout, progress to stderr. The server is always stopped and the
temporary dirs removed, also on errors and timeouts. Exit code 0 when the benchmark ran, even
if targets were missed ("met": false); 1 when it could not run or did not finish in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import functools
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import httpx
import pymupdf
from harness import (
    BenchFailed,
    Deadline,
    Server,
    phonghop_command,
    progress,
    run_benchmark,
    running_server,
    server_env,
)

from agenda.demo_papers import demo_session
from agenda.render import render_page

DPI = 150
MIN_PAGES = 60
RUNS = 3
PAGE_WIDTH = 1280  # what a tablet asks the server for
TARGET_RATIO_ALL = 1.0
TARGET_WARM_P99_MS = 5
SECRETARY, PASSWORD = "thuky", "demo2026"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8766, help="port for the server on 127.0.0.1")
    parser.add_argument("--rounds", type=int, default=5, help="warm rounds over every page")
    parser.add_argument("--clients", type=int, default=20, help="clients in the concurrent run")
    parser.add_argument("--timeout", type=float, default=300.0, help="overall limit in seconds")
    args = parser.parse_args()
    if args.rounds < 1 or args.clients < 1:
        parser.error("--rounds and --clients must be at least 1")
    return args


def percentiles_ms(seconds: list[float]) -> dict[str, float | None]:
    """Nearest-rank p50, p99 and max in milliseconds (None when nothing was timed)."""

    def rank(fraction: float) -> float | None:
        if not seconds:
            return None
        ordered = sorted(seconds)
        return round(ordered[max(1, math.ceil(fraction * len(ordered))) - 1] * 1000, 2)

    return {"p50": rank(0.50), "p99": rank(0.99), "max": rank(1.0)}


# --- the PDF --------------------------------------------------------------------------------


def build_book(path: Path) -> list[int]:
    """Writes the demo papers, repeated to MIN_PAGES or more, to `path`; returns pixel widths."""
    items = demo_session("Hội đồng nhân dân phường Ba Đình", "Hà Nội", datetime.date(2026, 12, 15))
    papers = [paper.pdf for item in items for paper in item.papers]
    if not papers:
        raise BenchFailed("the demo session has no papers")
    with pymupdf.open() as book:
        while book.page_count < MIN_PAGES:
            for pdf in papers:
                with pymupdf.open(stream=pdf, filetype="pdf") as paper:
                    book.insert_pdf(paper)
        book.save(path, garbage=3, deflate=True)
        return [round(page.rect.width / 72 * DPI) for page in book]


# --- 1. renderer throughput -----------------------------------------------------------------


@dataclass
class Timed:
    """One timed run: its seconds and how many bytes of images it made."""

    seconds: float
    out_bytes: int


def best_run(
    label: str,
    pages: int,
    warm_up: Callable[[], Timed],
    run: Callable[[], Timed],
    deadline: Deadline,
) -> Timed:
    """Warms up once, then runs RUNS times; the fastest run."""
    deadline.check(f"warming up {label}")
    warm_up()
    runs = []
    for _ in range(RUNS):
        deadline.check(f"timing {label}")
        runs.append(run())
    best = min(runs, key=lambda timed: timed.seconds)
    progress(f"{label}: best {pages / best.seconds:.1f} pages/s of {RUNS} runs ({load()})")
    return best


def load() -> str:
    return "load " + ", ".join(f"{value:.1f}" for value in os.getloadavg())


def phonghop_one_core(path: Path, widths: list[int], deadline: Deadline) -> Timed:
    started, out_bytes = time.perf_counter(), 0
    for number, width in enumerate(widths, start=1):
        out_bytes += len(render_page(path, number, width))
        deadline.check("rendering in one process")
    return Timed(time.perf_counter() - started, out_bytes)


def phonghop_pool(
    pool: ProcessPoolExecutor, path: Path, widths: list[int], deadline: Deadline
) -> Timed:
    started, out_bytes = time.perf_counter(), 0
    numbers = range(1, len(widths) + 1)
    # One page per task, as the server submits them.
    for image in pool.map(render_page, repeat(path), numbers, widths, timeout=deadline.left()):
        out_bytes += len(image)
    return Timed(time.perf_counter() - started, out_bytes)


def page_slices(first: int, last: int, parts: int) -> list[tuple[int, int]]:
    """Up to `parts` contiguous (first, last) ranges, 1-based, covering first..last once."""
    count = last - first + 1
    bounds = [first - 1 + round(count * part / parts) for part in range(parts + 1)]
    return [(lo + 1, hi) for lo, hi in zip(bounds, bounds[1:], strict=False) if hi > lo]


def pdftoppm(
    path: Path, out_dir: Path, fmt: list[str], slices: list[tuple[int, int]], deadline: Deadline
) -> Timed:
    """pdftoppm processes, one per slice, all started at once, until the last one is done."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir()
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                "pdftoppm",
                "-r",
                str(DPI),
                *fmt,
                "-f",
                str(first),
                "-l",
                str(last),
                str(path),
                str(out_dir / f"s{first}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for first, last in slices
    ]
    try:
        for process in processes:
            _, errors = process.communicate(timeout=deadline.left())
            if process.returncode != 0:
                raise BenchFailed(f"pdftoppm failed ({process.returncode}): {errors.decode()}")
    except subprocess.TimeoutExpired as exc:
        raise BenchFailed("pdftoppm did not finish within the overall timeout") from exc
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    seconds = time.perf_counter() - started
    return Timed(seconds, sum(file.stat().st_size for file in out_dir.iterdir()))


def render_pool(workers: int) -> ProcessPoolExecutor:
    # As server.documents.rendering.PageRenderer makes it.
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )


def time_pdftoppm(
    path: Path, pages: int, cpus: int, out_dir: Path, deadline: Deadline
) -> dict[str, Timed]:
    """pdftoppm PNG in one process and in one process per core, and PPM in one process."""
    warm = page_slices(1, cpus, cpus)  # one page per process: binary, libraries, file cached
    whole, sliced = [(1, pages)], page_slices(1, pages, cpus)

    def timed(label: str, fmt: list[str], slices: list[tuple[int, int]]) -> Timed:
        return best_run(
            label,
            pages,
            lambda: pdftoppm(path, out_dir, fmt, warm, deadline),
            lambda: pdftoppm(path, out_dir, fmt, slices, deadline),
            deadline,
        )

    return {
        "png_1": timed("pdftoppm -png, 1 process", ["-png"], whole),
        "png_all": timed(f"pdftoppm -png, {len(sliced)} processes", ["-png"], sliced),
        "ppm_1": timed("pdftoppm (PPM), 1 process", [], whole),
    }


def time_phonghop(path: Path, widths: list[int], cpus: int, deadline: Deadline) -> dict[str, Timed]:
    """render_page in this process, and on a forkserver pool with one worker per core."""
    pages = len(widths)
    runs = {
        "phonghop_1": best_run(
            "phonghop, 1 core",
            pages,
            lambda: phonghop_one_core(path, widths[:1], deadline),
            lambda: phonghop_one_core(path, widths, deadline),
            deadline,
        )
    }
    pool = render_pool(cpus)
    try:
        # The warm-up is a whole pass, so that every worker has started and opened the file.
        all_pages = functools.partial(phonghop_pool, pool, path, widths, deadline)
        label = f"phonghop, {cpus} workers"
        runs["phonghop_all"] = best_run(label, pages, all_pages, all_pages, deadline)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return runs


def measure_renderers(
    path: Path, widths: list[int], work_dir: Path, deadline: Deadline
) -> dict[str, object]:
    if shutil.which("pdftoppm") is None:
        raise BenchFailed("pdftoppm not found; install poppler-utils")
    cpus = os.cpu_count() or 1
    progress(f"renderers at {DPI} dpi, {len(widths)} pages, {cpus} cores ({load()})")
    runs = time_phonghop(path, widths, cpus, deadline)
    runs |= time_pdftoppm(path, len(widths), cpus, work_dir / "pdftoppm", deadline)
    return renderer_report(len(widths), cpus, runs)


def renderer_report(pages: int, cpus: int, runs: dict[str, Timed]) -> dict[str, object]:
    rate = {key: pages / timed.seconds for key, timed in runs.items()}
    return {
        "phonghop_pages_per_s_1core": round(rate["phonghop_1"], 1),
        "phonghop_pages_per_s_all": round(rate["phonghop_all"], 1),
        "pdftoppm_png_pages_per_s_1proc": round(rate["png_1"], 1),
        "pdftoppm_png_pages_per_s_all": round(rate["png_all"], 1),
        "pdftoppm_ppm_pages_per_s_1proc": round(rate["ppm_1"], 1),
        "ratio_1core": round(rate["phonghop_1"] / rate["png_1"], 2),
        "ratio_all": round(rate["phonghop_all"] / rate["png_all"], 2),
        "cpus": cpus,
        "webp_kib_per_page": round(runs["phonghop_1"].out_bytes / pages / 1024, 1),
        "png_kib_per_page": round(runs["png_1"].out_bytes / pages / 1024, 1),
    }


# --- 2. the server --------------------------------------------------------------------------


def expect(response: httpx.Response, status: int, doing: str) -> httpx.Response:
    if response.status_code != status:
        raise BenchFailed(f"{doing}: HTTP {response.status_code} {response.text[:300]}")
    return response


async def sign_in(client: httpx.AsyncClient) -> str:
    """Signs the client in as the secretary; returns the CSRF token for later writes."""
    expect(await client.get("/login"), 200, "GET /login")
    token = client.cookies.get("csrftoken")
    if not token:
        raise BenchFailed("GET /login set no csrftoken cookie")
    credentials = {"username": SECRETARY, "password": PASSWORD}
    response = await client.post("/login", json=credentials, headers={"X-CSRFToken": token})
    user = expect(response, 200, "POST /login").json().get("user", {})
    if user.get("username") != SECRETARY:
        raise BenchFailed(f"POST /login signed in as {user!r}")
    return token


def first_item_id(items: list[dict[str, object]]) -> int:
    if not items:
        raise BenchFailed("meeting 1 has no agenda items")
    return int(items[0]["id"])  # type: ignore[call-overload]


async def upload_book(client: httpx.AsyncClient, token: str, pdf: bytes) -> tuple[int, int]:
    """Uploads the book to meeting 1's first agenda item; returns (document id, page count)."""
    meeting = expect(await client.get("/api/meetings/1"), 200, "GET /api/meetings/1").json()
    item_id = first_item_id(meeting["items"])
    response = await client.post(
        f"/api/items/{item_id}/documents",
        files={"file": ("bench-book.pdf", pdf, "application/pdf")},
        data={"title": "Benchmark book"},
        headers={"X-CSRFToken": token},
    )
    document = expect(response, 201, "uploading the book").json()
    return int(document["id"]), int(document["page_count"])


@dataclass
class PageRun:
    """Latencies of one series of requests, the ETags the server gave, and what went wrong."""

    seconds: list[float]
    etags: dict[int, str]
    errors: int = 0


def check_image(response: httpx.Response, url: str) -> None:
    if response.status_code == 200 and "/pages/" in url:
        kind = response.headers.get("content-type", "")
        if kind != "image/webp" or response.content[8:12] != b"WEBP":
            raise BenchFailed(f"GET {url} answered {kind!r}, not a WebP image")


async def get_pages(
    client: httpx.AsyncClient,
    urls: list[str],
    status: int,
    etags: dict[int, str] | None = None,
    strict: bool = True,
) -> PageRun:
    """GETs each URL in turn (with If-None-Match when `etags` is given) and times each one.

    Strict: any other status stops the benchmark. Otherwise it is counted in `errors`.
    """
    run = PageRun([], {})
    for number, url in enumerate(urls, start=1):
        headers = {"If-None-Match": etags[number]} if etags else None
        started = time.perf_counter()
        try:
            response = await client.get(url, headers=headers)
        except httpx.HTTPError:
            if strict:
                raise
            run.seconds.append(time.perf_counter() - started)
            run.errors += 1
            continue
        run.seconds.append(time.perf_counter() - started)
        if response.status_code != status and not strict:
            run.errors += 1
            continue
        check_image(expect(response, status, f"GET {url}"), url)
        run.etags[number] = response.headers.get("etag", "")
    return run


async def rounds_of(
    client: httpx.AsyncClient,
    urls: list[str],
    rounds: int,
    status: int,
    etags: dict[int, str] | None = None,
) -> list[float]:
    """Latencies of `rounds` passes over `urls`, one request at a time on one connection."""
    seconds: list[float] = []
    for _ in range(rounds):
        seconds += (await get_pages(client, urls, status, etags)).seconds
    return seconds


async def concurrent_pages(
    base_url: str, cookies: httpx.Cookies, urls: list[str], clients: int
) -> dict[str, object]:
    """`clients` clients, each with its own connection, GET every page, all at once."""
    async with contextlib.AsyncExitStack() as stack:
        tablets = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, cookies=cookies, trust_env=False, timeout=60)
            )
            for _ in range(clients)
        ]
        for tablet in tablets:  # open each connection before the clock starts
            expect(await tablet.get(urls[0]), 200, "warming up a tablet")
        started = time.perf_counter()
        runs = await asyncio.gather(
            *(get_pages(tablet, urls, 200, strict=False) for tablet in tablets)
        )
        wall = time.perf_counter() - started
    seconds = [latency for run in runs for latency in run.seconds]
    progress(f"concurrent: {clients} clients x {len(urls)} pages in {wall:.2f} s")
    return {
        "clients": clients,
        **percentiles_ms(seconds),
        "rps": round(len(seconds) / wall, 1),
        "errors": sum(run.errors for run in runs),
    }


async def measure_pages(
    client: httpx.AsyncClient, document_id: int, pages: int, args: argparse.Namespace
) -> dict[str, object]:
    urls = [f"/api/documents/{document_id}/pages/{n}?w={PAGE_WIDTH}" for n in range(1, pages + 1)]
    cold = await get_pages(client, urls, 200)
    progress(f"cold: {pages} pages rendered on request, {percentiles_ms(cold.seconds)}")
    warm = await rounds_of(client, urls, args.rounds, 200)
    progress(f"warm: {len(warm)} requests, {percentiles_ms(warm)}")
    not_modified = await rounds_of(client, urls, args.rounds, 304, cold.etags)
    # The floor under every request: this client, loopback, uvicorn and Litestar, no session.
    static = await rounds_of(client, ["/static/css/app.css"] * pages, args.rounds, 200)
    concurrent = await concurrent_pages(str(client.base_url), client.cookies, urls, args.clients)
    return {
        "page_width_px": PAGE_WIDTH,
        "page_get_cold_ms": percentiles_ms(cold.seconds),
        "page_get_warm_ms": percentiles_ms(warm),
        "page_get_warm_concurrent": concurrent,
        "page_get_304_ms": percentiles_ms(not_modified),
        "static_get_ms": percentiles_ms(static),
    }


async def measure_server(server: Server, pdf: bytes, args: argparse.Namespace) -> dict[str, object]:
    await server.healthy()
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=120) as client:
        token = await sign_in(client)
        progress(f"server is up, signed in as {SECRETARY}; uploading {len(pdf) // 1024} KiB")
        document_id, pages = await upload_book(client, token, pdf)
        progress(f"document {document_id} has {pages} pages")
        return await measure_pages(client, document_id, pages, args)


def run_server_part(
    pdf: bytes, data_dir: Path, args: argparse.Namespace, deadline: Deadline
) -> dict[str, object]:
    env = server_env(data_dir)
    progress("seeding the demo council")
    phonghop_command(["demo", "--seed-only"], env, deadline)
    with running_server(args.port, env) as server:
        work = measure_server(server, pdf, args)
        try:
            return asyncio.run(asyncio.wait_for(work, timeout=deadline.left()))
        except TimeoutError as exc:
            raise BenchFailed("the overall timeout ran out during the page requests") from exc


# --- putting it together --------------------------------------------------------------------


def build_report(
    pdf_pages: int, renderers: dict[str, object], pages: dict[str, object]
) -> dict[str, object]:
    report: dict[str, object] = {
        "benchmark": "render",
        "pdf_pages": pdf_pages,
        "dpi": DPI,
        **renderers,
        **pages,
        "targets": {"ratio_all": TARGET_RATIO_ALL, "warm_p99_ms": TARGET_WARM_P99_MS},
        # Other work on the machine skews every number here; this says how busy it was.
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
    }
    warm_p99 = pages["page_get_warm_ms"]["p99"]  # type: ignore[index]
    report["met"] = (
        renderers["ratio_all"] >= TARGET_RATIO_ALL  # type: ignore[operator]
        and warm_p99 is not None
        and warm_p99 <= TARGET_WARM_P99_MS
    )
    return report


def run(args: argparse.Namespace, temp: Path, deadline: Deadline) -> dict[str, object]:
    book = temp / "book.pdf"
    widths = build_book(book)
    progress(f"built a {len(widths)}-page book ({book.stat().st_size // 1024} KiB)")
    renderers = measure_renderers(book, widths, temp, deadline)
    data_dir = temp / "data"
    data_dir.mkdir()
    pages = run_server_part(book.read_bytes(), data_dir, args, deadline)
    return build_report(len(widths), renderers, pages)


def main() -> int:
    args = parse_args()
    deadline = Deadline(args.timeout)
    return run_benchmark(lambda temp: run(args, temp, deadline), httpx.HTTPError, TimeoutError)


if __name__ == "__main__":
    sys.exit(main())
