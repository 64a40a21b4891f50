"""The __PROJECT__ agent: a Strands agent on Bedrock, served on AgentCore Runtime.

Invocation payload ``{"prompt": "..."}`` returns
``{"response": "...", "status": "success"}``; an empty prompt (or a failure)
returns ``{"error": "...", "status": "error"}``.

Configuration comes from the environment (agentform sets it from agentform.yaml):

* ``GATEWAY_URL``: the MCP gateway. When set, the agent connects to it with
  SigV4-signed requests (the runtime role's credentials; no tokens), lists its
  tools and may call them. When unset, the agent runs without tools.
* ``AWS_REGION``: region of the gateway and the model (default us-east-1).
* ``BEDROCK_MODEL_ID``: the Bedrock model the agent runs on.

Run locally with ``python app.py`` and call it with
``curl -X POST localhost:8080/invocations -d '{"prompt": "What is 100 + 12?"}'``.
"""

import logging
import os

from bedrock_agentcore.runtime import BedrockAgentCoreApp
from mcp_proxy_for_aws.client import aws_iam_streamablehttp_client
from strands import Agent
from strands.models import BedrockModel
from strands.tools.mcp import MCPClient

GATEWAY_URL = os.environ.get("GATEWAY_URL", "")
AWS_REGION = os.environ.get("AWS_REGION", "us-east-1")
BEDROCK_MODEL_ID = os.environ.get(
    "BEDROCK_MODEL_ID", "us.anthropic.claude-haiku-4-5-20251001-v1:0"
)

SYSTEM_PROMPT = (
    "You are a helpful assistant. Use the available tools when they help you "
    "answer accurately, and say so when you cannot."
)

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger("agent")

app = BedrockAgentCoreApp()


def gateway_client():
    """An MCP client for the gateway that signs every request with SigV4."""
    return MCPClient(
        lambda: aws_iam_streamablehttp_client(
            endpoint=GATEWAY_URL,
            aws_region=AWS_REGION,
            aws_service="bedrock-agentcore",
        )
    )


def list_all_tools(client):
    """Every tool the gateway offers, following pagination."""
    tools, token = [], None
    while True:
        page = client.list_tools_sync(pagination_token=token)
        tools.extend(page)
        token = page.pagination_token
        if not token:
            return tools


def run_agent(prompt, tools=()):
    agent = Agent(
        model=BedrockModel(model_id=BEDROCK_MODEL_ID, region_name=AWS_REGION),
        tools=list(tools),
        system_prompt=SYSTEM_PROMPT,
    )
    return str(agent(prompt))


@app.entrypoint
def invoke(payload):
    prompt = payload.get("prompt") if isinstance(payload, dict) else None
    if not isinstance(prompt, str) or not prompt.strip():
        return {"error": "payload must be {\"prompt\": \"<non-empty text>\"}", "status": "error"}

    try:
        if GATEWAY_URL:
            # The MCP session lives only for this invocation: tools are listed
            # and called while the client is open.
            with gateway_client() as gateway:
                tools = list_all_tools(gateway)
                logger.info("gateway tools: %s", [tool.tool_name for tool in tools])
                response = run_agent(prompt, tools)
        else:
            logger.warning("GATEWAY_URL is not set; running without tools")
            response = run_agent(prompt)
    except Exception as err:  # report failures to the caller instead of a bare 500
        logger.exception("invocation failed")
        return {"error": str(err), "status": "error"}

    return {"response": response, "status": "success"}


if __name__ == "__main__":
    app.run()
