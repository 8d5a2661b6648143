"""The self-contained HTML dashboard: the data it shows (data.py) and the page (page.py)."""

from .data import BreakdownDay, DashboardData, DayFigures, RepoDay, TeamDay, fold_top
from .page import write_dashboard

__all__ = ["BreakdownDay", "DashboardData", "DayFigures", "RepoDay", "TeamDay", "fold_top", "write_dashboard"]
