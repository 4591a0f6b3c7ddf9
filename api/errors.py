"""Every error leaves the API as RFC 9457 problem details: ``type, title, status, detail`` and, for
bad input, ``errors``: one ``{"path": ..., "message": ...}`` per problem."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from harvestmatch.errors import HarvestError, InputError, ParameterError
from matcher.claims import ClaimConflict, InvalidClaim


class ApiError(HarvestError):
    """An error with its HTTP status, raised by views and turned into problem details."""

    def __init__(self, status: int, title: str, detail: str | None = None, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.errors = status, title, detail, errors


def body_problems(exc: ValidationError) -> list[dict[str, str]]:
    """A body model's refusal as problem entries: ``{"path": field, "message": ...}`` each."""
    return [{"path": "/".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]


def problem(status: int, title: str, detail: str | None = None, errors: list[dict[str, Any]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def register(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api(exc: ApiError) -> Response:
        response = problem(exc.status, exc.title, exc.detail, exc.errors)
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="harvestmatch"'
        return response

    @app.errorhandler(ValidationError)
    def _pydantic(exc: ValidationError) -> Response:
        errors = body_problems(exc)
        return problem(422, "Invalid request body", f"{len(errors)} problem(s) in the request body", errors)

    @app.errorhandler(InputError)
    def _input(exc: InputError) -> Response:
        errors = [{"path": "/".join(str(x) for x in (p.row, p.column) if x is not None) or p.source, "message": p.message} for p in exc.problems]
        return problem(422, "Invalid input", f"{len(errors)} problem(s)", errors)

    @app.errorhandler(InvalidClaim)
    def _invalid_claim(exc: InvalidClaim) -> Response:
        return problem(422, "Invalid claim", exc.message, [{"path": exc.path, "message": exc.message}])

    @app.errorhandler(ClaimConflict)
    def _claim_conflict(exc: ClaimConflict) -> Response:
        return problem(409, "Conflict", str(exc))

    @app.errorhandler(ParameterError)
    def _parameter(exc: ParameterError) -> Response:
        return problem(422, "Invalid parameter", str(exc))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return problem(exc.code or 500, exc.name, exc.description)

    @app.errorhandler(Exception)
    def _internal(exc: Exception) -> Response:
        # the details (a traceback, server paths) go to the log, never to the caller
        app.logger.exception("internal error on %s %s", request.method, request.path)
        return problem(500, "Internal Server Error", "the service failed on this request; its log has the details")
