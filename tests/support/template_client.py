#!/usr/bin/env python3
"""Lists a gateway's tools with the ``init`` template agent's own MCP client.

Usage: template_client.py TEMPLATE_APP_PY   (GATEWAY_URL, AWS_REGION and AWS
credentials in the environment, as the runtime gives them to the agent)

Imports the template's ``app.py`` with stand-ins for the agent framework
(``strands``, ``bedrock_agentcore``: not needed to talk to a gateway, and
heavy), takes the transport factory its ``gateway_client()`` hands to
strands' ``MCPClient`` — the real ``mcp_proxy_for_aws`` SigV4 client with
the template's arguments — and runs ``initialize`` + ``tools/list``
(following ``nextCursor``) over it with the ``mcp`` package's
``ClientSession``. Prints the tool names as a JSON list.
"""

import asyncio
import importlib.util
import json
import sys
import types


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


class MCPClient:
    def __init__(self, transport_factory):
        self.transport_factory = transport_factory


class BedrockAgentCoreApp:
    def entrypoint(self, f):
        return f

    def run(self):
        raise RuntimeError("not in the test")


stub("strands", Agent=object)
stub("strands.models", BedrockModel=object)
stub("strands.tools")
stub("strands.tools.mcp", MCPClient=MCPClient)
stub("bedrock_agentcore")
stub("bedrock_agentcore.runtime", BedrockAgentCoreApp=BedrockAgentCoreApp)


async def list_tools(transport):
    from mcp import ClientSession

    names, cursor = [], None
    async with transport as (read, write, _):
        async with ClientSession(read, write) as session:
            await session.initialize()
            while True:
                page = await session.list_tools(cursor=cursor)
                names += [tool.name for tool in page.tools]
                cursor = page.nextCursor
                if not cursor:
                    return names


def main():
    spec = importlib.util.spec_from_file_location("template_app", sys.argv[1])
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    client = app.gateway_client()
    print(json.dumps(asyncio.run(list_tools(client.transport_factory()))))


if __name__ == "__main__":
    main()
