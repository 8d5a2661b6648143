"""Azure Storage look-alikes: shared-access signatures and the XML error answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import urlencode
from xml.sax.saxutils import escape

from .server import Response

SAS_VERSION = "2025-01-05"
STORAGE_VERSION = "2025-01-05"

_MESSAGES = {
    "AuthenticationFailed": "Server failed to authenticate the request. Make sure the value of "
    "Authorization header is formed correctly including the signature.",
    "InvalidAuthenticationInfo": "Authentication information is not given in the correct format. "
    "Check the value of Authorization header.",
    "AuthorizationPermissionMismatch": "This request is not authorized to perform this operation "
    "using this permission.",
    "BlobNotFound": "The specified blob does not exist.",
    "ResourceNotFound": "The specified resource does not exist.",
    "InvalidBlockList": "The specified block list is invalid.",
    "InvalidBlobOrBlock": "The specified blob or block content is invalid.",
    "InvalidRange": "The range specified is invalid for the current size of the resource.",
    "InvalidQueryParameterValue": "Value for one of the query parameters specified in the request URI is invalid.",
    "InvalidHeaderValue": "The value for one of the HTTP headers is not in the correct format.",
    "MissingRequiredHeader": "An HTTP header that's mandatory for this request is not specified.",
    "InvalidXmlDocument": "XML specified is not syntactically valid.",
    "Md5Mismatch": "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
    "UnsupportedHttpVerb": "The resource doesn't support specified Http Verb.",
    "InvalidUri": "The requested URI does not represent any resource on the server.",
    "ServerBusy": "The server is currently unable to receive requests. Please retry your request.",
    "InternalError": "The server encountered an internal error. Please retry the request.",
}


def now() -> datetime:
    return datetime.now(UTC)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def common_headers() -> dict[str, str]:
    return {"x-ms-request-id": str(uuid.uuid4()), "x-ms-version": STORAGE_VERSION}


def error(status: int, code: str, detail: str | None = None) -> Response:
    """An error exactly shaped like Azure Storage's: XML body plus x-ms-error-code."""
    headers = common_headers()
    message = f"{_MESSAGES.get(code, code)}\nRequestId:{headers['x-ms-request-id']}\nTime:{iso(now())}"
    extra = f"<AuthenticationErrorDetail>{escape(detail)}</AuthenticationErrorDetail>" if detail else ""
    body = (
        '\ufeff<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{extra}</Error>"
    ).encode()
    headers |= {"Content-Type": "application/xml", "x-ms-error-code": code}
    return Response(status, headers, [body])


def code_for_status(status: int) -> str:
    return {503: "ServerBusy", 500: "InternalError", 404: "ResourceNotFound", 403: "AuthenticationFailed"}.get(
        status, "InternalError"
    )


class Signer:
    """Issues and checks service-SAS-like query strings bound to one path."""

    def __init__(self) -> None:
        self._key = uuid.uuid4().bytes

    def sign(self, path: str, permissions: str, ttl: float) -> str:
        fields = {
            "sv": SAS_VERSION,
            "se": iso(now() + timedelta(seconds=ttl)),
            "sr": "b",
            "sp": permissions,
        }
        return urlencode(fields | {"sig": self._signature(path, fields)})

    def check(self, path: str, params: dict[str, str], permission: str) -> Response | None:
        """None when the signature holds for path and grants permission; else Azure's answer."""
        if "sig" not in params or any(k not in params for k in ("sv", "se", "sr", "sp")):
            return error(403, "AuthenticationFailed", "Signature fields not well formed.")
        if not hmac.compare_digest(params["sig"], self._signature(path, params)):
            return error(403, "AuthenticationFailed", "Signature did not match.")
        if _expired(params["se"]):
            return error(
                403, "AuthenticationFailed", f"Signed expiry time [{params['se']}] must be after the current time"
            )
        if permission not in params["sp"]:
            return error(403, "AuthorizationPermissionMismatch")
        return None

    def _signature(self, path: str, fields: dict[str, str]) -> str:
        text = "\n".join([fields["sp"], fields["se"], path, fields["sv"], fields["sr"]])
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()


def _expired(expiry: str) -> bool:
    try:
        moment = datetime.fromisoformat(expiry)
    except ValueError:
        return True
    return moment <= now()
