"""orjson-backed JSON for Flask: the nearest answer is mostly serialisation."""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> bytes:
    """``obj`` as the UTF-8 JSON bytes ``jsonify`` would answer with."""
    return orjson.dumps(obj, default=DefaultJSONProvider.default, option=_OPTS)


class OrjsonProvider(DefaultJSONProvider):
    """Keeps Flask's interface; emits UTF-8 without escaping Chinese text."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj, default=self.default, option=_OPTS).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return orjson.loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._prepare_response_obj(args, kwargs)
        body = orjson.dumps(obj, default=self.default, option=_OPTS)
        response_class = cast("type[Response]", self._app.response_class)
        return response_class(body, mimetype=self.mimetype)


def init_app(app: Flask) -> None:
    app.json = OrjsonProvider(app)
