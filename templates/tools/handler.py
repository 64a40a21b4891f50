"""Tools for the __PROJECT__ gateway: a starting point for your own.

How the gateway calls this Lambda:

* ``event`` is the tool's arguments, flat, matching the ``input`` schema declared
  for the tool in agentform.yaml (e.g. ``{"a": 1, "b": 2}``). No envelope.
* The tool name is in ``context.client_context.custom["bedrockAgentCoreToolName"]``
  as ``"<target>___<tool>"`` (three underscores); the prefix is stripped below.
* Return any JSON-serialisable value. Return ``{"error": "..."}`` for bad input
  rather than raising, so the agent gets a message it can act on.

To add a tool: write a function taking the arguments dict, add it to ``TOOLS``,
and declare it (name, description, input schema) under the gateway target in
agentform.yaml.
"""

DELIMITER = "___"


def echo(args):
    message = args.get("message")
    if not isinstance(message, str):
        return {"error": "argument 'message' must be a string"}
    return {"message": message}


def add_numbers(args):
    a, b = args.get("a"), args.get("b")
    for key, value in (("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return {"error": f"argument '{key}' must be a number"}
    return {"result": a + b}


TOOLS = {
    "echo": echo,
    "add_numbers": add_numbers,
}


def lambda_handler(event, context):
    client_context = getattr(context, "client_context", None)
    custom = getattr(client_context, "custom", None) or {}
    full_name = custom.get("bedrockAgentCoreToolName") or ""
    _, delimiter, name = full_name.partition(DELIMITER)
    name = name if delimiter else full_name

    if not name:
        return {"error": "no tool name in the request context"}
    tool = TOOLS.get(name)
    if tool is None:
        return {"error": f"unknown tool '{name}'; available: {', '.join(sorted(TOOLS))}"}
    if not isinstance(event, dict):
        return {"error": f"tool '{name}' expects a JSON object of arguments"}
    return tool(event)
