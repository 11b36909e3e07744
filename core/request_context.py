"""The request being served, for code that records it without taking a request parameter.

`RequestContextMiddleware` puts the current request in a context variable, so a
service deep in a call chain can still put the client's address on its audit
record (core.audit.log_action). Background jobs run outside any request and see None.
"""

from __future__ import annotations

from contextvars import ContextVar

_current_request: ContextVar = ContextVar("yidi_current_request", default=None)


def current_request():
    return _current_request.get()


def request_memo() -> dict | None:
    """A dict that lives as long as the request being served (None outside a request): for values
    read many times while one page renders, such as a year's calendar behind every deadline."""
    request = _current_request.get()
    if request is None:
        return None
    return request.__dict__.setdefault("_yidi_memo", {})


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
