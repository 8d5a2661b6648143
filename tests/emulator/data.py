"""Deterministic, realistic synthetic Copilot usage metrics reports (NDJSON)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

IDES = ("vscode", "jetbrains", "visualstudio", "neovim")
FEATURES = ("code_completion", "chat_panel_ask_mode", "chat_panel_edit_mode", "chat_panel_agent_mode", "agent_edit")
LANGUAGES = ("python", "typescript", "go", "java", "rust", "markdown")
MODELS = ("gpt-4.1", "claude-sonnet-4", "gemini-2.5-pro", "gpt-5-mini")
TEAMS = ((4101, "platform"), (4102, "web"), (4103, "data"))
REPOS = ("api", "web", "infra", "docs", "mobile")
USERS_PER_OWNER = 12
Json = dict[str, Any]


def _counters(rng: random.Random, scale: int) -> Json:
    generated = rng.randint(10, 60) * scale
    accepted = rng.randint(generated // 4, generated // 2)
    suggested_add = rng.randint(20, 200) * scale
    return {
        "user_initiated_interaction_count": rng.randint(5, 40) * scale,
        "code_generation_activity_count": generated,
        "code_acceptance_activity_count": accepted,
        "loc_suggested_to_add_sum": suggested_add,
        "loc_suggested_to_delete_sum": rng.randint(0, suggested_add // 4),
        "loc_added_sum": rng.randint(suggested_add // 3, suggested_add),
        "loc_deleted_sum": rng.randint(0, suggested_add // 5),
    }


def _breakdowns(rng: random.Random, scale: int) -> Json:
    return {
        "totals_by_ide": [{"ide": ide} | _counters(rng, scale) for ide in rng.sample(IDES, 2)],
        "totals_by_feature": [{"feature": f} | _counters(rng, scale) for f in rng.sample(FEATURES, 3)],
        "totals_by_language_feature": [
            {"language": lang, "feature": rng.choice(FEATURES)} | _counters(rng, scale)
            for lang in rng.sample(LANGUAGES, 3)
        ],
        "totals_by_language_model": [
            {"language": lang, "model": rng.choice(MODELS)} | _counters(rng, scale) for lang in rng.sample(LANGUAGES, 2)
        ],
        "totals_by_model_feature": [
            {"model": model, "feature": rng.choice(FEATURES[1:])} | _counters(rng, scale)
            for model in rng.sample(MODELS, 2)
        ],
        "totals_by_cli": _cli(rng, scale),
    }


def _cli(rng: random.Random, scale: int) -> Json:
    output_tokens = rng.randint(1000, 90000) * scale
    requests = rng.randint(1, 30) * scale
    return {
        "session_count": rng.randint(0, 6) * scale,
        "request_count": requests,
        "prompt_count": rng.randint(1, requests),
        "token_usage": {
            "output_tokens_sum": output_tokens,
            "prompt_tokens_sum": rng.randint(1000, 200000) * scale,
            "avg_tokens_per_request": round(output_tokens / requests, 2),
        },
    }


def _pull_requests(rng: random.Random, scale: int) -> Json:
    created = rng.randint(2, 20) * scale
    return {
        "total_created": created,
        "total_reviewed": rng.randint(0, created),
        "total_merged": rng.randint(0, created),
        "total_created_by_copilot": rng.randint(0, created // 2),
        "total_reviewed_by_copilot": rng.randint(0, created),
        "total_merged_created_by_copilot": rng.randint(0, created // 3),
        "median_minutes_to_merge": round(rng.uniform(20, 2000), 1),
    }


def day_totals(rng: random.Random, day: date) -> Json:
    """One per-day aggregate object of an organization or enterprise."""
    daily = rng.randint(USERS_PER_OWNER // 2, USERS_PER_OWNER)
    monthly = USERS_PER_OWNER + rng.randint(0, 3)
    return (
        {
            "day": day.isoformat(),
            "daily_active_users": daily,
            "weekly_active_users": rng.randint(daily, monthly),
            "monthly_active_users": monthly,
            "monthly_active_chat_users": rng.randint(monthly // 2, monthly),
            "monthly_active_agent_users": rng.randint(1, monthly // 2),
        }
        | _counters(rng, daily)
        | _breakdowns(rng, daily)
        | {"pull_requests": _pull_requests(rng, 1)}
    )


def user_day(rng: random.Random, day: date, index: int, owner_key: str, owner_id: int) -> Json:
    """One line of a users report: one user on one day."""
    return (
        {
            "day": day.isoformat(),
            "user_id": 100000 + index,
            "user_login": f"user-{index:04d}",
            owner_key: owner_id,
        }
        | _counters(rng, 1)
        | {
            "used_agent": rng.random() < 0.4,
            "used_chat": rng.random() < 0.7,
            "used_cli": rng.random() < 0.2,
        }
        | _breakdowns(rng, 1)
        | {
            "last_known_ide_version": {"ide": rng.choice(IDES), "ide_version": f"1.{rng.randint(90, 106)}.0"},
            "ai_credits_used": round(rng.uniform(0, 40), 2),
        }
    )


def _lines(records: list[Json]) -> bytes:
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)


def _split(records: list[Json], shards: int) -> list[bytes]:
    size = -(-len(records) // shards)
    return [_lines(records[i * size : (i + 1) * size]) for i in range(shards)]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def aggregate_28_day(seed: str, owner_key: str, owner_id: int, start: date, end: date) -> list[bytes]:
    """Two shards, each a line with report window, owner id and half the days."""
    rng = random.Random(seed)
    days = _days(start, end)
    half = len(days) // 2
    head = {"report_start_day": start.isoformat(), "report_end_day": end.isoformat(), owner_key: owner_id}
    return [_lines([head | {"day_totals": [day_totals(rng, d) for d in part]}]) for part in (days[:half], days[half:])]


def aggregate_1_day(seed: str, day: date) -> list[bytes]:
    return [_lines([day_totals(random.Random(seed), day)])]


def users(seed: str, owner_key: str, owner_id: int, days: list[date], shards: int) -> list[bytes]:
    rng = random.Random(seed)
    records = [
        user_day(rng, day, index, owner_key, owner_id)
        for day in days
        for index in range(1, USERS_PER_OWNER + 1)
        if rng.random() < 0.85
    ]
    return _split(records, shards)


def user_teams(seed: str, owner_key: str, owner_id: int, day: date, shards: int) -> list[bytes]:
    rng = random.Random(seed)
    records = [
        {
            "user_id": 100000 + index,
            "user_login": f"user-{index:04d}",
            "day": day.isoformat(),
            "team_id": team_id,
            "slug": slug,
            owner_key: owner_id,
        }
        for index in range(1, USERS_PER_OWNER + 1)
        for team_id, slug in rng.sample(TEAMS, rng.randint(1, 2))
    ]
    return _split(records, shards)


def repos(seed: str, owner_key: str, owner_id: int, owner: str, day: date, shards: int) -> list[bytes]:
    rng = random.Random(seed)
    records = [
        {
            "day": day.isoformat(),
            "repository_id": 700000 + n,
            "repository": f"{owner}/{name}",
            owner_key: owner_id,
        }
        | _counters(rng, 3)
        | {"pull_requests": _pull_requests(rng, 1)}
        for n, name in enumerate(REPOS)
    ]
    return _split(records, shards)


def make_users_shard(path: Path, target_bytes: int, seed: str = "bench") -> int:
    """Write a users NDJSON file of about target_bytes, fast; returns the size written.

    A block of realistic lines is generated once and repeated with the day shifted, so big
    files (benchmarks use 1 GiB) cost little more than the disk writes.
    """
    rng = random.Random(seed)
    template_day = date(2026, 1, 1)
    block = _lines([user_day(rng, template_day, i, "organization_id", 4242) for i in range(1, 2001)]).decode()
    written = 0
    with path.open("wb") as f:
        for n in range(target_bytes // len(block) + 1):
            day = (template_day - timedelta(days=n % 365)).isoformat()
            chunk = block.replace(template_day.isoformat(), day).encode()
            if written + len(chunk) > target_bytes:
                chunk = chunk[: chunk.rfind(b"\n", 0, target_bytes - written) + 1]
            f.write(chunk)
            written += len(chunk)
    return written
