"""Unit tests for the reference tool Lambda (run: python3 -m pytest -q lambda)."""

import json
from types import SimpleNamespace

import pytest

from handler import lambda_handler, tool_name

TARGET = "iam-auth-demo-lambda-target"


def ctx(name):
    """A fake Lambda context carrying the gateway's tool-name metadata."""
    custom = {
        "bedrockAgentCoreToolName": name,
        "bedrockAgentCoreMessageVersion": "1.0",
    }
    return SimpleNamespace(client_context=SimpleNamespace(custom=custom))


def call(tool, event):
    result = lambda_handler(event, ctx(f"{TARGET}___{tool}"))
    json.dumps(result)  # every answer must be JSON-serialisable
    return result


# --- tools -----------------------------------------------------------------

@pytest.mark.parametrize(
    "a, b, expected",
    [(100, 12, 112), (-3, 3, 0), (1.5, 2.25, 3.75), (2, 0.5, 2.5)],
)
def test_add_numbers(a, b, expected):
    assert call("add_numbers", {"a": a, "b": b}) == {"result": expected}


def test_add_numbers_keeps_ints_as_ints():
    result = call("add_numbers", {"a": 100, "b": 12})["result"]
    assert result == 112 and isinstance(result, int)


@pytest.mark.parametrize(
    "a, b, expected",
    [(6, 7, 42), (-2, 3, -6), (1.5, 4, 6.0), (0.5, 0.5, 0.25)],
)
def test_multiply_numbers(a, b, expected):
    assert call("multiply_numbers", {"a": a, "b": b}) == {"result": expected}


def test_greet():
    assert call("greet", {"name": "Ada"}) == {"greeting": "Hello, Ada!"}


def test_greet_trims_whitespace():
    assert call("greet", {"name": "  Ada "}) == {"greeting": "Hello, Ada!"}


def test_extra_arguments_are_ignored():
    assert call("add_numbers", {"a": 1, "b": 2, "c": 99}) == {"result": 3}


# --- tool name resolution ----------------------------------------------------

def test_prefix_is_stripped():
    assert tool_name(ctx(f"{TARGET}___add_numbers")) == "add_numbers"


def test_only_first_delimiter_is_stripped():
    assert tool_name(ctx("t___odd___name")) == "odd___name"


def test_bare_tool_name_without_prefix():
    assert lambda_handler({"a": 2, "b": 3}, ctx("multiply_numbers")) == {"result": 6}


@pytest.mark.parametrize(
    "context",
    [
        None,
        SimpleNamespace(),
        SimpleNamespace(client_context=None),
        SimpleNamespace(client_context=SimpleNamespace(custom=None)),
        SimpleNamespace(client_context=SimpleNamespace(custom={})),
    ],
    ids=["no-context", "no-client-context-attr", "client-context-none", "custom-none", "custom-empty"],
)
def test_missing_client_context_returns_error(context):
    result = lambda_handler({"a": 1, "b": 2}, context)
    assert set(result) == {"error"}
    assert "tool name" in result["error"]


def test_unknown_tool():
    result = call("divide_numbers", {"a": 1, "b": 2})
    assert set(result) == {"error"}
    assert "unknown tool 'divide_numbers'" in result["error"]
    assert "add_numbers" in result["error"]  # lists what is available


# --- bad input ---------------------------------------------------------------

@pytest.mark.parametrize("tool", ["add_numbers", "multiply_numbers"])
@pytest.mark.parametrize(
    "event, fragment",
    [
        ({"b": 1}, "missing required argument 'a'"),
        ({"a": 1}, "missing required argument 'b'"),
        ({}, "missing required argument 'a'"),
        ({"a": "100", "b": 12}, "argument 'a' must be a number"),
        ({"a": 1, "b": None}, "argument 'b' must be a number"),
        ({"a": True, "b": 1}, "argument 'a' must be a number"),
        ({"a": [1], "b": 1}, "argument 'a' must be a number"),
        ({"a": float("inf"), "b": 1}, "argument 'a' must be a finite number"),
        ({"a": 1, "b": float("nan")}, "argument 'b' must be a finite number"),
    ],
)
def test_bad_numbers(tool, event, fragment):
    result = call(tool, event)
    assert set(result) == {"error"}
    assert fragment in result["error"]
    assert result["error"].startswith(tool)


def test_overflowing_result_is_an_error():
    result = call("multiply_numbers", {"a": 1e308, "b": 10})
    assert "out of range" in result["error"]


@pytest.mark.parametrize("event", [{}, {"name": ""}, {"name": "   "}, {"name": 42}])
def test_greet_bad_name(event):
    result = call("greet", event)
    assert result == {"error": "greet: argument 'name' must be a non-empty string"}


def test_no_event_means_no_arguments():
    assert "missing required argument 'a'" in call("add_numbers", None)["error"]


@pytest.mark.parametrize("event", [[1, 2], "a=1", 3])
def test_non_object_event(event):
    result = call("add_numbers", event)
    assert result == {"error": "tool 'add_numbers' expects a JSON object of arguments"}
