"""A realistic DashboardData from a seeded RNG: a year of an organization, for tests and benchmarks.

Shapes follow the emulator's users reports: weekday/weekend rhythm, slow growth, agent and CLI use
rising over the year, teams of very different sizes (some too small to show), repositories with
bursty pull requests. Names include markup, so the tests see it arrive as text.
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from copilot_metrics.dashboard import BreakdownDay, DashboardData, DayFigures, RepoDay, TeamDay
from copilot_metrics.dashboard.data import Dimension

LAST_DAY = date(2026, 11, 27)
HOSTILE_TEAM = "</script><script>document.title='owned'</script>"
HOSTILE_IDE = "=1+1<img src=x onerror=alert(1)>"

IDES = ("vscode", "jetbrains", "visual_studio", "neovim", "xcode", "eclipse", HOSTILE_IDE)
FEATURES = (
    "code_completion",
    "chat_panel_ask_mode",
    "chat_panel_agent_mode",
    "chat_panel_edit_mode",
    "chat_inline",
    "agent_edit",
    "code_review",
)
LANGUAGES = tuple(
    [
        "python",
        "typescript",
        "javascript",
        "java",
        "go",
        "csharp",
        "rust",
        "kotlin",
        "ruby",
        "php",
        "swift",
        "cpp",
        "c",
        "scala",
        "shell",
        "sql",
        "html",
        "css",
        "yaml",
        "markdown",
        "dockerfile",
        "terraform",
        "dart",
        "lua",
        "r",
    ]
)
MODELS = tuple(
    [
        "gpt-4.1",
        "gpt-4o",
        "gpt-5",
        "gpt-5-mini",
        "claude-sonnet-4",
        "claude-sonnet-4.5",
        "claude-opus-4.1",
        "claude-haiku-4.5",
        "gemini-2.5-pro",
        "gemini-3-pro",
        "o3",
        "o4-mini",
        "grok-code-fast-1",
        "default",
    ]
)


def year_of(users: int = 10_000, seed: int = 15, days: int = 365, teams: int = 200, repos: int = 400) -> DashboardData:
    rng = random.Random(seed)
    calendar = [LAST_DAY - timedelta(days=days - 1 - n) for n in range(days)]
    figures = tuple(_day(rng, users, day, n / max(days - 1, 1)) for n, day in enumerate(calendar))
    return DashboardData(
        title="Copilot usage — acme",
        generated_at="2026-11-28 06:17 UTC",
        min_group_size=5,
        days=figures,
        breakdowns=tuple(_breakdowns(rng, figures)),
        teams=_teams(rng, users, figures, teams),
        repos=_repos(rng, calendar, repos),
    )


def _day(rng: random.Random, users: int, day: date, progress: float) -> DayFigures:
    weekend = day.weekday() >= 5
    share = (0.42 + 0.2 * progress) * (0.25 if weekend else 1.0) * rng.uniform(0.93, 1.07)
    active = int(users * share)
    generations = int(active * rng.uniform(22, 30))
    acceptances = int(generations * rng.uniform(0.26, 0.34))
    added = int(acceptances * rng.uniform(6, 10))
    return DayFigures(
        day=day,
        daily_active_users=active,
        weekly_active_users=int(users * (0.55 + 0.2 * progress) * rng.uniform(0.98, 1.02)),
        monthly_active_users=int(users * (0.7 + 0.18 * progress) * rng.uniform(0.99, 1.01)),
        code_generations=generations,
        code_acceptances=acceptances,
        interactions=int(active * rng.uniform(9, 14)),
        lines_added=added,
        lines_deleted=int(added * rng.uniform(0.25, 0.4)),
        ai_credits=round(active * rng.uniform(0.6, 1.1) * (1 + progress), 2),
        chat_users=int(active * rng.uniform(0.55, 0.65)),
        agent_users=int(active * (0.1 + 0.3 * progress) * rng.uniform(0.9, 1.1)),
        cli_users=int(active * (0.01 + 0.08 * progress) * rng.uniform(0.9, 1.1)),
        code_review_users=int(active * rng.uniform(0.08, 0.12)),
    )


def _breakdowns(rng: random.Random, figures: tuple[DayFigures, ...]) -> list[BreakdownDay]:
    dimensions: tuple[tuple[Dimension, tuple[str, ...]], ...] = (
        ("ide", IDES),
        ("feature", FEATURES),
        ("language", LANGUAGES),
        ("model", MODELS),
    )
    weights = {name: 1 / (rank + 1) ** 1.3 for _, names in dimensions for rank, name in enumerate(names)}
    rows: list[BreakdownDay] = []
    for figure in figures:
        for dimension, names in dimensions:
            total = sum(weights[name] for name in names)
            for name in names:
                part = weights[name] / total * rng.uniform(0.8, 1.2)
                rows.append(
                    BreakdownDay(
                        day=figure.day,
                        dimension=dimension,
                        name=name,
                        interactions=int(figure.interactions * part),
                        code_generations=int(figure.code_generations * part),
                        code_acceptances=int(figure.code_acceptances * part),
                        lines_added=int(figure.lines_added * part),
                    )
                )
    return rows


def _teams(rng: random.Random, users: int, figures: tuple[DayFigures, ...], count: int) -> tuple[TeamDay, ...]:
    # Sizes from 2 to a few hundred, summing to more than `users` (people sit in several teams).
    sizes = [max(2, int(math.exp(rng.gauss(3.3, 1.0)))) for _ in range(count)]
    names = [f"team-{n:03d}" for n in range(count - 1)] + [HOSTILE_TEAM]
    sizes[-1] = 40
    rows: list[TeamDay] = []
    for figure in figures:
        share = figure.daily_active_users / users
        for name, size in zip(names, sizes, strict=True):
            active = sum(1 for _ in range(size) if rng.random() < share) if size < 20 else int(size * share)
            if active == 0:
                continue
            rows.append(
                TeamDay(
                    day=figure.day,
                    team=name,
                    active_users=active,
                    interactions=int(active * rng.uniform(8, 15)),
                    code_generations=(generations := int(active * rng.uniform(20, 32))),
                    code_acceptances=int(generations * rng.uniform(0.25, 0.35)),
                    lines_added=int(generations * rng.uniform(2, 3)),
                    ai_credits=round(active * rng.uniform(0.5, 1.5), 2),
                )
            )
    return tuple(rows)


def _repos(rng: random.Random, calendar: list[date], count: int) -> tuple[RepoDay, ...]:
    repos = [(f"acme/service-{n:03d}", rng.uniform(0.05, 0.6)) for n in range(count)]
    rows: list[RepoDay] = []
    for day in calendar:
        busy = 0.3 if day.weekday() >= 5 else 1.0
        for name, activity in repos:
            if rng.random() > activity * busy:
                continue
            created = rng.randint(1, 6)
            merged = rng.randint(0, created)
            reviewed = rng.randint(merged, created)
            rows.append(
                RepoDay(
                    day=day,
                    repo=name,
                    created=created,
                    reviewed=reviewed,
                    merged=merged,
                    created_by_copilot=rng.randint(0, created // 2),
                    reviewed_by_copilot=rng.randint(0, reviewed),
                    median_minutes_to_merge=round(rng.lognormvariate(5, 1), 1) if merged else None,
                )
            )
    return tuple(rows)
