"""What each of the page's tables must hold for a date range, worked out from the DashboardData."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from copilot_metrics.dashboard import DashboardData, fold_top
from copilot_metrics.dashboard.data import DIMENSIONS, TeamDay

Row = list[Any]
TOP_TEAMS = 8


def in_range(data: DashboardData, first: date, last: date) -> list[date]:
    return [figures.day for figures in data.days if first <= figures.day <= last]


def day_tables(data: DashboardData, first: date, last: date) -> dict[str, list[Row]]:
    """The per-day tables of the scope's series: [day, value, ...] rows."""
    picked = [f for f in data.days if first <= f.day <= last]

    def rate(part: int, whole: int) -> float | None:
        return 100 * part / whole if whole else None

    return {
        "active-users": [
            [f.day.isoformat(), f.daily_active_users, f.weekly_active_users, f.monthly_active_users] for f in picked
        ],
        "acceptance": [
            [f.day.isoformat(), f.code_generations, f.code_acceptances, rate(f.code_acceptances, f.code_generations)]
            for f in picked
        ],
        "interactions": [[f.day.isoformat(), f.interactions] for f in picked],
        "lines": [[f.day.isoformat(), f.lines_added, f.lines_deleted] for f in picked],
        "ai-credits": [[f.day.isoformat(), f.ai_credits] for f in picked],
        "adoption": [
            [f.day.isoformat(), f.chat_users, f.agent_users, f.cli_users, f.code_review_users] for f in picked
        ],
    }


def breakdown_columns(data: DashboardData, first: date, last: date) -> dict[str, dict[str, dict[str, int]]]:
    """Per dimension, per name, per day: interactions (the measure the page shows first)."""
    out: dict[str, dict[str, dict[str, int]]] = {d: defaultdict(lambda: defaultdict(int)) for d in DIMENSIONS}
    for row in fold_top(data.breakdowns):
        if first <= row.day <= last:
            out[row.dimension][row.name][row.day.isoformat()] += row.interactions
    return out


def visible_teams(data: DashboardData) -> list[TeamDay]:
    return [row for row in data.teams if row.active_users >= data.min_group_size]


def team_totals(data: DashboardData, first: date, last: date) -> dict[str, Row]:
    """Per team: [days, average active users, interactions, generations, acceptances, rate, lines, credits]."""
    rows: dict[str, list[TeamDay]] = defaultdict(list)
    for row in visible_teams(data):
        if first <= row.day <= last:
            rows[row.team].append(row)
    out: dict[str, Row] = {}
    for team, days in rows.items():
        generations = sum(r.code_generations for r in days)
        acceptances = sum(r.code_acceptances for r in days)
        out[team] = [
            len(days),
            sum(r.active_users for r in days) / len(days),
            sum(r.interactions for r in days),
            generations,
            acceptances,
            100 * acceptances / generations if generations else None,
            sum(r.lines_added for r in days),
            sum(r.ai_credits for r in days),
        ]
    return out


def top_teams(data: DashboardData, first: date, last: date) -> list[str]:
    totals = team_totals(data, first, last)
    return sorted(totals, key=lambda team: (-totals[team][2], team))[:TOP_TEAMS]


def repo_totals(data: DashboardData, first: date, last: date) -> dict[str, Row]:
    """Per repository: [created, merged, Copilot-authored %, Copilot-reviewed %, median minutes to merge]."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    times: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for row in data.repos:
        if not first <= row.day <= last:
            continue
        total = sums[row.repo]
        counts = (row.created, row.reviewed, row.merged, row.created_by_copilot, row.reviewed_by_copilot)
        for n, value in enumerate(counts):
            total[n] += value
        if row.median_minutes_to_merge is not None and row.merged:
            times[row.repo].append((row.median_minutes_to_merge, row.merged))
    return {
        repo: [
            created,
            merged,
            100 * by_copilot / created if created else None,
            100 * reviewed_by_copilot / reviewed if reviewed else None,
            weighted_median(times[repo]),
        ]
        for repo, (created, reviewed, merged, by_copilot, reviewed_by_copilot) in sums.items()
    }


def weighted_median(pairs: list[tuple[float, int]]) -> float | None:
    """The smallest value with at least half of the weight at or below it."""
    total = sum(weight for _, weight in pairs)
    for value in sorted({value for value, _ in pairs}):
        if 2 * sum(w for v, w in pairs if v <= value) >= total:
            return value
    return None


def pull_requests_per_day(data: DashboardData, first: date, last: date) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {day.isoformat(): [0, 0, 0, 0] for day in in_range(data, first, last)}
    for row in data.repos:
        if first <= row.day <= last:
            sums = out[row.day.isoformat()]
            for n, value in enumerate((row.created, row.merged, row.created_by_copilot, row.reviewed_by_copilot)):
                sums[n] += value
    return out
