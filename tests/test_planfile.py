"""Plan files: every malformed file is refused with one line naming the file and the key at fault."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from gateway.core.config import ConfigError
from gateway.core.planfile import load_plan_set, parse_plan_set
from gateway.verification.planfiles import dump_plan_set

PLANS = Path(__file__).resolve().parent.parent / "plans"
SHIPPED = sorted(PLANS.glob("*.toml"))
WEB_KEY = "web-key-0001"
APP_KEY = "app-key-0001"


def valid_document() -> dict[str, Any]:
    """A small plan file that loads; each test breaks one thing in a fresh copy."""
    return {
        "schema": 1,
        "version": "test",
        "policy": {"exempt": ["first_party"], "default_plan": "free"},
        "plans": {
            "free": {"tier": 0, "grants": [{"endpoints": ["tweets.lookup"]}]},
            "paid": {
                "tier": 1,
                "grants": [{"endpoints": ["tweets.*", "users.lookup"]}],
                "quota": {"requests": 10, "window_seconds": 60},
            },
        },
        "endpoints": [
            {"id": "tweets.lookup", "method": "GET", "path": "/2/tweets/{id}", "surface": "tweets"},
            {"id": "tweets.create", "method": "POST", "path": "/2/tweets", "surface": "tweets"},
            {"id": "users.lookup", "method": "GET", "path": "/2/users/{id}", "surface": "users"},
        ],
        "clients": {
            "web": {"class": "web", "first_party": True, "key": WEB_KEY},
            "app": {"class": "third_party", "first_party": False, "key": APP_KEY, "plan": "free"},
        },
    }


def write_plan(tmp_path: Path, content: dict[str, Any] | str | bytes) -> Path:
    path = tmp_path / "plan.toml"
    if isinstance(content, dict):
        content = tomli_w.dumps(content)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def refuse(tmp_path: Path, content: dict[str, Any] | str | bytes) -> str:
    """Load a broken file; check the error is one line starting with the path; return the rest."""
    path = write_plan(tmp_path, content)
    return refuse_path(path)


def refuse_path(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_plan_set(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message[len(str(path)) :]


def add_endpoint(document: dict[str, Any], endpoint_id: str, method: str, path: str) -> None:
    document["endpoints"].append({"id": endpoint_id, "method": method, "path": path, "surface": "s"})


# --- the helper document itself ----------------------------------------------------------------


def test_helper_document_is_valid(tmp_path: Path) -> None:
    plan_set = load_plan_set(write_plan(tmp_path, valid_document()))
    assert [plan.name for plan in plan_set.plans] == ["free", "paid"]
    assert plan_set.source == str(tmp_path / "plan.toml")


# --- files that are not TOML documents ---------------------------------------------------------


def test_empty_file_is_refused_as_empty(tmp_path: Path) -> None:
    assert refuse(tmp_path, "") == ": file is empty"


def test_whitespace_only_file_is_refused_as_empty(tmp_path: Path) -> None:
    assert refuse(tmp_path, "  \n\t\n") == ": file is empty"


def test_comments_only_file_is_refused_as_having_no_keys(tmp_path: Path) -> None:
    assert refuse(tmp_path, "# a plan file\n\n# nothing here\n") == (
        ": file has no keys (only comments or blank lines)"
    )


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    message = refuse(tmp_path, 'schema = 1\nversion = "t"\ndescription = = "x"\n')
    assert message == ":3:15: TOML syntax error: Invalid value"


def test_duplicate_toml_key_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    document = valid_document()
    del document["version"]
    message = refuse(tmp_path, 'version = "a"\nversion = "b"\n' + tomli_w.dumps(document))
    assert re.match(r"^:2:\d+: TOML syntax error: ", message)
    assert "defined twice" in message


def test_table_declared_twice_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    text = 'version = "t"\n[plans.free]\ntier = 0\n[plans.free]\ntier = 1\n'
    message = refuse(tmp_path, text)
    assert re.match(r"^:4:\d+: TOML syntax error: ", message)
    assert "twice" in message


def test_non_utf8_file_is_refused_with_byte_offset(tmp_path: Path) -> None:
    assert refuse(tmp_path, b'version = "caf\xe9"\n') == ": not UTF-8 text (byte 14)"


def test_missing_file_is_refused(tmp_path: Path) -> None:
    assert refuse_path(tmp_path / "absent.toml") == ": no such file"


def test_directory_instead_of_file_is_refused(tmp_path: Path) -> None:
    assert refuse_path(tmp_path) == ": is a directory, not a file"


# --- references between sections --------------------------------------------------------------


def test_client_naming_unknown_plan_is_refused_with_key_path(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["plan"] = "gold"
    assert refuse(tmp_path, document) == ": clients.app.plan: unknown plan 'gold' (plans: free, paid)"


def test_unknown_default_plan_is_refused_with_key_path(tmp_path: Path) -> None:
    document = valid_document()
    document["policy"]["default_plan"] = "gold"
    assert refuse(tmp_path, document).startswith(": policy.default_plan: unknown plan 'gold'")


def test_grant_pattern_matching_no_endpoint_suggests_close_id(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["free"]["grants"][0]["endpoints"] = ["tweets.lookpu"]
    message = refuse(tmp_path, document)
    assert message.startswith(": plans.free.grants[0].endpoints[0]: 'tweets.lookpu' matches no endpoint id")
    assert message.endswith("did you mean 'tweets.lookup'?")


def test_grant_pattern_matching_nothing_close_makes_no_suggestion(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["paid"]["grants"][0]["endpoints"] = ["tweets.*", "zzz"]
    message = refuse(tmp_path, document)
    assert message.startswith(": plans.paid.grants[0].endpoints[1]: 'zzz' matches no endpoint id")
    assert "did you mean" not in message


def test_grant_whose_methods_exclude_every_named_endpoint_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["free"]["grants"][0]["methods"] = ["POST"]
    message = refuse(tmp_path, document)
    assert message == (
        ": plans.free.grants[0].endpoints[0]: 'tweets.lookup' matches no endpoint with method POST "
        "(a dead grant pattern)"
    )


def test_exempt_selector_of_unknown_kind_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["policy"]["exempt"] = ["first-party"]
    assert refuse(tmp_path, document).startswith(": policy.exempt[0]: unknown selector 'first-party'")


@pytest.mark.parametrize("selector", ["class:nobody", "client:ghost", "class:"])
def test_exempt_selector_naming_absent_class_or_client_is_refused(tmp_path: Path, selector: str) -> None:
    document = valid_document()
    document["policy"]["exempt"] = ["first_party", selector]
    assert refuse(tmp_path, document).startswith(f": policy.exempt[1]: unknown selector {selector!r}")


def test_exempt_selector_listed_twice_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["policy"]["exempt"] = ["class:web", "class:web"]
    assert refuse(tmp_path, document) == ": policy.exempt: selector 'class:web' is listed twice"


# --- endpoints and path templates ---------------------------------------------------------------


def test_duplicate_endpoint_id_is_refused_naming_first_definition(tmp_path: Path) -> None:
    document = valid_document()
    document["endpoints"][2]["id"] = "tweets.lookup"
    # The renamed endpoint was users.lookup, which a grant names: a second problem, listed after.
    assert refuse(tmp_path, document) == (
        ": endpoints[2] (id 'tweets.lookup').id: duplicate endpoint id, first defined at endpoints[0]"
        " (and 1 more problem)"
    )


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("2/tweets", "must start with '/'"),
        ("/2/tweets/", "must not end with '/'"),
        ("/2//tweets", "empty segment ('//')"),
        ("/2/./tweets", "dot segment '.'"),
        ("/2/../tweets", "dot segment '..'"),
        ("/2/tweets/{id}.json", "has segment '{id}.json'"),
        ("/2/{id}/likes/{id}", "repeats parameter {id}"),
    ],
)
def test_bad_path_template_is_refused_at_endpoint_path(tmp_path: Path, template: str, words: str) -> None:
    document = valid_document()
    document["endpoints"][1]["path"] = template
    message = refuse(tmp_path, document)
    assert message.startswith(f": endpoints[1] (id 'tweets.create').path: path template {template!r}")
    assert words in message


def test_a_literal_template_beside_a_parameter_template_is_accepted(tmp_path: Path) -> None:
    document = valid_document()
    add_endpoint(document, "users.me", "GET", "/2/users/me")
    plan_set = load_plan_set(write_plan(tmp_path, document))
    assert plan_set.endpoint("users.me").path == "/2/users/me"


def test_two_parameter_templates_differing_only_in_names_are_refused(tmp_path: Path) -> None:
    document = valid_document()
    add_endpoint(document, "users.other", "GET", "/2/users/{user_id:str}")
    assert refuse(tmp_path, document) == (
        ": endpoints[3] (id 'users.other').path: GET '/2/users/{user_id:str}' matches the same requests as "
        "endpoint 'users.lookup' (GET '/2/users/{id}')"
    )


def test_a_typed_parameter_beside_a_str_parameter_is_accepted(tmp_path: Path) -> None:
    document = valid_document()
    add_endpoint(document, "users.by_number", "GET", "/2/users/{n:int}")
    add_endpoint(document, "files", "GET", "/2/files/{rest:path}")
    plan_set = load_plan_set(write_plan(tmp_path, document))
    assert [e.id for e in plan_set.endpoints][-2:] == ["users.by_number", "files"]


def test_a_path_parameter_before_the_end_of_a_template_is_refused_in_one_line(tmp_path: Path) -> None:
    document = valid_document()
    add_endpoint(document, "files", "GET", "/2/files/{rest:path}/raw")
    assert refuse(tmp_path, document).startswith(
        ": endpoints[3] (id 'files').path: path template '/2/files/{rest:path}/raw' has '{rest:path}' "
        "before its end"
    )


def test_templates_differing_only_in_case_conflict(tmp_path: Path) -> None:
    document = valid_document()
    add_endpoint(document, "tweets.shout", "POST", "/2/TWEETS")
    message = refuse(tmp_path, document)
    assert message.startswith(": endpoints[3] (id 'tweets.shout').path: POST '/2/TWEETS' matches")
    assert "endpoint 'tweets.create'" in message


def test_same_template_with_different_methods_is_not_a_conflict(tmp_path: Path) -> None:
    document = valid_document()
    add_endpoint(document, "tweets.delete", "DELETE", "/2/tweets/{id}")
    plan_set = load_plan_set(write_plan(tmp_path, document))
    assert plan_set.endpoint("tweets.delete").path == plan_set.endpoint("tweets.lookup").path


# --- clients and keys ---------------------------------------------------------------------------


def test_two_clients_with_same_key_are_refused_without_echoing_key(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["key"] = WEB_KEY
    message = refuse(tmp_path, document)
    assert message == ": clients.app.key: duplicate API key: client 'web' has the same key"
    assert WEB_KEY not in message


def test_key_and_key_sha256_of_the_same_key_are_a_duplicate(tmp_path: Path) -> None:
    document = valid_document()
    del document["clients"]["app"]["key"]
    document["clients"]["app"]["key_sha256"] = hashlib.sha256(WEB_KEY.encode()).hexdigest()
    assert refuse(tmp_path, document) == (
        ": clients.app.key_sha256: duplicate API key: client 'web' has the same key"
    )


def test_a_client_may_hold_several_keys_in_every_form_for_rotation(tmp_path: Path) -> None:
    document = valid_document()
    new_digest = hashlib.sha256(b"app-key-0003").hexdigest()
    document["clients"]["app"].update(
        {"keys": ["app-key-0002"], "key_sha256": "0" * 64, "key_sha256s": [new_digest]}
    )
    client = load_plan_set(write_plan(tmp_path, document)).client("app")
    assert client.key_sha256s == (
        hashlib.sha256(APP_KEY.encode()).hexdigest(),
        hashlib.sha256(b"app-key-0002").hexdigest(),
        "0" * 64,
        new_digest,
    )


def test_a_client_listing_one_key_twice_is_refused_naming_both_places(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["keys"] = ["app-key-0002", APP_KEY]
    message = refuse(tmp_path, document)
    assert message == ": clients.app.keys[1]: duplicate API key: key is the same key"
    assert APP_KEY not in message


def test_a_rotated_key_shared_with_another_client_is_refused_without_echoing_it(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["keys"] = ["app-key-0002", WEB_KEY]
    message = refuse(tmp_path, document)
    assert message == ": clients.app.keys[1]: duplicate API key: client 'web' has the same key"
    assert WEB_KEY not in message


def test_a_short_key_in_a_key_list_is_refused_without_echoing_it(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["keys"] = ["short-key"]
    message = refuse(tmp_path, document)
    assert message == ": clients.app.keys[0]: String should have at least 12 characters"
    assert "short-key" not in message


def test_a_malformed_digest_in_a_digest_list_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["key_sha256s"] = ["0" * 63]
    assert (
        refuse(tmp_path, document) == ": clients.app.key_sha256s[0]: must be 64 lowercase hexadecimal digits"
    )


def test_client_with_neither_key_nor_key_sha256_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    del document["clients"]["app"]["key"]
    assert (
        refuse(tmp_path, document)
        == ": clients.app: give a key: 'key', 'keys', 'key_sha256' or 'key_sha256s'"
    )


@pytest.mark.parametrize("digest", ["A" * 64, "0" * 63, "0" * 65, "g" * 64, ""])
def test_malformed_key_sha256_is_refused(tmp_path: Path, digest: str) -> None:
    document = valid_document()
    del document["clients"]["app"]["key"]
    document["clients"]["app"]["key_sha256"] = digest
    assert refuse(tmp_path, document) == ": clients.app.key_sha256: must be 64 lowercase hexadecimal digits"


def test_key_shorter_than_twelve_characters_is_refused_without_echoing_it(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["key"] = "short-key"
    message = refuse(tmp_path, document)
    assert message == ": clients.app.key: String should have at least 12 characters"
    assert "short-key" not in message


@pytest.mark.parametrize(
    "key", [" app-key-0001", "app-key-0001 ", "app key 0001", "app-key\t0001", "app\u00a0key-0001"]
)
def test_key_containing_whitespace_is_refused_without_echoing_it(tmp_path: Path, key: str) -> None:
    document = valid_document()
    document["clients"]["app"]["key"] = key
    message = refuse(tmp_path, document)
    assert message == ": clients.app.key: an API key cannot contain whitespace"
    assert "0001" not in message


def test_key_of_wrong_type_is_refused_without_echoing_it(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["key"] = 123456789012345
    message = refuse(tmp_path, document)
    assert message.startswith(": clients.app.key: Input should be a valid string")
    assert "123456789012345" not in message


def test_third_party_class_marked_first_party_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["first_party"] = True
    assert refuse(tmp_path, document) == (
        ": clients.app.first_party: a client of class 'third_party' cannot be first-party"
    )


def test_first_party_class_not_marked_first_party_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["web"]["class"] = "first_party"
    document["clients"]["web"]["first_party"] = False
    assert refuse(tmp_path, document) == (
        ": clients.web.first_party: a client of class 'first_party' must be first-party"
    )


# --- schema: types, unknown and missing keys ---------------------------------------------------


def test_tier_given_as_string_is_refused_as_wrong_type(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["paid"]["tier"] = "1"
    assert refuse(tmp_path, document) == ": plans.paid.tier: Input should be a valid integer, got '1'"


def test_first_party_given_as_string_is_refused_as_wrong_type(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["web"]["first_party"] = "yes"
    assert refuse(tmp_path, document) == (
        ": clients.web.first_party: Input should be a valid boolean, got 'yes'"
    )


def test_unknown_http_method_is_refused_with_endpoint_id_in_key_path(tmp_path: Path) -> None:
    document = valid_document()
    document["endpoints"][1]["method"] = "FETCH"
    message = refuse(tmp_path, document)
    assert message.startswith(": endpoints[1] (id 'tweets.create').method: Input should be 'GET'")
    assert message.endswith("got 'FETCH'")


def test_unknown_method_in_grant_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["free"]["grants"][0]["methods"] = ["get"]
    assert refuse(tmp_path, document).startswith(": plans.free.grants[0].methods[0]: Input should be 'GET'")


def test_schema_version_other_than_one_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["schema"] = 2
    assert refuse(tmp_path, document) == ": schema: Input should be 1, got 2"


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["colour"] = "blue"
    assert refuse(tmp_path, document) == ": colour: unknown key"


def test_unknown_nested_key_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["free"]["colour"] = "blue"
    assert refuse(tmp_path, document) == ": plans.free.colour: unknown key"


def test_python_field_name_is_not_accepted_for_client_class(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["web"]["client_class"] = document["clients"]["web"].pop("class")
    assert refuse(tmp_path, document).startswith(": clients.web.class: missing required key")


def test_missing_required_top_level_key_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    del document["version"]
    assert refuse(tmp_path, document) == ": version: missing required key"


def test_missing_required_nested_key_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    del document["clients"]["web"]["first_party"]
    assert refuse(tmp_path, document) == ": clients.web.first_party: missing required key"


def test_empty_endpoint_catalogue_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["endpoints"] = []
    assert refuse(tmp_path, document).startswith(": endpoints: List should have at least 1 item")


def test_invalid_plan_name_is_refused_as_invalid_table_name(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["bad name"] = document["plans"].pop("paid")
    assert refuse(tmp_path, document).startswith(": plans.bad name: invalid table name: ")


def test_duplicate_tier_is_refused_naming_other_plan(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["paid"]["tier"] = 0
    assert refuse(tmp_path, document) == ": plans.paid.tier: tier 0 is also the tier of plan 'free'"


def test_zero_quota_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["paid"]["quota"]["requests"] = 0
    assert refuse(tmp_path, document) == ": plans.paid.quota.requests: Input should be greater than 0"


# --- the shipped plan files ---------------------------------------------------------------------


def test_three_plan_files_are_shipped() -> None:
    assert [path.name for path in SHIPPED] == [
        "2023-02-baseline.toml",
        "2023-03-06-billing-fixed.toml",
        "2023-03-06-billing.toml",
    ]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_shipped_plan_file_loads(path: Path) -> None:
    plan_set = load_plan_set(path)
    assert plan_set.version == path.stem
    assert plan_set.source == str(path)


def test_billing_file_has_no_exemption_and_defaults_to_free() -> None:
    policy = load_plan_set(PLANS / "2023-03-06-billing.toml").policy
    assert policy.exempt == ()
    assert policy.default_plan == "free"


def test_fixed_billing_file_exempts_first_party() -> None:
    assert load_plan_set(PLANS / "2023-03-06-billing-fixed.toml").policy.exempt == ("first_party",)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_first_party_clients_in_shipped_files_have_no_plan(path: Path) -> None:
    first_party = [client for client in load_plan_set(path).clients if client.first_party]
    assert first_party
    assert all(client.plan is None for client in first_party)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_dump_then_parse_round_trips_to_equal_plan_set(path: Path) -> None:
    plan_set = load_plan_set(path)
    again = parse_plan_set(dump_plan_set(plan_set), "<dumped>")
    assert dataclasses.replace(again, source=plan_set.source) == plan_set


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_key_clients_are_stored_as_sha256_of_key(path: Path) -> None:
    raw_clients = tomllib.loads(path.read_text("utf-8"))["clients"]
    for client in load_plan_set(path).clients:
        key = raw_clients[client.id]["key"]
        assert client.key_sha256s == (hashlib.sha256(key.encode("utf-8")).hexdigest(),)


def test_key_sha256_client_loads_with_that_digest(tmp_path: Path) -> None:
    document = valid_document()
    digest = hashlib.sha256(APP_KEY.encode()).hexdigest()
    del document["clients"]["app"]["key"]
    document["clients"]["app"]["key_sha256"] = digest
    assert load_plan_set(write_plan(tmp_path, document)).client("app").key_sha256s == (digest,)


def test_plans_are_ordered_by_tier_whatever_the_file_order(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"] = {"paid": document["plans"]["paid"], "free": document["plans"]["free"]}
    assert [plan.tier for plan in load_plan_set(write_plan(tmp_path, document)).plans] == [0, 1]


def test_a_dead_pattern_beside_a_live_one_in_the_same_grant_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["paid"]["grants"] = [
        {"endpoints": ["tweets.create", "users.lookup"], "methods": ["POST"]}
    ]
    message = refuse(tmp_path, document)
    assert message == (
        ": plans.paid.grants[0].endpoints[1]: 'users.lookup' matches no endpoint with method POST "
        "(a dead grant pattern)"
    )


def test_a_key_with_a_control_character_is_refused_without_echoing_it(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["app"]["key"] = "app-key-12345\u0007x"
    message = refuse(tmp_path, document)
    assert message == ": clients.app.key: an API key must be printable ASCII, or no client could send it"


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write_plan(tmp_path, b"\xef\xbb\xbf" + tomli_w.dumps(valid_document()).encode())
    assert load_plan_set(path).version == "test"


def test_a_class_with_both_first_and_third_party_clients_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["clients"]["partner"] = {"class": "web", "first_party": False, "key": "partner-key-0001"}
    message = refuse(tmp_path, document)
    assert message == (
        ": clients.partner.first_party: class 'web' mixes first- and third-party clients "
        "(client 'web' is first-party)"
    )


# --- public endpoints, CORS preflight and refusal bodies -------------------------------------------


def test_public_endpoints_and_cors_preflight_load_and_survive_a_dump(tmp_path: Path) -> None:
    document = valid_document()
    document["endpoints"].append(
        {"id": "health", "method": "GET", "path": "/healthz", "surface": "ops", "public": True}
    )
    document["policy"]["cors_preflight"] = True
    plan_set = load_plan_set(write_plan(tmp_path, document))
    assert plan_set.endpoint("health").public and not plan_set.endpoint("tweets.lookup").public
    assert plan_set.policy.cors_preflight
    again = parse_plan_set(dump_plan_set(plan_set), plan_set.source)
    assert again == plan_set


def test_a_responses_table_sets_messages_codes_and_bodies_and_survives_a_dump(tmp_path: Path) -> None:
    document = valid_document()
    document["responses"] = {
        "not_entitled": {"message": "Upgrade your plan", "code": 1001},
        "unauthenticated": {"message": "Who are you?"},
        "quota": {"body": '{"detail":"slow down"}'},
    }
    plan_set = load_plan_set(write_plan(tmp_path, document))
    assert (
        plan_set.responses.not_entitled.encoded()
        == b'{"errors":[{"message":"Upgrade your plan","code":1001}]}'
    )
    assert plan_set.responses.unauthenticated.encoded() == b'{"errors":[{"message":"Who are you?"}]}'
    assert plan_set.responses.quota.encoded() == b'{"detail":"slow down"}'
    assert plan_set.responses.no_route.code == 34
    assert parse_plan_set(dump_plan_set(plan_set), plan_set.source) == plan_set


def test_without_a_responses_table_the_bodies_are_twitters_byte_for_byte(tmp_path: Path) -> None:
    responses = load_plan_set(write_plan(tmp_path, valid_document())).responses
    assert (
        responses.no_route.encoded()
        == b'{"errors":[{"message":"Sorry, that page does not exist","code":34}]}'
    )
    assert responses.quota.encoded() == b'{"errors":[{"message":"Rate limit exceeded","code":88}]}'
    assert "[responses]" not in dump_plan_set(load_plan_set(write_plan(tmp_path, valid_document())))


@pytest.mark.parametrize(
    ("refusal", "expected"),
    [
        ({}, ": responses.quota: give exactly one of 'message' (with an optional 'code') or 'body'"),
        (
            {"message": "m", "body": "{}"},
            ": responses.quota: give exactly one of 'message' (with an optional 'code') or 'body'",
        ),
        (
            {"body": "{}", "code": 3},
            ": responses.quota.code: 'code' goes with 'message'; a 'body' is sent as written",
        ),
        ({"body": "not json"}, ": responses.quota.body: must be JSON (it is sent as application/json)"),
    ],
)
def test_a_malformed_refusal_is_refused_in_one_line(
    tmp_path: Path, refusal: dict[str, Any], expected: str
) -> None:
    document = valid_document()
    document["responses"] = {"quota": refusal}
    assert refuse(tmp_path, document) == expected


def test_an_unknown_refusal_kind_is_refused(tmp_path: Path) -> None:
    document = valid_document()
    document["responses"] = {"teapot": {"message": "short and stout"}}
    assert refuse(tmp_path, document).startswith(": responses.teapot: ")


# --- every problem at once ------------------------------------------------------------------------


def test_every_schema_problem_is_listed_each_on_its_own_line_with_its_line_number(tmp_path: Path) -> None:
    document = valid_document()
    document["endpoints"][0]["method"] = "FETCH"
    document["endpoints"][1]["surface"] = 7
    document["clients"]["web"]["colour"] = "blue"
    path = write_plan(tmp_path, document)
    with pytest.raises(ConfigError) as caught:
        load_plan_set(path)
    lines = caught.value.lines()
    assert len(lines) == 3
    assert all(line.startswith(f"{path}:") and "\n" not in line for line in lines)
    assert "endpoints[0] (id 'tweets.lookup').method" in lines[0]
    assert "endpoints[1] (id 'tweets.create').surface" in lines[1]
    assert "clients.web.colour: unknown key" in lines[2]


def test_every_semantic_problem_is_listed_not_only_the_first(tmp_path: Path) -> None:
    document = valid_document()
    document["plans"]["free"]["grants"][0]["endpoints"] = ["tweets.lokup"]
    document["clients"]["web"]["plan"] = "gold"
    document["policy"]["exempt"] = ["class:nobody"]
    with pytest.raises(ConfigError) as caught:
        load_plan_set(write_plan(tmp_path, document))
    lines = caught.value.lines()
    assert [line.split(": ")[1] for line in lines] == [
        "plans.free.grants[0].endpoints[0]",
        "clients.web.plan",
        "policy.exempt[0]",
    ]
    assert "did you mean 'tweets.lookup'?" in lines[0]
