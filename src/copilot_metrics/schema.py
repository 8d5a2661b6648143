"""The reports GitHub's Copilot usage metrics API offers and every field their files document.

This module is the one place that names reports and fields. Each report is a value (name,
row kind, scopes, 1-day or 28-day); each field has its path in a line (dotted for nested
objects: ``pull_requests.total_created``), its JSON type, its unit, a short meaning, and the
kinds of report that carry it. Arrays (``totals_by_ide``, ``pull_request_review_times``, ...)
describe the fields of their entries, whose paths are relative to the entry.

Sources: GitHub's "Data available in Copilot usage metrics" reference and its example schema
(github/docs, content/copilot/reference/copilot-usage-metrics/), GitHub's REST description of the
report endpoints (github/rest-api-description, API version 2026-03-10), and GitHub's changelog
for the fields added in 2026 (pull request review stages, feature engagement, VS Code Agents).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Scope = Literal["organization", "enterprise"]
ReportKind = Literal["aggregate", "users", "user-teams", "repos"]
FieldType = Literal["string", "integer", "number", "boolean", "date", "object", "array"]

KINDS: tuple[ReportKind, ...] = ("aggregate", "users", "user-teams", "repos")
BOTH_SCOPES: frozenset[Scope] = frozenset({"organization", "enterprise"})


@dataclass(frozen=True)
class Report:
    """One report of the API: its name in the URL, the kind of rows its files hold, where it exists."""

    name: str
    kind: ReportKind
    scopes: frozenset[Scope]
    daily: bool  # a 1-day report, asked for by day; otherwise the latest 28-day window

    def __str__(self) -> str:
        return self.name


# In the order the inputs list them; the first of a scope is its default.
REPORTS: tuple[Report, ...] = (
    Report("organization-28-day", "aggregate", frozenset({"organization"}), daily=False),
    Report("enterprise-28-day", "aggregate", frozenset({"enterprise"}), daily=False),
    Report("users-28-day", "users", BOTH_SCOPES, daily=False),
    Report("organization-1-day", "aggregate", frozenset({"organization"}), daily=True),
    Report("enterprise-1-day", "aggregate", frozenset({"enterprise"}), daily=True),
    Report("users-1-day", "users", BOTH_SCOPES, daily=True),
    Report("user-teams-1-day", "user-teams", BOTH_SCOPES, daily=True),
    Report("repos-1-day", "repos", BOTH_SCOPES, daily=True),
)


def report_named(name: str | Report) -> Report:
    """The report of that name; ValueError for a name the API does not have."""
    if isinstance(name, Report):
        return name
    for report in REPORTS:
        if report.name == name:
            return report
    raise ValueError(f"no Copilot usage metrics report is named {name!r}")


def reports_of(scope: Scope) -> tuple[Report, ...]:
    """The reports one scope offers, its default first."""
    return tuple(report for report in REPORTS if scope in report.scopes)


@dataclass(frozen=True)
class Field:
    path: str
    type: FieldType
    unit: str
    meaning: str
    kinds: frozenset[ReportKind]
    items: tuple[Field, ...] = ()  # the fields of an array's entries, paths relative to the entry
    keys: tuple[str, ...] = ()  # the entry fields that name one entry of an array


@dataclass(frozen=True)
class Breakdown:
    """An array of a row written to a file of its own, one row per entry."""

    path: str  # the array's path in the row
    suffix: str  # the file's name part: <stem>.<suffix>.csv
    keys: tuple[str, ...]
    fields: tuple[Field, ...]  # every documented entry field, keys first

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(field.path for field in self.fields)

    @property
    def counters(self) -> tuple[str, ...]:
        """The entry's numbers: counts, and the medians and averages some arrays hold (which do not add up)."""
        return tuple(
            field.path for field in self.fields if field.type in ("integer", "number") and field.path not in self.keys
        )


def _kinds(*names: ReportKind) -> frozenset[ReportKind]:
    return frozenset(names)


ALL = _kinds(*KINDS)
AGGREGATE = _kinds("aggregate")
USERS = _kinds("users")
TEAMS = _kinds("user-teams")
REPOS = _kinds("repos")
ACTIVITY = _kinds("aggregate", "users")
PR_ROWS = _kinds("aggregate", "repos")


def _count(path: str, meaning: str, kinds: frozenset[ReportKind], unit: str = "count") -> Field:
    return Field(path, "integer", unit, meaning, kinds)


def _text(path: str, meaning: str, kinds: frozenset[ReportKind]) -> Field:
    return Field(path, "string", "", meaning, kinds)


def _minutes(path: str, meaning: str, kinds: frozenset[ReportKind]) -> Field:
    return Field(path, "number", "minutes", meaning, kinds)


def _flag(path: str, meaning: str) -> Field:
    return Field(path, "boolean", "", meaning, USERS)


def _array(
    path: str, meaning: str, kinds: frozenset[ReportKind], keys: tuple[str, ...], items: Iterable[Field]
) -> Field:
    return Field(path, "array", "entries", meaning, kinds, tuple(items), keys)


def _code_activity(kinds: frozenset[ReportKind], prefix: str = "") -> list[Field]:
    """The IDE code counters, at the top of a row and in each entry of its code breakdowns."""
    return [
        _count(f"{prefix}user_initiated_interaction_count", "prompts people sent to Copilot", kinds, "prompts"),
        _count(f"{prefix}code_generation_activity_count", "pieces of output Copilot generated", kinds, "generations"),
        _count(
            f"{prefix}code_acceptance_activity_count",
            "suggestions or code blocks people accepted",
            kinds,
            "acceptances",
        ),
        _count(
            f"{prefix}loc_suggested_to_add_sum", "lines Copilot suggested adding (agent edits excluded)", kinds, "lines"
        ),
        _count(f"{prefix}loc_suggested_to_delete_sum", "lines Copilot suggested deleting", kinds, "lines"),
        _count(f"{prefix}loc_added_sum", "lines added in the editor, agent edits included", kinds, "lines"),
        _count(f"{prefix}loc_deleted_sum", "lines deleted in the editor, mostly by agent edits", kinds, "lines"),
    ]


def _token_usage(prefix: str, surface: str, kinds: frozenset[ReportKind]) -> list[Field]:
    return [
        _count(f"{prefix}.session_count", f"{surface} sessions started", kinds, "sessions"),
        _count(
            f"{prefix}.request_count", f"requests to Copilot from {surface}, follow-ups included", kinds, "requests"
        ),
        _count(f"{prefix}.prompt_count", f"prompts, commands or queries people gave {surface}", kinds, "prompts"),
        _count(f"{prefix}.token_usage.output_tokens_sum", f"output tokens of {surface} requests", kinds, "tokens"),
        _count(f"{prefix}.token_usage.prompt_tokens_sum", f"prompt tokens of {surface} requests", kinds, "tokens"),
        Field(
            f"{prefix}.token_usage.avg_tokens_per_request",
            "number",
            "tokens per request",
            f"(output + prompt tokens) / requests of {surface}",
            kinds,
        ),
    ]


def _active_users(surface: str, what: str, kinds: frozenset[ReportKind] = AGGREGATE) -> list[Field]:
    return [
        _count(f"{period}_{surface}_users", f"people who {what} {window}", kinds, "users")
        for period, window in (
            ("daily", "that day"),
            ("weekly", "in the 7 days to that day"),
            ("monthly", "in the 28 days to that day"),
        )
    ]


def _interactions(name: str, key: str, meaning: str) -> Field:
    return _array(
        f"totals_by_{name}",
        meaning,
        USERS,
        (key,),
        [
            _text(key, f"the {key.replace('_', ' ')} (rare ones grouped as 'other')", USERS),
            _count("interaction_count", "interactions", USERS),
        ],
    )


_IDE_VERSIONS = [
    _text("last_known_ide_version.ide_version", "latest IDE version seen for the user", USERS),
    _text("last_known_ide_version.sampled_at", "when that IDE version was seen (UTC timestamp)", USERS),
    _text("last_known_plugin_version.plugin", "Copilot extension seen in that IDE", USERS),
    _text("last_known_plugin_version.plugin_version", "latest Copilot extension version seen", USERS),
    _text("last_known_plugin_version.sampled_at", "when that extension version was seen (UTC timestamp)", USERS),
]

_PULL_REQUESTS = [
    _count("pull_requests.total_created", "pull requests created that day", PR_ROWS, "pull requests"),
    _count("pull_requests.total_reviewed", "pull requests reviewed that day", PR_ROWS, "pull requests"),
    _count("pull_requests.total_merged", "pull requests merged that day", PR_ROWS, "pull requests"),
    _minutes("pull_requests.median_minutes_to_merge", "median creation-to-merge time of that day's merges", PR_ROWS),
    _count(
        "pull_requests.total_suggestions",
        "review suggestions made that day, by anyone",
        PR_ROWS,
        "suggestions",
    ),
    _count(
        "pull_requests.total_applied_suggestions",
        "review suggestions applied that day",
        PR_ROWS,
        "suggestions",
    ),
    _count("pull_requests.total_created_by_copilot", "pull requests Copilot created", PR_ROWS, "pull requests"),
    _count("pull_requests.total_reviewed_by_copilot", "pull requests Copilot reviewed", PR_ROWS, "pull requests"),
    _count(
        "pull_requests.total_merged_created_by_copilot",
        "merged pull requests Copilot created",
        PR_ROWS,
        "pull requests",
    ),
    _count(
        "pull_requests.total_merged_reviewed_by_copilot",
        "merged pull requests Copilot reviewed",
        PR_ROWS,
        "pull requests",
    ),
    _minutes(
        "pull_requests.median_minutes_to_merge_copilot_authored",
        "median time to merge of Copilot's pull requests",
        PR_ROWS,
    ),
    _minutes(
        "pull_requests.median_minutes_to_merge_copilot_reviewed",
        "median time to merge of pull requests Copilot reviewed",
        PR_ROWS,
    ),
    _count("pull_requests.total_copilot_suggestions", "review suggestions Copilot made", PR_ROWS, "suggestions"),
    _count(
        "pull_requests.total_copilot_applied_suggestions",
        "Copilot review suggestions applied",
        PR_ROWS,
        "suggestions",
    ),
]

_REVIEW_STAGES = [
    ("ready_to_first_review", "from ready for review to first review"),
    ("first_to_final_review", "from first to final review (0 with a single review)"),
    ("final_review_to_merge", "from final review to merge"),
]

_ADOPTION_PHASE_AVERAGES = [
    ("avg_user_initiated_interactions", "prompts"),
    ("avg_code_generation_activities", "generations"),
    ("avg_code_acceptance_activities", "acceptances"),
    ("avg_loc_added", "lines"),
    ("avg_loc_deleted", "lines"),
    ("avg_pull_requests_reviewed", "pull requests"),
    ("avg_pull_requests_created", "pull requests"),
    ("avg_pull_requests_merged", "pull requests"),
    ("avg_pull_requests_median_minutes_to_merge", "minutes"),
    ("avg_pull_requests_minutes_to_review", "minutes"),
    ("avg_pull_requests_review_cycles", "review cycles"),
]

FIELDS: tuple[Field, ...] = (
    # Where and when a row belongs.
    Field("report_start_day", "date", "", "first day of the 28-day window", ACTIVITY),
    Field("report_end_day", "date", "", "last day of the 28-day window", ACTIVITY),
    Field("day", "date", "", "the UTC day the row describes", ALL),
    _text("enterprise_id", "the enterprise's id (a string)", ALL),
    _text("organization_id", "the organization's id (a string)", ALL),
    Field("user_id", "integer", "", "the user's id", _kinds("users", "user-teams")),
    _text("user_login", "the user's login (personal data)", _kinds("users", "user-teams")),
    Field("team_id", "integer", "", "the team's id", TEAMS),
    _text("slug", "the team's slug (teams under 5 seated users are left out)", TEAMS),
    Field("repo_id", "integer", "", "the repository's id", REPOS),
    _text("repo_owner_name", "the login owning the repository", REPOS),
    _text("repo_name", "the repository's name", REPOS),
    _text("repo_visibility", "PUBLIC, PRIVATE or INTERNAL", REPOS),
    # Active people (organization and enterprise reports).
    _count("daily_active_users", "people who used Copilot in the IDE that day", AGGREGATE, "users"),
    _count("weekly_active_users", "people who used Copilot in the IDE in the 7 days to that day", AGGREGATE, "users"),
    _count("monthly_active_users", "people who used Copilot in the IDE in the 28 days to that day", AGGREGATE, "users"),
    _count("monthly_active_chat_users", "people who used IDE chat in the 28 days", AGGREGATE, "users"),
    _count("monthly_active_agent_users", "people who used an IDE agent in the 28 days", AGGREGATE, "users"),
    *_active_users("active_cli", "used Copilot CLI"),
    *_active_users("active_copilot_app", "used the Copilot app"),
    *_active_users("active_copilot_cloud_agent", "used Copilot cloud agent"),
    *_active_users("active_copilot_code_review", "requested a Copilot review or applied its suggestion"),
    *_active_users("passive_copilot_code_review", "had Copilot review their pull request automatically, nothing more"),
    *_active_users("active_vscode_agent", "used the VS Code Agents window"),
    # IDE activity.
    *_code_activity(ACTIVITY),
    Field("ai_credits_used", "number", "AI credits", "AI credits consumed", ACTIVITY),
    # What a user did that day.
    _flag("used_agent", "used agent mode in the IDE"),
    _flag("used_chat", "used IDE chat"),
    _flag("used_cli", "used Copilot CLI"),
    _flag("used_copilot_app", "used the Copilot app"),
    _flag("used_copilot_cloud_agent", "used Copilot cloud agent"),
    _flag("used_copilot_coding_agent", "used Copilot coding agent (the cloud agent's former name)"),
    _flag("used_copilot_code_review_active", "requested a Copilot review or applied its suggestion"),
    _flag("used_copilot_code_review_passive", "had Copilot review their pull request automatically, nothing more"),
    _flag("used_vscode_agent", "used the VS Code Agents window"),
    _text("ai_adoption_phase.phase", "the user's AI adoption phase over the last 28 days", USERS),
    Field("ai_adoption_phase.phase_number", "integer", "", "that phase's number (0-3)", USERS),
    _text("ai_adoption_phase.version", "version of the phase definitions", USERS),
    *(
        _count(f"distinct_{name}_use_count", f"different {what} the user used", USERS, what)
        for name, what in (
            ("custom_agent", "custom agents"),
            ("mcp", "MCP servers"),
            ("plugin", "plugins"),
            ("skill", "skills"),
            ("slash_cmd", "slash commands"),
        )
    ),
    # Agents outside the IDE.
    *_token_usage("totals_by_cli", "Copilot CLI", ACTIVITY),
    _text("totals_by_cli.last_known_cli_version.cli_version", "latest Copilot CLI version seen for the user", USERS),
    _text("totals_by_cli.last_known_cli_version.sampled_at", "when that CLI version was seen (UTC timestamp)", USERS),
    *_token_usage("totals_by_copilot_app", "the Copilot app", ACTIVITY),
    _count("totals_by_vscode_agent.session_count", "VS Code Agents window sessions", ACTIVITY, "sessions"),
    _count(
        "totals_by_vscode_agent.total_user_messages",
        "messages people sent in the VS Code Agents window",
        ACTIVITY,
        "messages",
    ),
    # Pull requests (organization, enterprise and repository reports).
    *_PULL_REQUESTS,
    # 28-day organization and enterprise reports: feature engagement over the window.
    _count(
        "copilot_feature_engagement.active_user_count",
        "active users of the 28-day window (the impact dashboard's total)",
        AGGREGATE,
        "users",
    ),
    # Breakdowns.
    _array(
        "totals_by_ide",
        "activity per IDE; in users reports with the IDE and extension versions",
        ACTIVITY,
        ("ide",),
        [_text("ide", "the IDE", ACTIVITY), *_code_activity(ACTIVITY), *_IDE_VERSIONS],
    ),
    _array(
        "totals_by_feature",
        "activity per Copilot feature (code_completion, agent_edit, chat_panel_*_mode, ...)",
        ACTIVITY,
        ("feature",),
        [_text("feature", "the feature", ACTIVITY), *_code_activity(ACTIVITY)],
    ),
    _array(
        "totals_by_language_feature",
        "activity per language and feature",
        ACTIVITY,
        ("language", "feature"),
        [
            _text("language", "the language", ACTIVITY),
            _text("feature", "the feature", ACTIVITY),
            *_code_activity(ACTIVITY),
        ],
    ),
    _array(
        "totals_by_language_model",
        "chat activity per language and model",
        ACTIVITY,
        ("language", "model"),
        [_text("language", "the language", ACTIVITY), _text("model", "the model", ACTIVITY), *_code_activity(ACTIVITY)],
    ),
    _array(
        "totals_by_model_feature",
        "chat activity per model and feature (Auto counted under the model it picked)",
        ACTIVITY,
        ("model", "feature"),
        [_text("model", "the model", ACTIVITY), _text("feature", "the feature", ACTIVITY), *_code_activity(ACTIVITY)],
    ),
    _array(
        "totals_by_3rd_party_agent",
        "use of third-party agents",
        ACTIVITY,
        ("agent_id",),
        [
            _text("agent_id", "the agent's id (a string)", ACTIVITY),
            _text("agent_name", "the agent's name", ACTIVITY),
            _count("user_initiated_interaction_count", "prompts sent to the agent", ACTIVITY, "prompts"),
            _count("session_count", "sessions with the agent", ACTIVITY, "sessions"),
        ],
    ),
    _interactions("custom_agent", "custom_agent", "interactions per custom agent"),
    _interactions("mcp", "mcp", "interactions per MCP server"),
    _interactions("plugin", "plugin", "interactions per plugin"),
    _interactions("skill", "skill", "interactions per skill"),
    _interactions("slash_cmd", "slash_cmd", "interactions per slash command"),
    _array(
        "totals_by_ai_adoption_phase",
        "people and their average activity per AI adoption phase",
        AGGREGATE,
        ("phase",),
        [
            _text("phase", "the phase", AGGREGATE),
            Field("phase_number", "integer", "", "the phase's number (0-3)", AGGREGATE),
            _count("total_engaged_users", "people in the phase who were active that day", AGGREGATE, "users"),
            _count("users_in_phase_28d", "everyone in the phase over the rolling 28 days", AGGREGATE, "users"),
            _count("total_pull_requests_merged", "pull requests the phase's people merged", AGGREGATE, "pull requests"),
            *(
                Field(name, "number", f"{unit} per user", f"average {name[4:].replace('_', ' ')} per person", AGGREGATE)
                for name, unit in _ADOPTION_PHASE_AVERAGES
            ),
        ],
    ),
    _array(
        "pull_requests.copilot_suggestions_by_comment_type",
        "Copilot code review suggestions per comment type (GitHub: not filled at repository level)",
        PR_ROWS,
        ("comment_type",),
        [
            _text("comment_type", "the type Copilot gave the comment, e.g. security, bug_risk", PR_ROWS),
            _count("total_copilot_suggestions", "suggestions of that type", PR_ROWS, "suggestions"),
            _count(
                "total_copilot_applied_suggestions",
                "applied suggestions of that type",
                PR_ROWS,
                "suggestions",
            ),
        ],
    ),
    _array(
        "copilot_feature_engagement.totals_by_feature",
        "people who used each feature on at least two days of the window",
        AGGREGATE,
        ("feature",),
        [
            _text("feature", "the feature", AGGREGATE),
            _count("engaged_user_count", "people who used it on two days or more", AGGREGATE, "users"),
        ],
    ),
    _array(
        "pull_request_review_times",
        "review stages of the day's merged pull requests, per author and reviewer class",
        REPOS,
        ("authored_by", "reviewed_by"),
        [
            _text("authored_by", "who opened the pull requests (human)", REPOS),
            _text("reviewed_by", "who reviewed them (human; Copilot and bots are not timed)", REPOS),
            _count("total_merged", "qualifying pull requests merged that day", REPOS, "pull requests"),
            *(
                _minutes(f"{statistic}_minutes_{stage}", f"{label} time {meaning}", REPOS)
                for stage, meaning in _REVIEW_STAGES
                for statistic, label in (("median", "median"), ("p90", "90th percentile"))
            ),
        ],
    ),
)

# What leads each breakdown row, so that it joins back to its row.
IDENTITY: dict[ReportKind, tuple[str, ...]] = {
    "aggregate": ("day", "organization_id", "enterprise_id"),
    "users": ("day", "user_id", "user_login", "organization_id", "enterprise_id"),
    "user-teams": ("day", "user_id", "user_login", "team_id", "slug"),
    "repos": ("day", "organization_id", "enterprise_id", "repo_id", "repo_owner_name", "repo_name"),
}

_SUFFIXES = {
    "pull_requests.copilot_suggestions_by_comment_type": "by_comment_type",
    "copilot_feature_engagement.totals_by_feature": "by_engaged_feature",
    "pull_request_review_times": "by_review_times",
}


def fields_of(kind: ReportKind) -> tuple[Field, ...]:
    """The documented fields a kind of report carries, in the order of this module."""
    return tuple(field for field in FIELDS if kind in field.kinds)


def scalars(kind: ReportKind) -> tuple[Field, ...]:
    """The documented fields of a kind that are not arrays: one column each in a flat table."""
    return tuple(field for field in fields_of(kind) if field.type != "array")


def columns(kind: ReportKind) -> tuple[str, ...]:
    """The scalar columns of a kind's main CSV file, dotted paths."""
    return tuple(field.path for field in scalars(kind))


def breakdowns(kind: ReportKind) -> tuple[Breakdown, ...]:
    """The arrays of a kind's rows, each written to a file of its own."""
    return tuple(
        Breakdown(field.path, _suffix(field.path), field.keys, _entry_fields(field, kind))
        for field in fields_of(kind)
        if field.type == "array"
    )


def breakdown(kind: ReportKind, path: str) -> Breakdown:
    """One array of a kind's rows, by its path; KeyError when that kind has no such array."""
    for found in breakdowns(kind):
        if found.path == path:
            return found
    raise KeyError(f"{kind} rows document no array {path!r}")


def _suffix(path: str) -> str:
    return _SUFFIXES.get(path) or "by_" + path.removeprefix("totals_by_")


def _entry_fields(field: Field, kind: ReportKind) -> tuple[Field, ...]:
    own = [item for item in field.items if kind in item.kinds]
    return (
        *(item for key in field.keys for item in own if item.path == key),
        *(item for item in own if item.path not in field.keys),
    )


CODE_COUNTERS: tuple[str, ...] = tuple(field.path for field in _code_activity(ACTIVITY))
