"""What the dashboard page shows, already aggregated: the contract between the figures and the page.

The history's figures (per scope-day, per team-day, per repository-day) are computed upstream by
the engine that writes the tables; the page only renders these values. Everything here is per
day, so the page can sum or average any date range the reader picks without the raw files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

Dimension = Literal["ide", "feature", "language", "model"]
DIMENSIONS: tuple[Dimension, ...] = ("ide", "feature", "language", "model")

# The page shows this many names per breakdown dimension and folds the rest into OTHER, so the
# page stays small and its charts readable however many models or languages a history holds.
BREAKDOWN_LIMIT = 10
OTHER = "other"


@dataclass(frozen=True)
class DayFigures:
    """The scope's figures for one day (organization or enterprise)."""

    day: date
    daily_active_users: int
    weekly_active_users: int
    monthly_active_users: int
    code_generations: int
    code_acceptances: int
    interactions: int
    lines_added: int
    lines_deleted: int
    ai_credits: float
    chat_users: int
    agent_users: int
    cli_users: int
    code_review_users: int


@dataclass(frozen=True)
class BreakdownDay:
    """One IDE, feature, language or model on one day, for any number of names (see fold_top)."""

    day: date
    dimension: Dimension
    name: str
    interactions: int
    code_generations: int
    code_acceptances: int
    lines_added: int


@dataclass(frozen=True)
class TeamDay:
    """One team on one day. Upstream keeps only teams with at least min_group_size active members."""

    day: date
    team: str
    active_users: int
    interactions: int
    code_generations: int
    code_acceptances: int
    lines_added: int
    ai_credits: float


@dataclass(frozen=True)
class RepoDay:
    """One repository's pull requests on one day (`repo` is owner/name)."""

    day: date
    repo: str
    created: int
    reviewed: int
    merged: int
    created_by_copilot: int
    reviewed_by_copilot: int
    median_minutes_to_merge: float | None


@dataclass(frozen=True)
class DashboardData:
    """Everything the page needs. `days` is sorted by day, one entry per day of the history."""

    title: str
    generated_at: str
    min_group_size: int
    days: tuple[DayFigures, ...]
    breakdowns: tuple[BreakdownDay, ...] = ()
    teams: tuple[TeamDay, ...] = ()
    repos: tuple[RepoDay, ...] = ()

    def __post_init__(self) -> None:
        ordered = [figures.day for figures in self.days]
        if not ordered:
            raise ValueError("DashboardData.days must hold at least one day")
        if ordered != sorted(set(ordered)):
            raise ValueError("DashboardData.days must be sorted by day with each day once")
        if self.min_group_size < 1:
            raise ValueError("DashboardData.min_group_size must be at least 1")


def fold_top(rows: Iterable[BreakdownDay], limit: int = BREAKDOWN_LIMIT) -> tuple[BreakdownDay, ...]:
    """The rows with each dimension's names past its `limit` busiest summed into OTHER.

    Busiest by interactions plus code generations: languages have only the latter.
    """
    rows = tuple(rows)
    volume: dict[tuple[Dimension, str], int] = defaultdict(int)
    for row in rows:
        volume[row.dimension, row.name] += row.interactions + row.code_generations
    kept: set[tuple[Dimension, str]] = set()
    for dimension in DIMENSIONS:
        names = [(name, v) for (d, name), v in volume.items() if d == dimension and name != OTHER]
        names.sort(key=lambda named: (-named[1], named[0]))
        kept.update((dimension, name) for name, _ in names[:limit])
    folded: dict[tuple[date, Dimension, str], BreakdownDay] = {}
    for row in rows:
        name = row.name if (row.dimension, row.name) in kept else OTHER
        key = (row.day, row.dimension, name)
        earlier = folded.get(key)
        folded[key] = replace(row, name=name) if earlier is None else _sum(earlier, row)
    return tuple(folded[key] for key in sorted(folded))


def _sum(a: BreakdownDay, b: BreakdownDay) -> BreakdownDay:
    return replace(
        a,
        interactions=a.interactions + b.interactions,
        code_generations=a.code_generations + b.code_generations,
        code_acceptances=a.code_acceptances + b.code_acceptances,
        lines_added=a.lines_added + b.lines_added,
    )
