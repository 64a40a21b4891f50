"""AgentCore's data plane for agentform's tests, served by the moto launcher.

moto implements the AgentCore control plane (gateways, targets, runtimes) but
not what a gateway or a runtime answers. This module adds, as WSGI routes in
front of moto's app (``wrap(app, host)``):

* **A gateway emulator**: a streamable-HTTP MCP server per moto gateway, at
  ``http://HOST:PORT/agentform-test/gateway/{gatewayId}/mcp``; the launcher
  makes that the ``gatewayUrl`` moto reports (``patch_gateway_url``), so
  agentform finds it exactly as it finds a real gateway's URL.

  - Every request must carry a valid SigV4 signature (service
    ``bedrock-agentcore``, the gateway's region), checked by recomputing it
    with botocore's ``SigV4Auth`` from the secret of the access key: the
    keys the launcher was told about (``--known-credentials``, the tests'
    own, treated as the account's administrator) or the temporary keys
    moto's STS handed out by AssumeRole. A missing or malformed
    Authorization header, an unknown key, a wrong secret, a wrong service or
    region in the scope, or a date more than 15 minutes off get 403 with
    ``x-amzn-ErrorType`` and a JSON ``message``, as AWS answers.
  - A role's credentials must be allowed ``bedrock-agentcore:InvokeGateway``
    on the gateway's ARN by the role's policies (moto's IAM policy
    evaluation over its inline and attached policies); else 403
    AccessDeniedException naming the caller, action and resource.
  - MCP (JSON responses, sessions by ``Mcp-Session-Id``): ``initialize``,
    notifications (202), ``ping``, ``tools/list`` (the targets' inline tool
    schemas as ``{target}___{tool}``, plus the built-in search tool when the
    gateway has semantic search, in pages of ``PAGE_SIZE`` with
    ``nextCursor``), ``tools/call`` (runs the target's Lambda handler from
    the zip moto stored, in a subprocess, with the gateway's Lambda event
    contract: the arguments as the event, the tool name in the client
    context's ``bedrockAgentCoreToolName``); GET answers 405 (no
    server-initiated stream), DELETE ends the session.

* **InvokeAgentRuntime** (``POST /runtimes/{arn}/invocations``): a stand-in
  for a runtime, SigV4-checked the same way, and its parameters (read back
  from the URI, query and headers by the model's member locations) checked
  by botocore's parameter validation against the service model; 404 for a runtime or endpoint
  (``qualifier``) moto does not have; the session id is echoed. It answers ``{"prompt": P}`` with an echo of P:
  as a server-sent-event stream of several chunks when the payload has
  ``"stream": true``, else as one JSON document.
"""

from __future__ import annotations

import hmac
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

GATEWAY_PREFIX = "/agentform-test/gateway/"
SERVICE = "bedrock-agentcore"
PAGE_SIZE = 2
SEARCH_TOOL = "x_amz_bedrock_agentcore_search"
PROTOCOL_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
MAX_SKEW = timedelta(minutes=15)

# Access key -> secret of the credentials the tests sign with themselves.
KNOWN_CREDENTIALS: dict[str, str] = {}
_SESSIONS: dict[str, str] = {}  # MCP session id -> gateway id
_LOCK = threading.Lock()


class Refused(Exception):
    def __init__(self, status: int, error_type: str, message: str):
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


# ---------------------------------------------------------------- moto state


def _control_backend(region: str):
    from moto.bedrockagentcorecontrol.models import bedrockagentcorecontrol_backends

    for account in list(bedrockagentcorecontrol_backends.keys()):
        backend = bedrockagentcorecontrol_backends[account].get(region)
        if backend is not None:
            yield backend


def _find_gateway(gateway_id: str):
    from moto.bedrockagentcorecontrol.models import bedrockagentcorecontrol_backends

    for account in list(bedrockagentcorecontrol_backends.keys()):
        for region in list(bedrockagentcorecontrol_backends[account].keys()):
            backend = bedrockagentcorecontrol_backends[account][region]
            gateway = backend.gateways.get(gateway_id)
            if gateway is not None:
                return backend, gateway
    return None, None


def patch_gateway_url(host: str) -> None:
    """moto's gateway URL becomes this emulator's, on the launcher's port."""
    from moto.bedrockagentcorecontrol import models

    cls = models.Gateway
    if getattr(cls, "_agentform_emulator_patched", False):
        return
    original_init = cls.__init__

    def gateway_init(self, *args, __orig=original_init, **kwargs):
        __orig(self, *args, **kwargs)
        port = os.environ.get("MOTO_PORT", "5000")
        self.gateway_url = f"http://{host}:{port}{GATEWAY_PREFIX}{self.gateway_id}/mcp"

    cls.__init__ = gateway_init
    cls._agentform_emulator_patched = True


# ------------------------------------------------------------------- SigV4


def _headers(environ) -> dict[str, str]:
    out = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            out[key[5:].replace("_", "-").lower()] = value
    if environ.get("CONTENT_TYPE"):
        out["content-type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH"):
        out["content-length"] = environ["CONTENT_LENGTH"]
    return out


def _secret_for(access_key: str, session_token: str | None):
    """(secret, principal ARN or None for the known admin credentials)."""
    if access_key in KNOWN_CREDENTIALS:
        return KNOWN_CREDENTIALS[access_key], None
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for partition in list(sts_backends[account].keys()):
            role = sts_backends[account][partition].get_assumed_role_from_access_key(
                access_key
            )
            if role is not None:
                if session_token != role.session_token:
                    raise Refused(
                        403,
                        "UnrecognizedClientException",
                        "The security token included in the request is invalid.",
                    )
                return role.secret_access_key, role
    raise Refused(
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    )


def verify_sigv4(environ, body: bytes, region: str):
    """Checks the request's SigV4 signature; returns the assumed role (or
    None for the known admin credentials). Raises Refused."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    headers = _headers(environ)
    auth = headers.get("authorization")
    if not auth:
        raise Refused(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    try:
        algorithm, rest = auth.split(" ", 1)
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        credential = parts["Credential"]
        signed_headers = parts["SignedHeaders"].split(";")
        signature = parts["Signature"]
        access_key, date, scope_region, scope_service, terminator = credential.split("/")
    except (ValueError, KeyError):
        raise Refused(
            403,
            "IncompleteSignatureException",
            f"Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={auth}",
        )
    if algorithm != "AWS4-HMAC-SHA256" or terminator != "aws4_request":
        raise Refused(403, "IncompleteSignatureException", "Unsupported signing algorithm or scope")
    if scope_service != SERVICE:
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{SERVICE}'.",
        )
    if scope_region != region:
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{scope_region}'.",
        )
    amz_date = headers.get("x-amz-date", "")
    try:
        when = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise Refused(403, "IncompleteSignatureException", "Missing or malformed X-Amz-Date")
    now = datetime.now(timezone.utc)
    if abs(now - when) > MAX_SKEW or not amz_date.startswith(date):
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than "
            f"{(now - MAX_SKEW).strftime('%Y%m%dT%H%M%SZ')}",
        )
    token = headers.get("x-amz-security-token")
    if token is not None and "x-amz-security-token" not in signed_headers:
        raise Refused(403, "InvalidSignatureException", "X-Amz-Security-Token is not signed")
    secret, principal = _secret_for(access_key, token)
    missing = [h for h in signed_headers if h not in headers]
    if missing:
        raise Refused(403, "InvalidSignatureException", f"Signed headers missing: {missing}")
    url = f"http://{headers['host']}{environ.get('RAW_URI') or environ.get('REQUEST_URI')}"
    request = AWSRequest(
        method=environ["REQUEST_METHOD"],
        url=url,
        data=body,
        headers={h: headers[h] for h in signed_headers},
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret, token), SERVICE, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, signature):
        raise Refused(
            403,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you "
            "provided. Check your AWS Secret Access Key and signing method.",
        )
    return principal


def _role_allows(principal, action: str, resource: str) -> bool:
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.models import iam_backends

    iam = iam_backends[principal.account_id][principal.partition]
    try:
        role = iam.get_role_by_arn(principal.role_arn)
    except Exception:
        return False
    documents = list(role.policies.values()) + [
        p for p in role.managed_policies.values()
    ]
    allowed = False
    for document in documents:
        result = IAMPolicy(document).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            return False
        allowed = allowed or result == PermissionResult.PERMITTED
    return allowed


def authorize(principal, action: str, resource: str) -> None:
    if principal is None or _role_allows(principal, action, resource):
        return
    raise Refused(
        403,
        "AccessDeniedException",
        f"User: {principal.arn} is not authorized to perform: {action} on resource: "
        f"{resource} because no identity-based policy allows the {action} action",
    )


# --------------------------------------------------------------------- MCP


def _tools(backend, gateway) -> list[dict]:
    tools = []
    for (gateway_id, _), target in list(backend.gateway_targets.items()):
        if gateway_id != gateway.gateway_id:
            continue
        lam = (target.target_configuration or {}).get("mcp", {}).get("lambda", {})
        for tool in (lam.get("toolSchema") or {}).get("inlinePayload") or []:
            entry = {
                "name": f"{target.name}___{tool['name']}",
                "description": tool.get("description", ""),
                "inputSchema": tool.get("inputSchema", {"type": "object"}),
            }
            if "outputSchema" in tool:
                entry["outputSchema"] = tool["outputSchema"]
            tools.append(entry)
    mcp = (gateway.protocol_configuration or {}).get("mcp", {})
    if mcp.get("searchType") == "SEMANTIC":
        tools.append(
            {
                "name": SEARCH_TOOL,
                "description": "Search the gateway's tools by what they do.",
                "inputSchema": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                },
            }
        )
    return tools


_RUNNER = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
module, _, function = sys.argv[2].rpartition(".")
request = json.load(sys.stdin)
class ClientContext:
    custom = request["custom"]
class Context:
    client_context = ClientContext()
    function_name = sys.argv[3]
handler = getattr(importlib.import_module(module), function)
json.dump(handler(request["event"], Context()), sys.stdout)
"""


def _invoke_lambda(function_arn: str, event, custom: dict):
    from moto.awslambda.models import lambda_backends

    _, _, _, region, account, _, name = function_arn.split(":")[:7]
    function = lambda_backends[account][region].get_function(name)
    with tempfile.TemporaryDirectory() as code_dir:
        with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as z:
            z.extractall(code_dir)
        done = subprocess.run(
            [sys.executable, "-c", _RUNNER, code_dir, function.handler, name],
            input=json.dumps({"event": event, "custom": custom}),
            capture_output=True,
            text=True,
            timeout=60,
        )
    if done.returncode != 0:
        return None, done.stderr.strip().splitlines()[-1:] or ["the function failed"]
    return json.loads(done.stdout), None


def _call_tool(backend, gateway, params):
    name = params.get("name", "")
    target_name, sep, tool_name = name.partition("___")
    for (gateway_id, _), target in list(backend.gateway_targets.items()):
        if gateway_id != gateway.gateway_id or target.name != target_name or not sep:
            continue
        lam = (target.target_configuration or {}).get("mcp", {}).get("lambda", {})
        names = [t["name"] for t in (lam.get("toolSchema") or {}).get("inlinePayload") or []]
        if tool_name not in names:
            break
        custom = {
            "bedrockAgentCoreToolName": name,
            "bedrockAgentCoreGatewayId": gateway.gateway_id,
            "bedrockAgentCoreTargetId": target.target_id,
            "bedrockAgentCoreMessageVersion": "1.0",
        }
        result, error = _invoke_lambda(lam["lambdaArn"], params.get("arguments") or {}, custom)
        if error is not None:
            return {"content": [{"type": "text", "text": f"Lambda error: {error[0]}"}], "isError": True}
        return {"content": [{"type": "text", "text": json.dumps(result)}], "isError": False}
    raise RpcError(-32602, f"Unknown tool: {name}")


class RpcError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _mcp(backend, gateway, message, session):
    method = message.get("method")
    params = message.get("params") or {}
    if method == "initialize":
        asked = params.get("protocolVersion")
        version = asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[-1]
        return {
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": gateway.name, "version": "1.0.0"},
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        tools = _tools(backend, gateway)
        start = int(params.get("cursor") or 0)
        page = {"tools": tools[start : start + PAGE_SIZE]}
        if start + PAGE_SIZE < len(tools):
            page["nextCursor"] = str(start + PAGE_SIZE)
        return page
    if method == "tools/call":
        return _call_tool(backend, gateway, params)
    raise RpcError(-32601, f"Method not found: {method}")


def _respond(start_response, status: int, body, headers=()):
    reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden",
              404: "Not Found", 405: "Method Not Allowed"}[status]
    data = b"" if body is None else json.dumps(body).encode()
    out = [("Content-Length", str(len(data)))] + list(headers)
    if body is not None:
        out.append(("Content-Type", "application/json"))
    start_response(f"{status} {reason}", out)
    return [data]


def _refused(start_response, r: Refused):
    return _respond(start_response, r.status, {"message": r.message},
                    [("x-amzn-ErrorType", r.error_type)])


def _read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def serve_gateway(environ, start_response):
    gateway_id, _, rest = environ["PATH_INFO"][len(GATEWAY_PREFIX):].partition("/")
    backend, gateway = _find_gateway(gateway_id)
    if gateway is None or rest != "mcp":
        return _respond(start_response, 404, {"message": "Not Found"})
    body = _read_body(environ)
    try:
        principal = verify_sigv4(environ, body, backend.region_name)
        authorize(principal, "bedrock-agentcore:InvokeGateway", gateway.gateway_arn)
    except Refused as r:
        return _refused(start_response, r)
    headers = _headers(environ)
    method = environ["REQUEST_METHOD"]
    session = headers.get("mcp-session-id")
    if method == "GET":
        return _respond(start_response, 405, {"message": "no server-initiated stream"})
    if method == "DELETE":
        with _LOCK:
            _SESSIONS.pop(session or "", None)
        return _respond(start_response, 200, None)
    if method != "POST":
        return _respond(start_response, 405, {"message": "Method Not Allowed"})
    version = headers.get("mcp-protocol-version")
    if version is not None and version not in PROTOCOL_VERSIONS:
        return _respond(start_response, 400, {"message": f"Unsupported protocol version {version}"})
    try:
        message = json.loads(body)
    except ValueError:
        return _respond(start_response, 400, {"jsonrpc": "2.0", "id": None,
                        "error": {"code": -32700, "message": "Parse error"}})
    is_init = message.get("method") == "initialize"
    with _LOCK:
        known = _SESSIONS.get(session or "") == gateway_id
    if not is_init and not known:
        return _respond(start_response, 404 if session else 400,
                        {"message": "Unknown or missing Mcp-Session-Id"})
    if "id" not in message:  # a notification or a response
        return _respond(start_response, 202, None)
    extra = []
    if is_init:
        session = uuid.uuid4().hex
        with _LOCK:
            _SESSIONS[session] = gateway_id
        extra.append(("Mcp-Session-Id", session))
    try:
        answer = {"jsonrpc": "2.0", "id": message["id"],
                  "result": _mcp(backend, gateway, message, session)}
    except RpcError as e:
        answer = {"jsonrpc": "2.0", "id": message["id"],
                  "error": {"code": e.code, "message": e.message}}
    return _respond(start_response, 200, answer, extra)


# ------------------------------------------------------- InvokeAgentRuntime


def _is_invocation(environ) -> bool:
    path = environ.get("PATH_INFO", "")
    return (environ.get("REQUEST_METHOD") == "POST" and path.startswith("/runtimes/")
            and path.endswith("/invocations"))


_MODEL = None


def _invoke_input_shape():
    """botocore's InvokeAgentRuntime input shape (bedrock-agentcore)."""
    global _MODEL
    if _MODEL is None:
        import botocore.session

        model = botocore.session.get_session().get_service_model("bedrock-agentcore")
        _MODEL = model.operation_model("InvokeAgentRuntime").input_shape
    return _MODEL


def validate_invocation(arn: str, query: dict, headers: dict, body: bytes) -> None:
    """The request, read back into the operation's parameters (by each
    member's location in the model), must pass botocore's parameter
    validation; else 400 ValidationException with botocore's report."""
    from botocore.validate import ParamValidator

    shape = _invoke_input_shape()
    params = {}
    for name, member in shape.members.items():
        where, wire = member.serialization.get("location"), member.serialization.get("name", name)
        if where == "uri":
            params[name] = arn
        elif where == "querystring" and wire in query:
            params[name] = query[wire][0]
        elif where == "header" and wire.lower() in headers:
            params[name] = headers[wire.lower()]
    params["payload"] = body
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise Refused(400, "ValidationException", report.generate_report())


def serve_invocation(environ, start_response):
    raw = (environ.get("RAW_URI") or environ.get("REQUEST_URI") or "").split("?")[0]
    arn = unquote(raw[len("/runtimes/"):-len("/invocations")])
    query = parse_qs(urlsplit(environ.get("RAW_URI") or "").query)
    qualifier = (query.get("qualifier") or ["DEFAULT"])[0]
    body = _read_body(environ)
    region = arn.split(":")[3] if arn.count(":") >= 5 else ""
    try:
        principal = verify_sigv4(environ, body, region)
        authorize(principal, "bedrock-agentcore:InvokeAgentRuntime", arn)
    except Refused as r:
        return _refused(start_response, r)
    runtime = None
    for backend in _control_backend(region):
        for candidate in list(backend.agent_runtimes.values()):
            if candidate.agent_runtime_arn == arn:
                runtime = (backend, candidate)
    if runtime is None:
        return _refused(start_response, Refused(404, "ResourceNotFoundException",
                                                 f"No agent runtime {arn}"))
    backend, rt = runtime
    if (rt.agent_runtime_id, qualifier) not in backend.agent_runtime_endpoints:
        return _refused(start_response, Refused(404, "ResourceNotFoundException",
                                                 f"No endpoint {qualifier} on {arn}"))
    headers = _headers(environ)
    try:
        validate_invocation(arn, query, headers, body)
    except Refused as r:
        return _refused(start_response, r)
    session = headers.get("x-amzn-bedrock-agentcore-runtime-session-id", "")
    try:
        payload = json.loads(body)
    except ValueError:
        payload = {}
    prompt = payload.get("prompt", "") if isinstance(payload, dict) else ""
    reply = f"You said: {prompt}"
    session_header = ("X-Amzn-Bedrock-AgentCore-Runtime-Session-Id", session)
    if isinstance(payload, dict) and payload.get("stream"):
        chunks = [f"data: {json.dumps(word)}\n\n".encode()
                  for word in reply.replace(" ", " \0").split("\0")]
        start_response("200 OK", [("Content-Type", "text/event-stream"), session_header])
        return chunks
    return _respond(start_response, 200, {"response": reply, "status": "success",
                                          "qualifier": qualifier}, [session_header])


def wrap(app):
    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(GATEWAY_PREFIX):
            return serve_gateway(environ, start_response)
        if _is_invocation(environ):
            return serve_invocation(environ, start_response)
        return app(environ, start_response)

    return wrapped
