"""The action's exceptions. Each message is written for the person reading the workflow log:
it says what went wrong and what to do about it."""


class ActionError(Exception):
    """A failure the action explains and ends on (exit code 1)."""


class InputError(ActionError):
    """An input (or the runner's environment) is not usable; nothing has been sent anywhere."""


class ApiError(ActionError):
    """GitHub's Copilot metrics API refused or failed the request."""


class NoReportError(ActionError):
    """GitHub has no report for what was asked, and `if-no-report` says that is an error."""


class DownloadError(ActionError):
    """A report file could not be downloaded intact."""


class LinkExpiredError(DownloadError):
    """A signed download link was refused as expired; fresh links may still work."""


class ArtifactError(ActionError):
    """The workflow artifact could not be created, uploaded or finalized."""


class HistoryError(ActionError):
    """The history store could not be opened, read or written; no day in it was lost or shrunk."""


class DashboardError(ActionError):
    """The dashboard could not be built from the history; the artifact and the history are unaffected."""


class ReportsFailedError(ActionError):
    """One or more of several reports asked for failed; the others were kept."""
