"""`make bench`: benchmarks of the action against the reference clients; writes bench/RESULTS.md.

    python3 bench/run.py                  # everything, median of 5 runs (about 8 minutes on 2 CPUs)
    python3 bench/run.py --quick          # a fast smoke run: small sizes, 1 run
    python3 bench/run.py --item download  # only some items (download, upload, action, cold-start)

Needs curl, jq, node and `npm ci --prefix tests/conformance` (the official client and Azurite).
Large files live in a temporary folder that is removed at the end.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent / "tests")]

from measure import Plan  # noqa: E402
from suite import ITEMS, run_suite  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and 1 run: a smoke test of the suite")
    parser.add_argument("--runs", type=int, help="recorded runs per figure (default 5; 1 with --quick)")
    parser.add_argument("--warmup", type=int, help="unrecorded runs first (default 1; 0 with --quick)")
    parser.add_argument("--item", action="append", choices=ITEMS, help="run only this item (repeatable)")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="where to write the results")
    args = parser.parse_args(arguments)
    runs = args.runs if args.runs is not None else (1 if args.quick else 5)
    warmup = args.warmup if args.warmup is not None else (0 if args.quick else 1)
    plan = Plan(runs=runs, warmup=warmup, quick=args.quick)
    return run_suite(plan, args.item or list(ITEMS), args.output.resolve(), arguments)


if __name__ == "__main__":
    sys.exit(main())
