"""Graph API errors as the emulator answers them: HTTP status plus the Graph body
{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}."""

from __future__ import annotations

from typing import Any


class GraphError(Exception):
    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        error_type: str = "OAuthException",
        subcode: int | None = None,
        transient: bool = False,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.subcode = subcode
        self.transient = transient
        self.headers = headers or {}

    def body(self, fbtrace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type}
        if self.transient:
            error["is_transient"] = True
        error["code"] = self.code
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def invalid_parameter(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(400, 100, f"(#100) {message}", subcode=subcode)


def unknown_object(object_id: str) -> GraphError:
    return GraphError(
        400,
        100,
        f"Unsupported get request. Object with ID '{object_id}' does not exist, cannot be "
        "loaded due to missing permissions, or does not support this operation. Please read "
        "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        error_type="GraphMethodException",
        subcode=33,
    )


def unknown_path(path: str) -> GraphError:
    return GraphError(400, 2500, f"Unknown path components: /{path}")


def nonexisting_field(field: str, node_type: str) -> GraphError:
    return invalid_parameter(
        f"Tried accessing nonexisting field ({field}) on node type ({node_type})"
    )


def missing_token() -> GraphError:
    return GraphError(400, 104, "An access token is required to request this resource.")


def invalid_token() -> GraphError:
    return GraphError(
        400,
        190,
        "Invalid OAuth access token - Cannot parse access token",
        headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Invalid token"'},
    )


def expired_token(expired_at: str, now: str) -> GraphError:
    return GraphError(
        400,
        190,
        f"Error validating access token: Session has expired on {expired_at}. "
        f"The current time is {now}.",
        subcode=463,
        headers={"WWW-Authenticate": 'OAuth "Facebook Platform" "invalid_token" "Expired"'},
    )


def permission_denied(code: int) -> GraphError:
    if code == 10:
        return GraphError(403, 10, "(#10) Application does not have permission for this action")
    return GraphError(403, 200, "(#200) Missing Permissions")


RATE_LIMIT_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}


def rate_limited(code: int) -> GraphError:
    # Graph answers the app/user/page throttles with 403 and the custom-rate one with 400.
    status = 400 if code == 613 else 403
    return GraphError(status, code, RATE_LIMIT_MESSAGES[code], transient=True)


def server_error(code: int) -> GraphError:
    if code == 2:
        return GraphError(
            503,
            2,
            "An unexpected error has occurred. Please retry your request later.",
            transient=True,
        )
    return GraphError(500, 1, "An unknown error occurred", transient=True)
