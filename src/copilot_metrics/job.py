"""What one run of the job produced, and the work it does in the background while it uploads."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from .artifacts import UploadedArtifact
from .download import DownloadedFile
from .reports import ReportLinks
from .settings import Settings
from .teams import TeamRow
from .trends import Trends


@dataclass(frozen=True)
class ReportRun:
    """One report of the run: its settings (narrowed to it), window and files (CSV included)."""

    settings: Settings
    links: ReportLinks
    files: Sequence[DownloadedFile]
    folder: Path  # where its files are: `path`, or `path/<report>` when several reports were asked


@dataclass(frozen=True)
class RunRecord:
    """What one run produced, as the summary and the outputs describe it."""

    settings: Settings
    reports: Sequence[ReportRun]
    artifact: UploadedArtifact | None
    failed: Mapping[str, str] = field(default_factory=dict)  # report name -> why it failed
    extra_files: Sequence[DownloadedFile] = ()  # the team figures' CSV, the dashboard page
    team_rows: Sequence[TeamRow] = ()
    trends: Trends | None = None

    @property
    def files(self) -> list[DownloadedFile]:
        return [file for run in self.reports for file in run.files] + list(self.extra_files)


# The summary's lines of what one report's files hold (summary.report_contents).
Contents = Callable[[str, list[DownloadedFile]], list[str]]


class BackgroundContents:
    """`contents` of each report, computed in a child process while the caller uploads.

    Reading a large report is CPU work that holds Python's global lock, and so is much of the
    upload; a second process lets both use a core of their own. The child is forked, so it
    starts at once with everything already imported."""

    def __init__(self, reports: Sequence[ReportRun], contents: Contents) -> None:
        context = multiprocessing.get_context("fork")
        self._count = len(reports)
        self._receiver, sender = context.Pipe(duplex=False)
        work = [(run.settings.report.name, list(run.files)) for run in reports]
        self._process = context.Process(target=_send_contents, args=(sender, work, contents), daemon=True)
        self._process.start()
        sender.close()

    def result(self) -> list[list[str]]:
        try:
            contents: list[list[str]] = self._receiver.recv()
        except EOFError:
            contents = [["_The report's contents could not be summarised._", ""]] * self._count
        self._process.join()
        return contents


def _send_contents(sender: Connection, work: list[tuple[str, list[DownloadedFile]]], contents: Contents) -> None:
    lines = []
    for report, files in work:
        try:
            lines.append(contents(report, files))
        except Exception as failure:  # a summary must never cost the run its artifact
            lines.append([f"_The report's contents could not be summarised ({type(failure).__name__})._", ""])
    sender.send(lines)
    sender.close()
