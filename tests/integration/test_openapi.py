"""GET /openapi.json: an OpenAPI 3.1 document generated from the routes and their models, covering every
route of template.yaml with its method and security; every refusal is a problem body naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chorus.auth.roles import USER_ROUTES
from tests.integration.harness import REPO, Chorus


@pytest.fixture(scope="module")
def spec(chorus: Chorus) -> dict[str, Any]:
    answer = chorus.call("GET", "/openapi.json")  # no key: the document is public
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def template_routes() -> dict[tuple[str, str], bool]:
    """(path, METHOD) of every Api event of ApiFunction -> whether the route is public."""
    from chorus.local.template import Template

    api_fn = Template.load(REPO / "template.yaml").resources["ApiFunction"]["Properties"]
    public = ("/health", "/openapi.json", "/l/", "/pixel/")  # short links; a pixel carries its own token
    return {
        (e["Properties"]["Path"], e["Properties"]["Method"].upper()): e["Properties"]["Path"].startswith(
            public
        )
        for e in api_fn["Events"].values()
        if e["Type"] == "Api"
    }


def test_the_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    from openapi_spec_validator import validate

    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_the_document_covers_every_route_of_the_template_with_its_method(spec: dict[str, Any]) -> None:
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    assert documented == set(template_routes())


def test_every_private_route_needs_a_bearer_api_key_and_public_ones_none(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": spec["components"]["securitySchemes"]["apiKey"]["description"],
    }
    for (path, method), public in template_routes().items():
        operation = spec["paths"][path][method.lower()]
        if (method, path) in USER_ROUTES:  # a person's routes: a sign-in token, no workspace, no role
            assert operation["security"] == [{"signIn": []}], (method, path)
            continue
        workspace_route = [{"apiKey": []}, {"signIn": [], "workspace": []}]
        assert operation["security"] == ([] if public else workspace_route), (method, path)
        if not public:
            assert operation["x-chorus-role"] in {"viewer", "contributor", "editor", "admin", "owner"}


def test_request_bodies_are_the_models_the_routes_validate_with(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/posts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    post_in = spec["components"]["schemas"][create["$ref"].rsplit("/", 1)[1]]
    assert {"accounts", "text", "recurrence", "scheduled_at"} <= set(post_in["properties"])
    assert post_in["required"] == ["accounts"]
    recurrence = spec["components"]["schemas"]["RecurrenceIn"]["properties"]["until"]
    assert {"type": "string", "format": "date"} in recurrence["anyOf"]
    inbox = {p["name"] for p in spec["paths"]["/inbox"]["get"]["parameters"]}
    assert {"limit", "cursor", "status", "platform"} <= inbox
    problem = spec["paths"]["/posts"]["post"]["responses"]["4XX"]["content"]["application/problem+json"]
    assert problem["schema"]["$ref"].endswith("/Problem")


def test_a_json_body_sent_as_curl_sends_it_is_accepted(chorus: Chorus) -> None:
    # Given curl's -d default Content-Type, application/x-www-form-urlencoded
    _, key = chorus.workspace("Curl")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    # When a JSON body is posted with it
    answer = chorus.call("POST", "/keys", key, data=b'{"name": "ci", "role": "viewer"}', headers=form)
    # Then it is read as JSON
    assert answer.status_code == 201, answer.text
    assert answer.json()["role"] == "viewer"


def test_a_media_type_a_route_does_not_take_is_a_problem_naming_the_header(chorus: Chorus) -> None:
    _, key = chorus.workspace("Media")
    answer = chorus.call("POST", "/posts/import", key, data=b"\x89PNG", headers={"Content-Type": "image/png"})
    assert answer.status_code == 415
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 415
    assert problem["errors"][0]["field"] == "Content-Type"
    assert "Code" not in problem


def chalice_event(path: str, method: str, key: str | None = None) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {key}"} if key else {}),
        },
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": path, "stage": "api"},
        "body": None,
        "isBase64Encoded": False,
    }


def test_chalices_own_405_is_a_problem_body(chorus: Chorus) -> None:
    # Given a method the route does not have, sent to the function itself (API Gateway would not)
    answer = chorus.rt.functions["ApiFunction"].invoke(chalice_event("/health", "DELETE"))
    # Then Chalice's {"Code", "Message"} answer has become a problem body naming the method
    assert answer["statusCode"] == 405
    problem = json.loads(answer["body"])
    assert problem["status"] == 405
    assert problem["errors"][0]["field"] == "method"
    assert answer["headers"]["Content-Type"] == "application/problem+json"


def test_a_deeply_nested_body_is_a_400_naming_the_body(chorus: Chorus) -> None:
    _, key = chorus.workspace("Deep")
    answer = chorus.call(
        "POST",
        "/keys",
        key,
        data=b"[" * 100_000 + b"]" * 100_000,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["field"] == "body"


def test_an_error_chalice_itself_raises_is_a_500_problem_body(chorus: Chorus) -> None:
    # Given an event without the path parameter its route names (Chalice raises a TypeError reading it)
    _, key = chorus.workspace("Chalice 500")
    event = chalice_event("/accounts/{account_id}", "GET", key)
    answer = chorus.rt.functions["ApiFunction"].invoke(event)
    # Then the answer is still a problem body, not Chalice's {"Code", "Message"}
    assert answer["statusCode"] == 500
    problem = json.loads(answer["body"])
    assert problem["status"] == 500
    assert set(problem) >= {"type", "title", "status", "detail"}
    assert "Code" not in problem


def test_api_gateways_own_refusals_are_problem_bodies_in_the_template() -> None:
    # Given the REST API's gateway responses (what API Gateway answers before the app is reached)
    from chorus.local.template import Template

    api = Template.load(REPO / "template.yaml").resources["RestApi"]["Properties"]
    responses = api["GatewayResponses"]
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for name, response in responses.items():
        # Then each is a problem body: its header, and a JSON template once API Gateway fills it in
        assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'"
        filled = (
            response["ResponseTemplates"]["application/json"]
            .replace("$context.error.messageString", '"a message"')
            .replace("$context.error.responseType", name)
        )
        problem = json.loads(filled)
        assert {"type", "title", "detail"} <= set(problem), name
        assert problem["errors"][0]["field"] == "request"
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
