"""What a person sees, checked in Playwright: no sideways scroll, big enough targets, axe-core's verdict."""

from __future__ import annotations

import functools
import io
import os
import re
from pathlib import Path

import requests
from django.conf import settings

# Phone (small and common), tablet, desktop.
WIDTHS = (320, 390, 768, 1280)
AXE_WIDTHS = (390, 1280)
SCREENSHOT_WIDTHS = (390, 1280)
# WCAG 2.5.5 (AAA) / Apple and Google's guidance; inline links in running text are exempt.
MIN_TARGET = 44
# WCAG 2.5.8 (AA): a radio button or tick box itself; its label (a click on it ticks the box) is
# the MIN_TARGET target around it. A box without a label must be MIN_TARGET itself.
MIN_TICK_BOX = 24
_CONTROLS = ", ".join(
    [
        "button", "input:not([type=hidden])", "select", "textarea", "summary", ".button", ".site-header a",
        ".actions a", ".pager a", ".people a", ".links a", "a.back",
    ]
)  # fmt: skip
_TARGETS = """([selector, min, minTickBox]) => {
  const seen = [];
  const report = (el, box, what) => {
    const label = (el.innerText || el.value || el.name || '').trim().slice(0, 30);
    seen.push(`${what} "${label}" ${Math.round(box.width)}x${Math.round(box.height)}`);
  };
  for (const el of document.querySelectorAll(selector)) {
    let box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
    if (el.closest('.visually-hidden')) continue;
    let what = el.tagName.toLowerCase();
    if (el.matches('input[type=radio], input[type=checkbox]') && el.labels && el.labels.length) {
      if (box.width < minTickBox || box.height < minTickBox) { report(el, box, `${what} box`); continue; }
      box = el.labels[0].getBoundingClientRect();
      what = `${what}'s label`;
    }
    if (box.height < min || (box.width < min && el.tagName !== 'INPUT')) report(el, box, what);
  }
  return seen;
}"""


@functools.cache
def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def horizontal_overflow(page) -> int:
    """How many CSS pixels the page scrolls sideways (0 when it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def small_targets(page) -> list[str]:
    """Controls smaller than MIN_TARGET × MIN_TARGET px (a labelled radio button or tick box: itself
    smaller than MIN_TICK_BOX, or its label lower than MIN_TARGET)."""
    return page.evaluate(_TARGETS, [_CONTROLS, MIN_TARGET, MIN_TICK_BOX])


# axe rules reported whatever impact axe gives them ("moderate"): every page has a <main>, and all
# its content is inside a landmark (a screen reader's list of regions misses nothing).
ALWAYS_REPORTED = frozenset({"landmark-one-main", "region"})


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations, and any of ALWAYS_REPORTED (rule id, first
    offending element)."""
    results = _axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical") or violation["id"] in ALWAYS_REPORTED:
            node = violation["nodes"][0]
            found.append(f"{violation['id']}: {node['target']} {node.get('failureSummary', '')[:200]}")
    return found


def check_page(page, name: str, width: int) -> list[str]:
    """Every problem of the page as it stands (and a screenshot when SCREENSHOTS_DIR is set)."""
    page.wait_for_load_state("load")
    problems = []
    overflow = horizontal_overflow(page)
    if overflow > 0:
        problems.append(f"{name} @{width}: scrolls sideways by {overflow}px")
    problems += [f"{name} @{width}: small target {t}" for t in small_targets(page)]
    if width in AXE_WIDTHS:
        problems += [f"{name} @{width}: axe {v}" for v in serious_violations(page)]
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder and width in SCREENSHOT_WIDTHS:
        path = Path(folder) / f"{width}" / f"{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    return problems


def latest_code(email: str) -> str:
    """The newest code the local Cognito "e-mailed" to this address (its outbox)."""
    messages = requests.get(f"{settings.COGNITO_DOMAIN}/_outbox.json", timeout=5).json()
    return next(m["code"] for m in messages if m["recipient"] == email and m.get("code"))


def phone_jpeg(path: Path, min_bytes: int = 13 * 1024 * 1024) -> Path:
    """A JPEG as large as a phone's photo (4032×3024, detailed: noise does not compress)."""
    from PIL import Image

    width, height = 4032, 3024
    noise = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=95)
    assert buffer.tell() >= min_bytes, buffer.tell()
    path.write_bytes(buffer.getvalue())
    return path
