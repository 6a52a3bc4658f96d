"""The report in a real browser: headless Chromium draws it, its DOM holds the table and every
plot, and loading it sends no request (the DevTools protocol lists the page's requests: only
the page itself and its ``data:`` images).

Skipped when ``/usr/bin/chromium`` is absent; CI installs Debian's ``chromium``.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import time
from pathlib import Path

import pytest

from bench.cli import main
from tests.report_runs import ReportRuns, build_report_runs

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
TIMEOUT = 180

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (install Debian's "
                                "`chromium` package to render the report; CI does)")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    runs: ReportRuns = build_report_runs(tmp_path_factory.getbasetemp() / "report_runs")
    out = tmp_path_factory.mktemp("browser") / "report.html"
    assert main(["report", *map(str, runs.runs), "-o", str(out), "--samples", "500", "--slice-samples", "200"]) == 0
    return out


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    profile.mkdir()
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False)


class DevTools:
    """Chromium driven over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out, NUL-separated JSON).

    The DevTools protocol reports the requests *of the page* (``Network.requestWillBeSent``),
    which a proxy cannot tell apart from the browser's own background traffic (time and
    update checks that headless Chromium sends even for an empty page).
    """

    def __init__(self, profile: Path) -> None:
        self._in_r, self._in_w = os.pipe()
        self._out_r, self._out_w = os.pipe()
        self._buffer = b""
        self._next = 0

        def child() -> None:
            for target, source in ((3, self._in_r), (4, self._out_w)):
                if source == target:
                    os.set_inheritable(source, True)
                else:
                    os.dup2(source, target)

        self.process = subprocess.Popen(  # noqa: S603 - a fixed binary and flags
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            preexec_fn=child, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(self._in_r)
        os.close(self._out_w)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._in_w, json.dumps(message).encode() + b"\0")
        return self._next

    def receive(self, timeout: float) -> dict | None:
        """The next message, or ``None`` when none came within ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._out_r], [], [], left)[0]:
                return None
            chunk = os.read(self._out_r, 1 << 16)
            if not chunk:
                return None
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        wanted = self.send(method, params, session)
        while (message := self.receive(TIMEOUT)) is not None:
            if message.get("id") == wanted:
                return message.get("result", {})
        raise RuntimeError(f"Chromium did not answer {method}")

    def page_requests(self, url: str, settle: float = 1.5) -> list[str]:
        """Every URL the page at ``url`` requests, until ``settle`` seconds pass quietly after its load event."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Network.enable", session=session)
        self.call("Page.enable", session=session)
        self.send("Page.navigate", {"url": url}, session)
        urls, loaded, end = [], False, time.monotonic() + TIMEOUT
        while time.monotonic() < end:
            message = self.receive(settle if loaded else TIMEOUT)
            if message is None:
                break
            if message.get("method") == "Network.requestWillBeSent":
                urls.append(message["params"]["request"]["url"])
            loaded = loaded or message.get("method") == "Page.loadEventFired"
        assert loaded, f"{url} did not finish loading"
        return urls

    def close(self) -> None:
        try:
            self.send("Browser.close")
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self._in_w)
        os.close(self._out_r)


def test_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    import matplotlib.image

    shot = tmp_path / "shot.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", report.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2400, 1280)
    assert float(pixels.std()) > 0.05
    not_white = (pixels < 0.9).any(axis=2).mean()
    assert 0.02 < not_white < 0.9
    # the figures are drawn: some pixels have the plots' saturated colours, which the page's CSS does not use
    blue = (pixels[..., 2] > 0.55) & (pixels[..., 0] < 0.35)
    assert int(blue.sum()) > 500


def test_dom_holds_the_table_and_every_plot(report: Path, tmp_path: Path) -> None:
    done = _chromium(tmp_path, "--dump-dom", report.as_uri())
    dom = done.stdout
    assert '<table class="newsbench-compare">' in dom, done.stderr[-2000:]
    plots = sorted(p.stem for p in report.with_name("report_plots").glob("*.png"))
    assert len(plots) == 13
    shown = sorted(re.findall(r'<img src="data:image/png;base64,[^"]+" alt="[^"]*" data-plot="([^"]+)"', dom))
    assert shown == plots
    assert '<section id="errors">' in dom and '<section id="slices">' in dom


def test_page_sends_no_request(report: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.html"
    probe.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/pixel.png"></body></html>',
                     encoding="utf-8")
    profile = tmp_path / "devtools"
    profile.mkdir()
    browser = DevTools(profile)
    try:
        # the check sees a page's requests: a remote image is one
        assert "http://example.invalid/pixel.png" in browser.page_requests(probe.as_uri())
        requests = browser.page_requests(report.as_uri())
    finally:
        browser.close()
    assert requests[0] == report.as_uri()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
