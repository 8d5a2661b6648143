"""The job summary: what was fetched, where it is kept, and what is in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .artifacts import UploadedArtifact
from .download import DownloadedFile
from .reports import ReportLinks
from .settings import Settings


@dataclass(frozen=True)
class RunRecord:
    """What one run produced, as the summary and the outputs describe it."""

    settings: Settings
    links: ReportLinks
    files: Sequence[DownloadedFile]
    artifact: UploadedArtifact | None


def markdown(record: RunRecord) -> str:
    settings, links = record.settings, record.links
    scope = "Enterprise" if settings.scope == "enterprise" else "Organization"
    lines = [f"## Copilot usage metrics: `{settings.report}` for {scope.lower()} `{settings.owner}`", ""]
    if links.start and links.end:
        window = links.start.isoformat() if links.start == links.end else f"{links.start} to {links.end}"
        lines.append(f"**Report window:** {window}  ")
    else:
        lines.append("**No report was available** for what was asked.  ")
    if record.artifact:
        artifact = record.artifact
        link = f"[{_cell(artifact.name)}]({artifact.url})"
        lines.append(f"**Artifact:** {link} ({_size(artifact.size)}, sha256 `{artifact.digest[:12]}…`)  ")
    if links.missing_days:
        days = ", ".join(day.isoformat() for day in links.missing_days)
        lines.append(f"**Days without a report:** {days}  ")
    lines.append("")
    if record.files:
        lines += ["| File | Size |", "| --- | ---: |"]
        lines += [f"| `{_cell(_relative(f.path, settings.path))}` | {_size(f.size)} |" for f in record.files]
        lines.append("")
    return "\n".join(lines) + "\n"


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{count:,} bytes" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{count:,} bytes"
