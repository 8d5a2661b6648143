"""The job's steps, in the order main.py runs them: fetch, figures, history, dashboard, upload,
outputs. Each is the workflow side of one stage (its log group, its warnings, what a failure of
it costs the run); the work itself is in the modules each step calls."""


def first_line(failure: Exception) -> str:
    """A failure's first line, cut short: the warning of a step that must not cost the run its artifact."""
    return (str(failure).splitlines() or [type(failure).__name__])[0][:300]
