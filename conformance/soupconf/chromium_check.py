#!/usr/bin/python3
"""Opens a run report in headless Chromium (Debian's chromium), takes a
screenshot and reads the page as the browser rendered it: the verdict and
the counts must be those of run.json next to it, and the top of the
screenshot must be the verdict's colour (green PASS, red FAIL).

    soupconf/chromium_check.py REPORT.html [SHOT.png]
    soupconf/chromium_check.py --sample OUTDIR    # render sample runs (pass, fail) and check both

Exit status 0 when the page says what the run said.
"""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.dirname(HERE)
COLOURS = {"pass": (0x1a, 0x7f, 0x37), "fail": (0xcf, 0x22, 0x2e)}


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    raise SystemExit("chromium_check: no chromium on PATH (Debian: apt-get install chromium; "
                     "scripts/install-deps.sh installs it)")


def run_chromium(args, profile):
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
            "--user-data-dir=" + profile]
    r = subprocess.run(base + args, capture_output=True, text=True, timeout=180)
    if r.returncode != 0:
        raise SystemExit("chromium failed (%d): %s" % (r.returncode, r.stderr[-2000:]))
    return r.stdout


def first_pixel(png_path, x, y):
    """RGB of pixel (x, y) of an 8-bit RGB/RGBA PNG (no imaging library)."""
    data = open(png_path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    for row in range(y + 1):
        f = raw[row * (stride + 1)]
        line = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
    return tuple(prev[x * bpp:x * bpp + 3])


def check(report, shot=None):
    report = os.path.abspath(report)
    run = json.load(open(os.path.join(os.path.dirname(report), "run.json")))
    shot = shot or os.path.join(os.path.dirname(report), "report.png")
    with tempfile.TemporaryDirectory(prefix="soupc-chromium-") as profile:
        dom = run_chromium(["--dump-dom", "file://" + report], profile)
        run_chromium(["--window-size=1280,1600", "--screenshot=" + shot, "file://" + report], profile)
    problems = []
    m = re.search(r'id="verdict" data-verdict="(\w+)"[^>]*>(.*?)</h1>', dom, re.S)
    if not m:
        problems.append("no #verdict in the rendered page")
    else:
        shown = re.sub(r"<[^>]+>", "", m.group(2)).strip()
        if m.group(1) != run["verdict"] or shown != run["verdict"].upper():
            problems.append("verdict shown %r/%r, run.json says %r" % (m.group(1), shown, run["verdict"]))
    for k, v in run["counts"].items():
        c = re.search(r'data-count="%s"><b>(\d+)</b>' % re.escape(k), dom)
        if not c or int(c.group(1)) != v:
            problems.append("count %s shown %s, run.json says %d" % (k, c.group(1) if c else None, v))
    if not os.path.exists(shot) or os.path.getsize(shot) < 2000:
        problems.append("no screenshot")
    else:
        px = first_pixel(shot, 8, 8)
        want = COLOURS[run["verdict"]]
        if max(abs(a - b) for a, b in zip(px, want)) > 24:
            problems.append("screenshot's top-left pixel is %s, not the %s colour %s" % (px, run["verdict"], want))
    print("%s: verdict %s, counts %s, screenshot %s%s" % (
        report, run["verdict"], run["counts"], shot, "" if not problems else "\n  PROBLEM: " + "\n  PROBLEM: ".join(problems)))
    return not problems


def sample(outdir):
    ok = True
    for fail in (False, True):
        d = os.path.join(outdir, "fail" if fail else "pass")
        env = dict(os.environ, SAMPLE_FAIL="1" if fail else "0", PYTHONDONTWRITEBYTECODE="1")
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-profile",
                            "quick", "--report-dir", d, os.path.join(CONF, "selftest", "samples", "sample_run.py")],
                           cwd=CONF, capture_output=True, text=True, env=env, timeout=300)
        if (r.returncode == 0) == fail:
            print("sample run (fail=%s) exited %d:\n%s" % (fail, r.returncode, r.stdout[-2000:]))
            ok = False
        ok = check(os.path.join(d, "report.html")) and ok
        run = json.load(open(os.path.join(d, "run.json")))
        if run["verdict"] != ("fail" if fail else "pass"):
            print("sample run (fail=%s): verdict %s" % (fail, run["verdict"]))
            ok = False
    return ok


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--sample":
        sys.exit(0 if sample(sys.argv[2]) else 1)
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(0 if check(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None) else 1)
