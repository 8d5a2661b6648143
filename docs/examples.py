"""`make docs-examples`: the README's example job summary and pictures, made again from what the
action writes today.

Like `make demo`, it runs entrypoint.py against the built-in emulator: the organization-28-day
report for docs/summary-example.md and .png, and eight weeks of every daily report kept in a history
with the dashboard for docs/dashboard.png. The emulator's day is fixed, so a rerun changes only
what carries the clock (the artifact's hash, the dashboard's "Generated" time). The summary is
drawn as GitHub shows one: Markdown by markdown-it-py, a GitHub-like stylesheet, its chart by
Mermaid (locked in tests/mermaid); both pictures by Debian's headless Chromium.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]

from markdown_it import MarkdownIt  # noqa: E402
from markdown_it.renderer import RendererHTML  # noqa: E402
from markdown_it.token import Token  # noqa: E402
from markdown_it.utils import EnvType, OptionsDict  # noqa: E402
from selenium import webdriver  # noqa: E402

from action_run import ActionRun, assert_no_leaks, run_action  # noqa: E402
from browser.pages import load, start_chromium  # noqa: E402
from demo import DAILY_REPORTS  # noqa: E402
from emulator import Emulator  # noqa: E402

# The emulator's "today": its 28-day window ends two days before.
TODAY = dt.date(2026, 11, 29)
HISTORY_DAYS = 56
MERMAID = ROOT / "tests" / "mermaid" / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
HEADER = (
    "<!-- A job summary written by the action for the organization-28-day report of the test emulator's"
    " synthetic organization. -->\n\n"
)

# Close to how github.com shows a job summary: its fonts, colours, headings and tables.
STYLE = """
body { margin: 0; padding: 16px; background: #fff; color: #1f2328;
       font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, "DejaVu Sans", sans-serif; }
main { border: 1px solid #d1d9e0; border-radius: 6px; padding: 8px 32px 24px; }
h2, h3 { font-weight: 600; margin: 24px 0 16px; }
h2 { font-size: 1.5em; padding-bottom: .3em; border-bottom: 1px solid #d1d9e0; }
h3 { font-size: 1.25em; }
p { margin: 0 0 16px; }
a { color: #0969da; text-decoration: none; }
code { font: 85% ui-monospace, "DejaVu Sans Mono", monospace; background: #818b981f;
       padding: .2em .4em; border-radius: 6px; }
table { border-collapse: collapse; margin-bottom: 16px; }
th, td { border: 1px solid #d1d9e0; padding: 6px 13px; }
th { font-weight: 600; }
tr:nth-child(2n) { background: #f6f8fa; }
pre.mermaid { margin: 0 0 16px; }
"""

# Draw the charts, then raise the mark that browser.pages.load waits for.
DRAW = """
mermaid.initialize({ startOnLoad: false, theme: "default" });
mermaid.run().then(() => { document.documentElement.dataset.rendered = "1"; });
"""


def action_runs(folder: Path) -> tuple[ActionRun, ActionRun]:
    """The organization-28-day run, and a history run with the dashboard; neither shows a secret."""
    with Emulator(folder / "emu") as emu:
        emu.today = TODAY
        summary = run_action(emu, folder / "summary")
        newest = emu.window()[1]
        days = f"{newest - dt.timedelta(days=HISTORY_DAYS - 1)}..{newest}"
        inputs = {"report": DAILY_REPORTS, "day": days, "history": str(folder / "history"), "dashboard": "true"}
        dashboard = run_action(emu, folder / "dashboard", inputs)
        for run in (summary, dashboard):
            if run.code:
                raise SystemExit(f"the action failed:\n{run.stdout}{run.stderr}")
            assert_no_leaks(run, emu)
    return summary, dashboard


class SummaryHTML(RendererHTML):
    """The summary's Markdown as HTML, its ```mermaid blocks left for Mermaid to draw."""

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        if tokens[idx].info.strip() == "mermaid":
            return f'<pre class="mermaid">{html.escape(tokens[idx].content)}</pre>\n'
        return super().fence(tokens, idx, options, env)


def summary_page(markdown: str, folder: Path) -> Path:
    renderer = MarkdownIt("commonmark", renderer_cls=SummaryHTML).enable("table")
    page = folder / "summary.html"
    page.write_text(
        f'<!doctype html><meta charset="utf-8"><style>{STYLE}</style>'
        f"<main>{renderer.render(markdown)}</main>"
        f'<script src="{MERMAID.as_uri()}"></script><script>{DRAW}</script>',
        encoding="utf-8",
    )
    return page


def screenshot(browser: webdriver.Chrome, page: Path, target: Path, width: int, height: int | None = None) -> None:
    """The page at this width, `height` pixels of it or all of it."""
    load(browser, page, width, height or 900)
    if height is None:
        whole = int(browser.execute_script("return document.documentElement.scrollHeight"))
        load(browser, page, width, whole)
    browser.save_screenshot(str(target))


def main() -> int:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver or not MERMAID.is_file():
        print("Needs chromium, chromedriver and Mermaid: run `make docs-examples`, which installs them.")
        return 1
    with tempfile.TemporaryDirectory(prefix="copilot-metrics-docs-") as name:
        folder = Path(name)
        summary, dashboard = action_runs(folder)
        (HERE / "summary-example.md").write_text(HEADER + summary.summary.rstrip("\n") + "\n", encoding="utf-8")
        browser = start_chromium(chromium, chromedriver, folder / "profile")
        try:
            screenshot(browser, summary_page(summary.summary, folder), HERE / "summary-example.png", 1060)
            page = dashboard.workspace / "copilot-metrics" / "dashboard" / "index.html"
            screenshot(browser, page, HERE / "dashboard.png", 1280, 900)
        finally:
            browser.quit()
    print("Wrote docs/summary-example.md, docs/summary-example.png and docs/dashboard.png.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
