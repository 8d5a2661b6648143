"""The command line: the action's job outside GitHub Actions, files landing in --out."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence

from . import __version__, workflow
from . import main as job
from .settings import REPORTS
from .steps.outputs import run_outputs

EXIT_CODES = """exit codes:
  0  the report was downloaded (or there was none and --if-no-report is warn or ignore)
  1  GitHub refused or failed, a download failed, or an option is invalid
  2  the command line itself is malformed"""


def parser() -> argparse.ArgumentParser:
    reports = sorted({name for names in REPORTS.values() for name in names})
    command = argparse.ArgumentParser(
        prog="copilot-metrics",
        description=(
            "Download a GitHub Copilot usage metrics report into a folder. The token is read from "
            "an environment variable (COPILOT_METRICS_TOKEN by default), never from the command line."
        ),
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scope = command.add_mutually_exclusive_group(required=True)
    scope.add_argument("--org", help="organization login")
    scope.add_argument("--enterprise", help="enterprise slug")
    command.add_argument(
        "--report", default="", help=f"report name (default: the scope's 28-day aggregate): {', '.join(reports)}"
    )
    command.add_argument("--day", default="", help="for 1-day reports: YYYY-MM-DD, YYYY-MM-DD..YYYY-MM-DD, or latest")
    command.add_argument("--api-url", default="https://api.github.com", help="REST API base (default: %(default)s)")
    command.add_argument("--out", default="copilot-metrics", help="folder for the files (default: %(default)s)")
    command.add_argument("--csv", action="store_true", help="also write CSV conversions next to the NDJSON files")
    command.add_argument(
        "--dashboard", action="store_true", help="also write dashboard/index.html, a page of the days the files hold"
    )
    command.add_argument(
        "--if-no-report",
        default="warn",
        choices=("warn", "error", "ignore"),
        help="when GitHub has no report (default: %(default)s)",
    )
    command.add_argument(
        "--token-env",
        default="COPILOT_METRICS_TOKEN",
        metavar="NAME",
        help="environment variable holding the token (default: %(default)s)",
    )
    command.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return command


def main(argv: Sequence[str] | None = None) -> int:
    workflow.set_mode("command-line")
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["history"]:
        from .history.command import main as history_main

        return history_main(arguments[1:])
    args = parser().parse_args(arguments)
    token = os.environ.get(args.token_env, "")
    if not token:
        workflow.error(f"the environment variable {args.token_env} is empty: export the token there first.")
        return 1
    inputs = {
        "org": args.org or "",
        "enterprise": args.enterprise or "",
        "token": token,
        "report": args.report,
        "day": args.day,
        "api-url": args.api_url,
        "path": os.path.abspath(args.out),
        "csv": "true" if args.csv else "false",
        "dashboard": "true" if args.dashboard else "false",
        "if-no-report": args.if_no_report,
        "upload": "false",
        "summary": "false",
    }
    env = {**os.environ, "GITHUB_WORKSPACE": os.path.abspath(args.out)}
    return job.guarded(lambda: _print_outputs(inputs, env))


def _print_outputs(inputs: Mapping[str, str], env: Mapping[str, str]) -> None:
    """Run the job; its outputs, as JSON, are the only thing the command prints on stdout."""
    record = job.run(inputs, env)
    print(json.dumps(run_outputs(record, record.settings.path)))
