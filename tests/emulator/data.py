"""Deterministic, realistic synthetic Copilot usage metrics reports (NDJSON), in GitHub's shapes.

Every field the schema documents for a kind of report appears in its lines, with GitHub's types
(organization and enterprise ids are strings, user, team and repository ids integers) and its
nesting (IDE and extension versions inside each ``totals_by_ide`` entry). Values keep GitHub's
invariants: acceptances never above generations, every active-user count within the seats, a
sub-population never above its parent, Copilot's share of pull requests never above the total.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

IDES = ("vscode", "jetbrains", "visualstudio", "neovim")
PLUGINS = {
    "vscode": "copilot-chat",
    "jetbrains": "copilot-intellij",
    "visualstudio": "copilot-vs",
    "neovim": "copilot.vim",
}
FEATURES = ("code_completion", "chat_panel_ask_mode", "chat_panel_edit_mode", "chat_panel_agent_mode", "agent_edit")
LANGUAGES = ("python", "typescript", "go", "java", "rust", "markdown")
MODELS = ("gpt-4.1", "claude-sonnet-4", "gemini-2.5-pro", "gpt-5-mini")
TEAMS = ((4101, "platform"), (4102, "web"), (4103, "data"))
REPOS = ("api", "web", "infra", "docs", "mobile")
VISIBILITIES = ("PRIVATE", "INTERNAL", "PUBLIC")
AGENTS = (("2246796", "Claude (Anthropic)"), ("2248422", "Codex (OpenAI)"))
PHASES = ("Phase 0", "Phase 1", "Phase 2", "Phase 3")
COMMENT_TYPES = ("security", "bug_risk", "performance")
ENGAGED_FEATURES = ("code_completion", "agent_edit", "copilot_code_review_active", "copilot_cli", "copilot_app")
USERS_PER_OWNER = 12  # the seats of every emulated owner
_SAMPLED = "2026-01-01T09:30:00.000Z"  # when a client's version was seen
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


def _shares(rng: random.Random, totals: Json, keys: list[Json]) -> list[Json]:
    """One entry per key splitting the row's counters: never above the row's, acceptances within
    generations (each counter takes the same share, rounded down, so what is left over is not
    attributed, as GitHub leaves activity it cannot attribute out of a breakdown)."""
    weights = [rng.random() + 0.1 for _ in keys]
    whole = sum(weights)
    return [
        key | {name: int(value * weight / whole) for name, value in totals.items()}
        for key, weight in zip(keys, weights, strict=True)
    ]


def _ide_entry(entry: Json, rng: random.Random, versions: bool) -> Json:
    ide = entry["ide"]
    if versions:
        entry["last_known_ide_version"] = {"ide_version": f"1.{rng.randint(90, 106)}.0", "sampled_at": _SAMPLED}
        entry["last_known_plugin_version"] = {
            "plugin": PLUGINS[ide],
            "plugin_version": f"0.{rng.randint(20, 35)}.{rng.randint(0, 9)}",
            "sampled_at": _SAMPLED,
        }
    return entry


def _breakdowns(rng: random.Random, totals: Json, scale: int, versions: bool) -> Json:
    """The breakdowns of a row whose code counters are `totals`: each one splits them anew."""
    ides = _shares(rng, totals, [{"ide": ide} for ide in rng.sample(IDES, 2)])
    return {
        "totals_by_ide": [_ide_entry(entry, rng, versions) for entry in ides],
        "totals_by_feature": _shares(rng, totals, [{"feature": f} for f in rng.sample(FEATURES, 3)]),
        "totals_by_language_feature": _shares(
            rng, totals, [{"language": lang, "feature": rng.choice(FEATURES)} for lang in rng.sample(LANGUAGES, 3)]
        ),
        "totals_by_language_model": _shares(
            rng, totals, [{"language": lang, "model": rng.choice(MODELS)} for lang in rng.sample(LANGUAGES, 2)]
        ),
        "totals_by_model_feature": _shares(
            rng, totals, [{"model": model, "feature": rng.choice(FEATURES[1:])} for model in rng.sample(MODELS, 2)]
        ),
        "totals_by_3rd_party_agent": [
            {"agent_id": agent_id, "agent_name": name, "user_initiated_interaction_count": rng.randint(0, 9) * scale}
            | {"session_count": rng.randint(0, 3) * scale}
            for agent_id, name in AGENTS
        ],
        "totals_by_cli": _surface(rng, scale)
        | (
            {"last_known_cli_version": {"cli_version": f"1.0.{rng.randint(1, 20)}", "sampled_at": _SAMPLED}}
            if versions
            else {}
        ),
        "totals_by_copilot_app": _surface(rng, scale),
        "totals_by_vscode_agent": {
            "session_count": rng.randint(0, 4) * scale,
            "total_user_messages": rng.randint(0, 20) * scale,
        },
    }


def _surface(rng: random.Random, scale: int) -> Json:
    """The counters of an agent outside the IDE (CLI, Copilot app)."""
    requests = rng.randint(1, 30) * scale
    output_tokens = rng.randint(1000, 90000) * scale
    prompt_tokens = rng.randint(1000, 200000) * scale
    return {
        "session_count": rng.randint(1, 6) * scale,
        "request_count": requests,
        "prompt_count": rng.randint(1, requests),
        "token_usage": {
            "output_tokens_sum": output_tokens,
            "prompt_tokens_sum": prompt_tokens,
            "avg_tokens_per_request": round((output_tokens + prompt_tokens) / requests, 2),
        },
    }


def _pull_requests(rng: random.Random, scale: int, by_comment_type: bool) -> Json:
    created = rng.randint(2, 20) * scale
    merged = rng.randint(0, created)
    reviewed = rng.randint(0, created)
    by_copilot = rng.randint(0, created // 2)
    reviewed_by_copilot = rng.randint(0, reviewed)
    suggestions = rng.randint(0, 30) * scale
    copilot_suggestions = rng.randint(0, suggestions)
    copilot_applied = rng.randint(0, copilot_suggestions)
    pulls: Json = {
        "total_created": created,
        "total_reviewed": reviewed,
        "total_merged": merged,
        "median_minutes_to_merge": round(rng.uniform(20, 2000), 1),
        "total_suggestions": suggestions,
        "total_applied_suggestions": rng.randint(copilot_applied, max(copilot_applied, suggestions // 2)),
        "total_created_by_copilot": by_copilot,
        "total_reviewed_by_copilot": reviewed_by_copilot,
        "total_merged_created_by_copilot": rng.randint(0, min(merged, by_copilot)),
        "total_merged_reviewed_by_copilot": rng.randint(0, min(merged, reviewed_by_copilot)),
        "median_minutes_to_merge_copilot_authored": round(rng.uniform(20, 2000), 1),
        "median_minutes_to_merge_copilot_reviewed": round(rng.uniform(20, 2000), 1),
        "total_copilot_suggestions": copilot_suggestions,
        "total_copilot_applied_suggestions": copilot_applied,
    }
    if by_comment_type:
        share = copilot_suggestions // len(COMMENT_TYPES)
        pulls["copilot_suggestions_by_comment_type"] = [
            {"comment_type": kind, "total_copilot_suggestions": share, "total_copilot_applied_suggestions": share // 2}
            for kind in COMMENT_TYPES
        ]
    return pulls


def _review_times(rng: random.Random, merged: int) -> list[Json]:
    if merged == 0:
        return []
    entry: Json = {"authored_by": "human", "reviewed_by": "human", "total_merged": rng.randint(1, merged)}
    for stage in ("ready_to_first_review", "first_to_final_review", "final_review_to_merge"):
        median = round(rng.uniform(5, 600), 1)
        entry[f"median_minutes_{stage}"] = median
        entry[f"p90_minutes_{stage}"] = round(median * rng.uniform(1, 4), 1)
    return [entry]


def _adoption_phases(rng: random.Random, active: int) -> list[Json]:
    left, phases = active, []
    for number, phase in enumerate(PHASES):
        engaged = left if number == len(PHASES) - 1 else rng.randint(0, left)
        left -= engaged
        phases.append(
            {
                "phase": phase,
                "phase_number": number,
                "total_engaged_users": engaged,
                "users_in_phase_28d": engaged + rng.randint(0, 2),
                "total_pull_requests_merged": rng.randint(0, 10) * engaged,
            }
            | {
                name: round(rng.uniform(0, 40), 2)
                for name in (
                    "avg_user_initiated_interactions",
                    "avg_code_generation_activities",
                    "avg_code_acceptance_activities",
                    "avg_loc_added",
                    "avg_loc_deleted",
                    "avg_pull_requests_reviewed",
                    "avg_pull_requests_created",
                    "avg_pull_requests_merged",
                    "avg_pull_requests_median_minutes_to_merge",
                    "avg_pull_requests_minutes_to_review",
                    "avg_pull_requests_review_cycles",
                )
            }
        )
    return phases


def _periods(rng: random.Random, surface: str, monthly_cap: int) -> Json:
    """daily <= weekly <= monthly users of one surface, the monthly within the seats."""
    monthly = rng.randint(0, monthly_cap)
    weekly = rng.randint(0, monthly)
    return {
        f"daily_{surface}_users": rng.randint(0, weekly),
        f"weekly_{surface}_users": weekly,
        f"monthly_{surface}_users": monthly,
    }


def day_totals(rng: random.Random, day: date, owner_key: str, owner_id: int) -> Json:
    """One per-day aggregate object of an organization or enterprise."""
    monthly = rng.randint(USERS_PER_OWNER - 3, USERS_PER_OWNER)
    weekly = rng.randint(monthly // 2, monthly)
    daily = rng.randint(weekly // 2, weekly)
    totals = {
        "day": day.isoformat(),
        owner_key: str(owner_id),
        "daily_active_users": daily,
        "weekly_active_users": weekly,
        "monthly_active_users": monthly,
        "monthly_active_chat_users": rng.randint(monthly // 2, monthly),
        "monthly_active_agent_users": rng.randint(1, monthly // 2),
    }
    for surface in ("active_cli", "active_copilot_app", "active_copilot_cloud_agent", "active_vscode_agent"):
        totals |= _periods(rng, surface, USERS_PER_OWNER)
    reviewers = _periods(rng, "active_copilot_code_review", USERS_PER_OWNER // 2)
    totals |= reviewers | _periods(rng, "passive_copilot_code_review", USERS_PER_OWNER // 2)
    counters = _counters(rng, daily)
    return (
        totals
        | counters
        | {"ai_credits_used": round(rng.uniform(0, 40) * daily, 2)}
        | _breakdowns(rng, counters, daily, versions=False)
        | {
            "totals_by_ai_adoption_phase": _adoption_phases(rng, daily),
            "pull_requests": _pull_requests(rng, 1, by_comment_type=True),
        }
    )


def user_day(rng: random.Random, day: date, index: int, owner_key: str, owner_id: int) -> Json:
    """One line of a users report: one user on one day."""
    phase = rng.randrange(len(PHASES))
    counters = _counters(rng, 1)
    return (
        {
            "day": day.isoformat(),
            "user_id": 100000 + index,
            "user_login": f"user-{index:04d}",
            owner_key: str(owner_id),
        }
        | counters
        | {"ai_credits_used": round(rng.uniform(0, 40), 2)}
        | {
            flag: rng.random() < chance
            for flag, chance in (
                ("used_agent", 0.4),
                ("used_chat", 0.7),
                ("used_cli", 0.2),
                ("used_copilot_app", 0.15),
                ("used_copilot_cloud_agent", 0.1),
                ("used_copilot_coding_agent", 0.1),
                ("used_copilot_code_review_active", 0.2),
                ("used_copilot_code_review_passive", 0.3),
                ("used_vscode_agent", 0.1),
            )
        }
        | {"ai_adoption_phase": {"phase": PHASES[phase], "phase_number": phase, "version": "v1"}}
        | {
            f"distinct_{name}_use_count": rng.randint(0, 3)
            for name in ("custom_agent", "mcp", "plugin", "skill", "slash_cmd")
        }
        | _breakdowns(rng, counters, 1, versions=True)
        | {
            "totals_by_custom_agent": [{"custom_agent": "general-purpose", "interaction_count": rng.randint(0, 6)}],
            "totals_by_mcp": [{"mcp": "github-mcp-server", "interaction_count": rng.randint(0, 9)}],
            "totals_by_plugin": [{"plugin": "other", "interaction_count": rng.randint(0, 3)}],
            "totals_by_skill": [{"skill": "other", "interaction_count": rng.randint(0, 5)}],
            "totals_by_slash_cmd": [{"slash_cmd": "/plan", "interaction_count": rng.randint(0, 4)}],
        }
    )


def _lines(records: list[Json]) -> bytes:
    return b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)


def _split(records: list[Json], shards: int) -> list[bytes]:
    size = -(-len(records) // shards)
    return [_lines(records[i * size : (i + 1) * size]) for i in range(shards)]


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _engagement(rng: random.Random) -> Json:
    active = rng.randint(USERS_PER_OWNER // 2, USERS_PER_OWNER)
    return {
        "active_user_count": active,
        "totals_by_feature": [{"feature": f, "engaged_user_count": rng.randint(0, active)} for f in ENGAGED_FEATURES],
    }


def aggregate_28_day(seed: str, owner_key: str, owner_id: int, start: date, end: date) -> list[bytes]:
    """Two shards, each a line with report window, owner id and half the days."""
    rng = random.Random(seed)
    days = _days(start, end)
    half = len(days) // 2
    head = {
        "report_start_day": start.isoformat(),
        "report_end_day": end.isoformat(),
        owner_key: str(owner_id),
        "copilot_feature_engagement": _engagement(rng),
    }
    return [
        _lines([head | {"day_totals": [day_totals(rng, d, owner_key, owner_id) for d in part]}])
        for part in (days[:half], days[half:])
    ]


def aggregate_1_day(seed: str, owner_key: str, owner_id: int, day: date) -> list[bytes]:
    return [_lines([day_totals(random.Random(seed), day, owner_key, owner_id)])]


def users(seed: str, owner_key: str, owner_id: int, days: list[date], shards: int) -> list[bytes]:
    """A 1-day report for one day; for more days, a 28-day report whose lines carry its window."""
    rng = random.Random(seed)
    window = {"report_start_day": days[0].isoformat(), "report_end_day": days[-1].isoformat()} if len(days) > 1 else {}
    records = [
        window | user_day(rng, day, index, owner_key, owner_id)
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
            owner_key: str(owner_id),
        }
        for index in range(1, USERS_PER_OWNER + 1)
        for team_id, slug in rng.sample(TEAMS, rng.randint(1, 2))
    ]
    return _split(records, shards)


def repo_day(rng: random.Random, day: date, number: int, owner_key: str, owner_id: int, owner: str) -> Json:
    """One line of a repos report: one repository on one day (no IDE counters: GitHub has none here)."""
    pulls = _pull_requests(rng, 1, by_comment_type=False) | {"copilot_suggestions_by_comment_type": []}
    return {
        "day": day.isoformat(),
        owner_key: str(owner_id),
        "repo_id": 700000 + number,
        "repo_owner_name": owner,
        "repo_name": REPOS[number % len(REPOS)] + ("" if number < len(REPOS) else f"-{number}"),
        "repo_visibility": VISIBILITIES[number % len(VISIBILITIES)],
        "pull_requests": pulls,
        "pull_request_review_times": _review_times(rng, pulls["total_merged"]),
    }


def repos(seed: str, owner_key: str, owner_id: int, owner: str, day: date, shards: int) -> list[bytes]:
    rng = random.Random(seed)
    return _split([repo_day(rng, day, n, owner_key, owner_id, owner) for n in range(len(REPOS))], shards)


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
