"""Reference tool Lambda behind an AgentCore Gateway (Lambda target).

The gateway invokes this function once per MCP ``tools/call``:

* ``event`` is the tool's ``arguments`` object, flat, exactly as described by the
  tool's ``inputSchema`` (e.g. ``{"a": 100, "b": 12}``). There is no envelope: no
  tool name and no JSON-RPC in it.
* The tool name arrives in ``context.client_context.custom["bedrockAgentCoreToolName"]``
  as ``"<target>___<tool>"`` (three underscores), e.g.
  ``"lambda-target___add_numbers"`` for the example's target. Target names cannot contain
  ``_``, so everything up to and including the first ``___`` is stripped. A bare
  tool name (no prefix) is accepted too, which makes local testing easy.
* The return value must be JSON-serialisable; the gateway hands it to the MCP
  client as the tool result.

Tools: ``add_numbers`` (a + b), ``multiply_numbers`` (a * b) and ``greet``
(name -> greeting). Bad input and unknown tools return ``{"error": "..."}``
instead of raising, so the model sees a readable message it can act on rather
than an opaque Lambda function error.
"""

import math

DELIMITER = "___"
TOOL_NAME_KEY = "bedrockAgentCoreToolName"


class ToolInputError(Exception):
    """Raised by a tool when its arguments are missing or of the wrong type."""


def _number(args, key):
    """Return ``args[key]`` if it is a finite int or float, else raise ToolInputError."""
    if key not in args:
        raise ToolInputError(f"missing required argument '{key}'")
    value = args[key]
    # bool is a subclass of int in Python, but true/false is not a number here.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ToolInputError(f"argument '{key}' must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ToolInputError(f"argument '{key}' must be a finite number, got {value!r}")
    return value


def _finite(result):
    # JSON has no Infinity, so an overflowing float result is reported, not returned.
    if isinstance(result, float) and not math.isfinite(result):
        raise ToolInputError("result is out of range")
    return result


def add_numbers(args):
    return {"result": _finite(_number(args, "a") + _number(args, "b"))}


def multiply_numbers(args):
    return {"result": _finite(_number(args, "a") * _number(args, "b"))}


def greet(args):
    name = args.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ToolInputError("argument 'name' must be a non-empty string")
    return {"greeting": f"Hello, {name.strip()}!"}


TOOLS = {
    "add_numbers": add_numbers,
    "multiply_numbers": multiply_numbers,
    "greet": greet,
}


def tool_name(context):
    """The tool name from the Lambda context, without the ``<target>___`` prefix.

    Returns "" when the context carries no tool name at all.
    """
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None) or {}
    full_name = custom.get(TOOL_NAME_KEY) or ""
    _, delimiter, bare = full_name.partition(DELIMITER)
    return bare if delimiter else full_name


def lambda_handler(event, context):
    name = tool_name(context)
    if not name:
        return {"error": f"no tool name in the request (client context key '{TOOL_NAME_KEY}')"}
    tool = TOOLS.get(name)
    if tool is None:
        available = ", ".join(sorted(TOOLS))
        return {"error": f"unknown tool '{name}'; available tools: {available}"}
    if event is None:
        event = {}
    if not isinstance(event, dict):
        return {"error": f"tool '{name}' expects a JSON object of arguments"}
    try:
        return tool(event)
    except ToolInputError as err:
        return {"error": f"{name}: {err}"}
    except Exception as err:  # noqa: BLE001 - a tool must never fail the invocation
        return {"error": f"{name} failed: {err}"}
