"""/openapi.json: valid, complete, and fuzzed against a live server without a 5xx."""

from __future__ import annotations

import os
import re
import time

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from openapi_spec_validator import validate

from locator import create_app
from locator.domain import schema
from tests.browser.conftest import serve

# Route parameter names in Flask differ from the document's; map them.
RENAME = {"cid": "collectionId", "fid": "featureId"}
NOT_PUBLIC = {"/static/{filename}", "/vendor/{name}/{filename}", "/api/docs/assets/{filename}",
              "/ogc/"}
FUZZ_EXAMPLES = 12
FUZZ_BUDGET_S = 60.0
# The all-checks run: a fixed set of cases per operation and mode (derandomized, so
# each run sends the same requests), bounded to a couple of minutes on two cores.
ALL_CHECKS_EXAMPLES = int(os.environ.get("LOCATOR_FUZZ_EXAMPLES", "20"))
ALL_CHECKS_BUDGET_S = 180.0


def test_document_is_valid_openapi(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    validate(r.json)
    assert r.json["openapi"].startswith("3.0")
    assert "演示数据" in r.json["info"]["description"]


def test_every_public_route_is_documented(app, client):
    doc = client.get("/openapi.json").json
    rules = {re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: "{" + RENAME.get(m.group(1), m.group(1))
                    + "}", rule.rule) for rule in app.url_map.iter_rules()}
    public = rules - NOT_PUBLIC
    assert public == set(doc["paths"])


def test_enumerations_follow_the_vocabulary(client):
    doc = client.get("/openapi.json").json
    params = {p["name"]: p for p in doc["paths"]["/api/v1/nearest"]["get"]["parameters"]}
    assert params["kind"]["schema"]["items"]["enum"] == list(schema.KIND_CODES)
    assert params["amenity"]["schema"]["items"]["enum"] == list(schema.AMENITY_CODES)
    assert params["k"]["schema"]["maximum"] == 50


def test_openapi_media_type_on_request(client):
    r = client.get("/openapi.json",
                   headers={"Accept": "application/vnd.oai.openapi+json;version=3.0"})
    assert r.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert client.get("/openapi.json").mimetype == "application/json"


def test_swagger_ui_is_served_locally(client):
    html = client.get("/api/docs").get_data(as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http:", "https:", "//")), url
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url


@pytest.fixture(scope="module")
def fuzz_server(small_path):
    # A coarse planning grid and a short solver limit keep fuzzed planner runs quick.
    yield from serve(create_app({"TESTING": True, "DATA_PATH": str(small_path),
                                 "TILES": "osm", "GRID_CELL_M": 5000.0,
                                 "SUGGEST_TIME_LIMIT": 1.0}))


def _extras(op, status: int) -> set[str]:
    """Members an operation documents beyond the error shape for one status (a 409's
    both versions, a refused import's report): ``allOf`` the Error schema and more."""
    resp = op.definition.raw.get("responses", {}).get(str(status), {})
    schema_ = resp.get("content", {}).get("application/json", {}).get("schema", {})
    return {name for part in schema_.get("allOf", []) for name in part.get("properties", {})}


def _fuzz(op, mode, base: str, deadline: float, failures: list[str], *,
          examples: int = FUZZ_EXAMPLES, all_checks: bool = False,
          details: dict[str, str] | None = None, label: str = "", auth=None,
          aim=None) -> int:
    """Run one operation's cases in one generation mode; return how many were sent.

    ``auth`` is a schemathesis auth storage applied to every case; ``aim`` is a pair
    (function, strategy): the function gets each case and a value drawn from the
    strategy and may point the case at real data before it is sent.
    """
    from hypothesis import strategies as st
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    sent = 0
    point, choices = aim if aim is not None else (None, st.none())

    @settings(max_examples=examples, deadline=None, database=None, derandomize=all_checks,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode, auth_storage=auth), choice=choices)
    def run(case, choice):
        nonlocal sent
        if time.monotonic() > deadline:
            return
        if point is not None:
            point(case, choice)
        resp = case.call(base_url=base, timeout=30)
        sent += 1
        documented = (resp.status_code == 501 and op.path == "/oembed"
                      and (case.query or {}).get("format") == "xml")  # oEmbed's rule
        if resp.status_code >= 500 and not documented:
            failures.append(f"{label}{op.label} -> {resp.status_code}: {case.as_curl_command()}")
        elif resp.status_code >= 400 and "json" in resp.headers.get("content-type", [""])[0]:
            body = resp.json()
            shape = {"status", "code", "message", "field"}
            if not shape <= set(body) <= shape | _extras(op, resp.status_code):
                failures.append(f"{label}{op.label}: not the error shape: {sorted(body)}")
        if all_checks and not documented:
            try:
                case.validate_response(resp, checks=CHECKS.get_all())
            except (AssertionError, Exception, BaseExceptionGroup) as exc:
                # One failure, or a group of them: keep each check's title and detail.
                for one in getattr(exc, "exceptions", [exc]):
                    title = f"{label}{op.label}: {getattr(one, 'title', type(one).__name__)}"
                    failures.append(title)
                    if details is not None:
                        details.setdefault(title,
                                           f"{str(one)[:400]}\n    {case.as_curl_command()}")

    try:
        run()
    except Unsatisfiable:
        # No invalid request exists for an operation without parameters.
        assert mode.name == "NEGATIVE", op.label
    return sent


@pytest.mark.slow
def test_fuzz_every_operation_without_server_errors(fuzz_server):
    import schemathesis
    from schemathesis.generation import GenerationMode

    api = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    deadline = time.monotonic() + FUZZ_BUDGET_S
    failures: list[str] = []
    sent = 0
    for result in api.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += _fuzz(op, mode, fuzz_server.url, deadline, failures)
    assert not failures, failures[:5]
    print(f"schemathesis sent {sent} requests")
    assert sent >= 100  # the time budget must not quietly skip the fuzzing


@pytest.mark.slow  # about two minutes: a few thousand requests
def test_fuzz_every_operation_with_all_checks(fuzz_server):
    """Every schemathesis check, positive and negative cases: the document and the code agree."""
    import schemathesis
    from schemathesis.generation import GenerationMode

    api = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    deadline = time.monotonic() + ALL_CHECKS_BUDGET_S
    failures: list[str] = []
    details: dict[str, str] = {}
    sent = 0
    for result in api.get_all_operations():
        op = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += _fuzz(op, mode, fuzz_server.url, deadline, failures,
                          examples=ALL_CHECKS_EXAMPLES, all_checks=True, details=details)
    distinct = sorted(set(failures))
    print(f"schemathesis sent {sent} requests; {len(distinct)} distinct failures")
    for line in distinct:
        print("  " + line + "\n    " + details.get(line, ""))
    assert not distinct, distinct[:10]
    assert sent >= 20 * ALL_CHECKS_EXAMPLES  # the time budget must not quietly skip the fuzzing
