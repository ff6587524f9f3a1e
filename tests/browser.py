"""Open a page in a real headless Chromium from file:// with networking disabled.

``check_page(html)`` loads ``html#selfcheck``: the report's own script then writes a JSON
self-check into the DOM (shapes per map, tooltip text, every resource URL the page loaded), which
``--dump-dom`` returns. Console errors come from Chromium's log on stderr. Any request that would
leave the machine fails: every host resolves to nothing and the proxy is a closed local port.
``screenshot(html, png)`` saves what the page looks like.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "chrome")
NO_NETWORK = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
              "--proxy-bypass-list=<-loopback>"]
BASE = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-extensions", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--metrics-recording-only", "--hide-scrollbars"]


def chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], profile: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    exe = chromium()
    if exe is None:
        raise RuntimeError("no Chromium found: install the Debian package `chromium` (.ci/run does this)")
    cmd = [exe, *BASE, *NO_NETWORK, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def check_page(html: Path, profile: Path) -> tuple[dict, list[str]]:
    """Self-check JSON of the page and the console errors Chromium logged."""
    proc = _run(["--virtual-time-budget=5000", "--dump-dom", f"{html.resolve().as_uri()}#selfcheck"], profile)
    m = re.search(r'<pre id="hg-selfcheck">(.*?)</pre>', proc.stdout, re.S)
    if not m:
        raise AssertionError(f"no self-check in the page (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    import html as _html

    result = json.loads(_html.unescape(m.group(1)))
    console = [line for line in proc.stderr.splitlines()
               if "CONSOLE" in line and re.search(r"error|Uncaught|Failed", line, re.I)]
    return result, console


def screenshot(html: Path, png: Path, profile: Path, size: str = "1280,2400") -> Path:
    _run([f"--window-size={size}", f"--screenshot={png}", "--virtual-time-budget=3000", html.resolve().as_uri()], profile)
    return png
