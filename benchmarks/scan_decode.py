"""QR decoding on hard camera frames: jsQR against ZXing (WebAssembly) in Chromium.

    .venv/bin/python benchmarks/scan_decode.py [--frames 20] [--seed 13]
        [--save-frames DIR]

Real badges are rendered (``render_badges_pdf``, the 4 × 3 in layout, as the badge
views print them) and rasterized with pypdfium2. Each badge is then filmed: laid
into a 640 × 480 camera frame (what the scan page decodes) with seeded Pillow and
numpy transforms, ``--frames`` frames per category:

    plain     upright, QR 140–200 px: the easy case, for reference
    small     upright, QR 40–58 px across (the code, quiet zone not counted)
    tilted    rotated 15–30° either way, QR 120–180 px
    blurred   out of focus: Gaussian blur (σ) of 0.25–0.65 of a module, QR 110–160 px
    dim       brightness 6–15 % with a dark floor, sensor noise of 3–6 levels
    glare     a soft highlight over 15–35 % of the QR that washes it out, white
              at its core when strong
    covered   a thumb (a skin-coloured rounded bar) over one side of the code

The app serves a page under its real Content-Security-Policy; headless Debian
Chromium (Playwright) loads the vendored decoders from ``static/vendor/`` and reads
every frame from an ``ImageData`` (the canvas frame a scan loop hands over) with
jsQR 1.4.0 (``inversionAttempts: "dontInvert"``, as the scan page called it), the
``barcode-detector`` ponyfill (ZXing-C++ WebAssembly, through static/js/qr-decoder.js)
and the native ``BarcodeDetector`` when Chromium has one. A frame counts as read only
when the text is the badge's URL. Times are per frame, read or not, after one
warm-up read per engine. Results for the reference machine are in
docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
FRAME = (640, 480)
CATEGORIES = ["plain", "small", "tilted", "blurred", "dim", "glare", "covered"]
NAMES = [
    "Ana Silva",
    "José Núñez",
    "Łukasz Wiśniewski",
    "Oluwaseun Adébáyọ̀-Okonkwo",
    "Chloé de la Fontaine-Beauregard",
    "Mira Lindqvist",
]

# Reads every frame with every engine; returns {engine: [[text|null, ms], ...]}.
READ_FRAMES = """
async ({frames, warmup}) => {
  async function imageData(png) {
    const bytes = Uint8Array.from(atob(png), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], {type: "image/png"}));
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d", {willReadFrequently: true});
    ctx.drawImage(bitmap, 0, 0);
    return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  }
  const images = [];
  for (const png of frames) images.push(await imageData(png));
  const engines = {
    jsqr: async (img) => {
      const code = window.jsQR(img.data, img.width, img.height,
                               {inversionAttempts: "dontInvert"});
      return code ? code.data : null;
    },
  };
  for (const name of ["zxing", "native"]) {
    const detector = await window.MixerQR.detector(name).catch(() => null);
    if (detector) {
      engines[name] = async (img) => {
        const codes = await detector.detect(img);
        return codes.length ? codes[0].rawValue : null;
      };
    }
  }
  const out = {};
  const warm = await imageData(warmup);
  for (const [name, read] of Object.entries(engines)) {
    await read(warm);
    out[name] = [];
    for (const img of images) {
      const t0 = performance.now();
      const text = await read(img);
      out[name].push([text, performance.now() - t0]);
    }
  }
  out.__native = "BarcodeDetector" in window;
  return out;
}
"""

ADD_SCRIPTS = """
async (urls) => {
  for (const url of urls) {
    await new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = () => reject(new Error("could not load " + url));
      document.head.appendChild(script);
    });
  }
  return await window.MixerQR.ready;
}
"""


def render_badges(
    count: int, rng: np.random.Generator
) -> list[tuple[Image.Image, str]]:
    """``count`` real badges as 200 dpi images, each with the URL its QR holds."""
    import pypdfium2 as pdfium

    from mixer.badges.render import BadgeData, render_badges_pdf

    alphabet = np.array(
        list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    )
    badges = []
    for i in range(count):
        token = "".join(rng.choice(alphabet, 22))  # new_badge_token()'s shape
        badges.append(
            BadgeData(
                name=NAMES[i % len(NAMES)],
                qr_url=f"https://mixer.example.org/c/{token}",
                role=("attendee", "mentor", "mentee", "speaker")[i % 4],
                pronouns=("she/her", "he/him", "they/them", "")[i % 4],
                department=("Platform Engineering", "Finance & Risk", "Legal")[i % 3],
                tags=["Python", "Career growth"],
                event_title="Spring Mixer",
                event_date="Thu 05 Mar 2026, 18:00",
                organization="Acme",
            )
        )
    pdf = pdfium.PdfDocument(render_badges_pdf(badges, "badge-4x3"))
    try:
        images = [page.render(scale=200 / 72).to_pil().convert("RGB") for page in pdf]
    finally:
        pdf.close()
    return [(image, badge.qr_url) for image, badge in zip(images, badges, strict=True)]


def qr_box(image: Image.Image) -> tuple[int, int, int, int]:
    """The QR code's box on a badge image (quiet zone excluded), found by zxing-cpp."""
    import zxingcpp

    (found,) = zxingcpp.read_barcodes(image)
    xs = [p.x for p in (found.position.top_left, found.position.bottom_right)]
    ys = [p.y for p in (found.position.top_left, found.position.bottom_right)]
    return min(xs), min(ys), max(xs), max(ys)


def background(rng: np.random.Generator) -> Image.Image:
    """A plausible doorway behind the badge: a soft gradient with some texture."""
    w, h = FRAME
    base = rng.uniform(60, 170, 3)
    ramp = np.linspace(-30, 30, w)[None, :, None] * rng.uniform(-1, 1)
    noise = rng.normal(0, 6, (h // 8, w // 8, 3))
    noise = np.kron(noise, np.ones((8, 8, 1)))
    pixels = np.clip(base + ramp + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(3))


def place(badge: Image.Image, box, qr_px: float, rng, angle: float = 0.0):
    """The badge scaled so its QR is ``qr_px`` across, rotated, pasted on a frame.

    Returns the frame and the QR's centre and side in frame pixels."""
    scale = qr_px / (box[2] - box[0])
    size = (max(1, round(badge.width * scale)), max(1, round(badge.height * scale)))
    card = badge.resize(size, Image.Resampling.LANCZOS)
    mask = Image.new("L", card.size, 255)
    cx = (box[0] + box[2]) / 2 * scale - card.width / 2
    cy = (box[1] + box[3]) / 2 * scale - card.height / 2
    if angle:
        card = card.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        mask = mask.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
        a = math.radians(angle)  # PIL turns counter-clockwise; y points down
        cx, cy = (
            cx * math.cos(a) + cy * math.sin(a),
            -cx * math.sin(a) + cy * math.cos(a),
        )
    frame = background(rng)
    w, h = FRAME
    # The QR lands near the middle of the frame, as a person aims at the camera.
    qx = w / 2 + rng.uniform(-0.15, 0.15) * w
    qy = h / 2 + rng.uniform(-0.12, 0.12) * h
    left = round(qx - card.width / 2 - cx)
    top = round(qy - card.height / 2 - cy)
    frame.paste(card, (left, top), mask)
    return frame, (qx, qy), qr_px


def noise(frame: Image.Image, rng, sigma: float) -> Image.Image:
    pixels = np.asarray(frame, dtype=np.float32)
    pixels = pixels + rng.normal(0, sigma, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def make_frame(category: str, badge, box, modules: int, rng) -> Image.Image:
    """One frame of ``category`` (see the module's docstring); ``box`` is the QR's
    box on ``badge``, ``modules`` its side in modules."""
    if category == "plain":
        frame, _, _ = place(badge, box, rng.uniform(140, 200), rng)
        return noise(frame, rng, 3)
    if category == "small":
        frame, _, _ = place(badge, box, rng.uniform(40, 58), rng)
        return noise(frame, rng, 3)
    if category == "tilted":
        angle = rng.uniform(15, 30) * rng.choice([-1, 1])
        frame, _, _ = place(badge, box, rng.uniform(120, 180), rng, angle)
        return noise(frame, rng, 3)
    if category == "blurred":
        qr_px = rng.uniform(110, 160)
        frame, _, _ = place(badge, box, qr_px, rng)
        module = qr_px / modules
        frame = frame.filter(ImageFilter.GaussianBlur(rng.uniform(0.25, 0.65) * module))
        return noise(frame, rng, 3)
    if category == "dim":
        frame, _, _ = place(badge, box, rng.uniform(120, 180), rng)
        pixels = np.asarray(frame, dtype=np.float32)
        gain = rng.uniform(0.06, 0.15)
        pixels = pixels * gain + rng.uniform(4, 12)
        frame = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        return noise(frame, rng, rng.uniform(3, 6))
    if category == "glare":
        qr_px = rng.uniform(120, 180)
        frame, (qx, qy), _ = place(badge, box, qr_px, rng)
        pixels = np.asarray(frame, dtype=np.float32)
        h, w = pixels.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w]
        # A highlight centred on one part of the code, blown out at its core.
        share = rng.uniform(0.15, 0.35)
        radius = qr_px * math.sqrt(share / math.pi)
        gx = qx + rng.uniform(-0.35, 0.35) * qr_px
        gy = qy + rng.uniform(-0.35, 0.35) * qr_px
        dist = np.hypot((xx - gx) / 1.4, yy - gy) / radius
        light = np.clip(1.3 - dist, 0, 1)[..., None] ** 1.2
        pixels = pixels + light * rng.uniform(150, 260)
        frame = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
        return noise(frame, rng, 3)
    if category == "covered":
        qr_px = rng.uniform(120, 180)
        frame, (qx, qy), _ = place(badge, box, qr_px, rng)
        draw = ImageDraw.Draw(frame)
        # A thumb from one side over 8–15 % of the code's width (not a finder).
        depth = rng.uniform(0.08, 0.15) * qr_px
        thick = rng.uniform(0.28, 0.4) * qr_px
        side = rng.choice(["left", "right", "bottom"])
        half = qr_px / 2
        if side == "left":
            y0 = qy - thick / 2
            rect = (qx - half - 60, y0, qx - half + depth, y0 + thick)
        elif side == "right":
            y0 = qy - thick / 2
            rect = (qx + half - depth, y0, qx + half + 60, y0 + thick)
        else:
            x0 = qx - thick / 2
            rect = (x0, qy + half - depth, x0 + thick, qy + half + 60)
        skin = tuple(int(c) for c in rng.uniform([170, 120, 95], [225, 175, 150]))
        draw.rounded_rectangle(rect, radius=thick / 2.5, fill=skin)
        return noise(frame.filter(ImageFilter.GaussianBlur(0.6)), rng, 3)
    raise ValueError(category)


def make_frames(per_category: int, seed: int):
    """{category: [(frame, expected text)]}, the same for the same seed."""
    from mixer.badges.qr import QUIET_ZONE, qr_path

    rng = np.random.default_rng(seed)
    badges = render_badges(6, rng)
    boxes = [qr_box(image) for image, _ in badges]
    sides = [qr_path(url)[0] - 2 * QUIET_ZONE for _, url in badges]
    frames: dict[str, list[tuple[Image.Image, str]]] = {}
    for category in CATEGORIES:
        frames[category] = []
        for i in range(per_category):
            k = i % len(badges)
            image, url = badges[k]
            frame = make_frame(category, image, boxes[k], sides[k], rng)
            frames[category].append((frame, url))
    return frames, badges[0]


def png64(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def serve_app(folder: Path):
    """The app (its real CSP) on a free port in a thread; returns (url, server)."""
    from werkzeug.serving import make_server

    from mixer import create_app

    app = create_app(
        {
            "INSTANCE_PATH": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "SECRET_KEY": "benchmark-only",
            "RATELIMIT_ENABLED": False,
        }
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=20, help="frames per category")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--save-frames", type=Path, help="write the frames as PNGs here"
    )
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    frames, (warm_badge, _) = make_frames(args.frames, args.seed)
    if args.save_frames:
        args.save_frames.mkdir(parents=True, exist_ok=True)
        for category, items in frames.items():
            for i, (frame, _) in enumerate(items):
                frame.save(args.save_frames / f"{category}-{i:02d}.png")
    warm = png64(warm_badge.resize((warm_badge.width // 3, warm_badge.height // 3)))
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as pw:
        url, server = serve_app(Path(folder))
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu"],
        )
        try:
            page = browser.new_page()
            violations: list[str] = []
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security" in m.text else None
                ),
            )
            page.goto(f"{url}/login")
            engine = page.evaluate(
                ADD_SCRIPTS,
                [
                    f"{url}/static/vendor/jsqr/jsQR.js",
                    f"{url}/static/vendor/barcode-detector/ponyfill.js",
                    f"{url}/static/js/qr-decoder.js",
                ],
            )
            results = {}
            for category, items in frames.items():
                results[category] = page.evaluate(
                    READ_FRAMES,
                    {"frames": [png64(f) for f, _ in items], "warmup": warm},
                )
            version = browser.version
        finally:
            browser.close()
            server.shutdown()

    native = results[CATEGORIES[0]].pop("__native")
    for category in CATEGORIES[1:]:
        results[category].pop("__native")
    engines = [e for e in ("jsqr", "zxing", "native") if e in results[CATEGORIES[0]]]
    label = {"jsqr": "jsQR 1.4.0", "zxing": "ZXing wasm", "native": "native"}
    print(
        f"# scan_decode: {args.frames} frames per category, seed {args.seed}, "
        f"{datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"# Chromium {version} headless; {os.cpu_count()} cores; "
        f"{platform.processor() or platform.machine()}; MixerQR engine: {engine}"
    )
    print(
        "# native BarcodeDetector: "
        + ("present" if native else "absent (headless Chromium on Linux has none)")
    )
    if violations:
        print("# CSP violations: " + "; ".join(violations))
    head = "| Category |" + "".join(
        f" {label[e]} read | {label[e]} median ms | {label[e]} p95 ms |"
        for e in engines
    )
    print(head)
    print("|---|" + "---:|---:|---:|" * len(engines))
    totals = {e: [0, []] for e in engines}
    wrong = dict.fromkeys(engines, 0)
    for category, items in frames.items():
        expected = [text for _, text in items]
        row = f"| {category} |"
        for e in engines:
            got = results[category][e]
            ok = sum(
                text == want for (text, _), want in zip(got, expected, strict=True)
            )
            wrong[e] += sum(
                text is not None and text != want
                for (text, _), want in zip(got, expected, strict=True)
            )
            times = [ms for _, ms in got]
            totals[e][0] += ok
            totals[e][1] += times
            row += (
                f" {ok}/{len(items)} | {statistics.median(times):.1f} |"
                f" {percentile(times, 0.95):.1f} |"
            )
        print(row)
    row = "| **all** |"
    count = sum(len(items) for items in frames.values())
    for e in engines:
        ok, times = totals[e]
        row += (
            f" **{ok}/{count}** | {statistics.median(times):.1f} |"
            f" {percentile(times, 0.95):.1f} |"
        )
    print(row)
    print("# misreads (a text that is not the badge's URL): " + json.dumps(wrong))


if __name__ == "__main__":
    main()
