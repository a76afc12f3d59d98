"""Request and error types shared by the Moonraker endpoints.

Moonraker raises two kinds of errors. A `ServerError` carries its message
as the HTTP reason phrase and the body's `message`; a Tornado `HTTPError`
with only a log message shows the standard reason phrase ("Bad Request",
"Forbidden" ...) and keeps the detail in the traceback. Either way Tornado
replaces a reason phrase that is not a valid HTTP reason (a newline, a '<',
control characters) with "Unknown".
"""

import http.client
import re

_REASON_PHRASE = re.compile(r"[\t \x21-\x7e\x80-\xff]+")
EXCLUDED_ARGS = ("_", "token", "access_token", "connection_id")


def default_reason(status):
    """Return the standard reason phrase of an HTTP status code."""
    return http.client.responses.get(status, "Unknown")


def sanitize_reason(reason):
    """Return `reason` if Tornado would send it as a reason phrase, else "Unknown"."""
    if "<" in reason or not _REASON_PHRASE.fullmatch(reason):
        return "Unknown"
    return reason


class ApiError(Exception):
    """An error answer: HTTP status, the message Moonraker shows, and the traceback's detail."""

    def __init__(self, status, message, detail=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail

    @classmethod
    def server(cls, message, status=400):
        """A Moonraker ServerError: the message is the reason phrase."""
        return cls(status, message)

    @classmethod
    def http(cls, status, detail=None):
        """A Tornado HTTPError with a log message: the standard reason phrase, `detail` in the traceback."""
        return cls(status, default_reason(status), detail)

    def rpc_message(self):
        """Return the text JSON-RPC puts in `error.message` (the full detail)."""
        return self.detail if self.detail else self.message

    def reason(self):
        """Return the HTTP reason phrase (and body message) after Tornado's check."""
        return sanitize_reason(self.message)

    def traceback(self):
        """Return a Python-style traceback text naming the error, as Moonraker's write_error adds."""
        reason = self.reason()
        if self.detail is None:
            return "\n".join([
                "Traceback (most recent call last):\n",
                '  File "moonraker/components/application.py", in _process_http_request\n',
                f"moonraker.utils.ServerError: {self.message}\n",
                "\nThe above exception was the direct cause of the following exception:\n\n",
                "Traceback (most recent call last):\n",
                '  File "tornado/web.py", in _execute\n',
                f"tornado.web.HTTPError: HTTP {self.status}: {self.message}\n",
            ])
        return "\n".join([
            "Traceback (most recent call last):\n",
            '  File "tornado/web.py", in _execute\n',
            f"tornado.web.HTTPError: HTTP {self.status}: {reason} ({self.detail})\n",
        ])

    def body(self):
        """Return the JSON error body `{"error": {"code", "message", "traceback"}}`."""
        return {"error": {"code": self.status, "message": self.reason(), "traceback": self.traceback()}}


class ApiRequest:
    """One call of an endpoint: arguments, HTTP method, caller and transport ("HTTP" or "WEBSOCKET")."""

    def __init__(self, args, method, user, ip, transport, connection=None):
        self.args = args
        self.method = method
        self.user = user
        self.ip = ip
        self.transport = transport
        self.connection = connection

    def get_str(self, key, default=...):
        """Return argument `key` as text; a missing argument without default is Moonraker's 400."""
        if key not in self.args or self.args[key] is None:
            if default is ...:
                raise ApiError.server(f"No data for argument: {key}")
            return default
        return str(self.args[key])

    def get_number(self, key, default, kind):
        """Return argument `key` converted with `kind` (int or float)."""
        if key not in self.args:
            return default
        value = self.args[key]
        try:
            return kind(value)
        except (TypeError, ValueError) as error:
            raise ApiError.server(f"Unable to convert argument [{key}] to {kind.__name__}: "
                                  f"value received: {value}") from error

    def get_bool(self, key, default):
        """Return argument `key` as a boolean ("true"/"false" in query strings)."""
        if key not in self.args:
            return default
        value = self.args[key]
        if isinstance(value, bool):
            return value
        return str(value).lower() == "true"


class Endpoint:
    """An API endpoint: path, accepted HTTP methods, JSON-RPC names, handler and access rules.

    `remote` endpoints are Klippy's (registered once Klippy has connected);
    `locked` handlers run under the state lock (those that wait for Klippy
    do not); `object_args` endpoints parse `?name=field,field` into objects.
    """

    def __init__(self, path, methods, handler, auth_required=True, transports=("HTTP", "WEBSOCKET"),
                 remote=False, object_args=False, locked=True, rpc_names=None):
        self.path = path
        self.methods = tuple(methods)
        self.handler = handler
        self.auth_required = auth_required
        self.transports = tuple(transports)
        self.remote = remote
        self.object_args = object_args
        self.locked = locked
        parts = path.strip("/").split("/")
        if rpc_names is not None:
            names = dict(rpc_names)
        elif remote or len(self.methods) == 1:
            names = {method: ".".join(parts) for method in self.methods}
        else:
            names = {method: ".".join(parts[:-1] + [f"{method.lower()}_{parts[-1]}"]) for method in self.methods}
        self.rpc_names = names
