"""Fetch GitHub Copilot usage metrics reports and keep them as a workflow artifact."""

__version__ = "1.0.0"
