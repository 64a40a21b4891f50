#!/usr/bin/env python3
"""Start a moto server configured for agentform's integration tests.

Usage (with the venv's interpreter):

    .venv/bin/python tests/support/moto_server.py --host 127.0.0.1 --port PORT

Prints exactly one line to stdout, ``READY`` (or ``READY <port>`` when started
with ``--port 0``, which lets the OS pick a free port), once the server answers
HTTP requests, then serves until it receives SIGTERM/SIGINT or until its parent
process goes away (disable that with ``--no-parent-watch``). Request logging
goes to stderr only with ``--verbose``; errors are always logged there.

What is configured on top of a plain ``moto_server``:

* AgentCore gateways, gateway targets, agent runtimes, runtime endpoints and
  memories report CREATING for AGENTFORM_MOTO_DELAY seconds (default 1; ``--delay``
  overrides it) and then READY. After an Update* call they report UPDATING for
  the same delay and then READY (memories: ACTIVE). A delay of 0 means
  "READY on the next read".
* Runtime ARNs are ``...:runtime/{agentRuntimeId}`` and stay the same (with
  their tags) across UpdateAgentRuntime, and gateway URLs end in ``/mcp``, as
  on real AWS (moto mints ``...:agent/{uuid}:{version}`` per update and
  leaves ``/mcp`` out).
* Cognito user pools answer as on AWS where agentform relies on it (tags,
  resource server updates, domains, whole-client updates): see
  ``cognito_patches``.
* DeleteGateway fails with ConflictException while the gateway has targets,
  as on real AWS (moto would delete the targets with it).
* UpdateGateway replaces the whole gateway: interceptors, a policy engine
  or a description it leaves out are removed, as on AWS (moto keeps them).
* UpdateGateway keeps ``wafConfiguration`` and ``customTransformConfiguration``
  (whole-object) and GetGateway returns them, as on AWS (moto drops both).
* UpdateAgentRuntime replaces the whole configuration: what it leaves out
  (description, authorizer, request headers, protocol, lifecycle,
  environment) is reset, as on AWS (moto keeps the old values).
* Runtime endpoint ARNs are
  ``...:runtime/{agentRuntimeId}/runtime-endpoint/{endpointName}`` (moto mints
  ``...:agentEndpoint/{uuid}``), and the tags given to
  CreateAgentRuntimeEndpoint are stored under that ARN.
* An endpoint's ``liveVersion`` becomes its ``targetVersion`` once it is
  READY after an UpdateAgentRuntimeEndpoint (moto never moves it), and
  ListAgentRuntimeEndpoints returns both versions (moto's summary leaves
  them out) and leaves out an empty ``description``, as Get does.
* CreateAgentRuntime also creates the endpoint ``DEFAULT`` (READY, at the
  runtime's version 1) and every UpdateAgentRuntime moves it to the new
  version: UPDATING, then READY with liveVersion = the new version, on the
  runtime's own clock (so it is READY when the runtime is). Named endpoints
  stay where they are. moto creates no DEFAULT endpoint.
* DeleteAgentRuntime removes the runtime's endpoints with it (DEFAULT
  included), at once; that is moto's behaviour, left as it is. Their tags,
  like a deleted runtime's, stay readable under the old ARNs.
* ``GET /agentform-test/lambda-code/<account>/<region>/<function>`` returns
  the zip a Lambda function's code was uploaded as (moto gives no
  ``Code.Location`` for a ``ZipFile`` upload), so tests can list what
  Lambda got. Read-only; 404 for an unknown function.
* GetBucketVersioning's root element is ``VersioningConfiguration``, as on
  S3 (moto: ``GetBucketVersioningResponse``, which the Rust SDK rejects).
* AgentCore's data plane (``agentcore_dataplane.py``): each gateway's URL
  is a SigV4-checking MCP server on this port, and InvokeAgentRuntime
  answers for moto's runtimes. ``--known-credentials KEY:SECRET`` (default
  ``testing:testing``, the tests' own) names the keys it accepts besides
  the temporary ones moto's STS hands out.
* AgentCore Identity's API-key and OAuth2 credential providers
  (``agentcore_identity.py``), which moto lacks: Create/Get/Update/Delete/
  List, and tags on their ARNs, every request checked against botocore's
  model (failures listed at ``GET /agentform-test/identity/violations``);
  their secrets are service-managed secrets in moto's Secrets Manager.
* AssumeRole honours the role's trust policy (moto lets anyone assume any
  role): the caller must be an ``AWS`` principal of an Allow statement for
  ``sts:AssumeRole`` — its own ARN (an assumed role counts as its role),
  its account's root or its account id, or ``*`` — else AccessDenied, as
  on AWS. A role moto does not have is left to moto.
* GetCallerIdentity for keys moto did not issue says
  ``arn:aws:iam::ACCOUNT:user/moto`` (moto: ``arn:aws:sts::...``, a form
  AWS gives no IAM user).
* Otherwise deletes are moto's own behaviour: the resource is removed at once (the
  Delete* response says DELETING; the next Get* gets ResourceNotFoundException).

The delay is registered as the *default* transition of each model, so a test
can still override it at runtime with moto's own API
(POST /moto-api/state-manager/set-transition) and return to the launcher's
default with /moto-api/state-manager/unset-transition. /moto-api/reset clears
resources but not transitions.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import signal
import threading
import time
from datetime import datetime

# moto's state-manager names for the AgentCore control-plane models
# (see moto/bedrockagentcorecontrol/models.py, ManagedState.__init__ calls).
AGENTCORE_MODELS = (
    "bedrock-agentcore-control::gateway",
    "bedrock-agentcore-control::gateway_target",
    "bedrock-agentcore-control::agent_runtime",
    "bedrock-agentcore-control::agent_runtime_endpoint",
    "bedrock-agentcore-control::memory",
)


def transition_for(delay: float) -> dict:
    """The moto state-manager transition that makes one step take `delay` s."""
    if delay <= 0:
        return {"progression": "immediate"}
    return {"progression": "time", "seconds": delay}


def configure_agentcore(delay: float) -> None:
    from moto.bedrockagentcorecontrol import models
    from moto.moto_api import state_manager

    # Supported hook: the default transition per model. Without this moto uses
    # "immediate" (READY on the first Get* after Create*).
    for model_name in AGENTCORE_MODELS:
        state_manager.register_default_transition(model_name, transition_for(delay))

    # Missing hook, hence a monkeypatch: moto's models only declare the
    # transition CREATING -> READY, while their update() sets status to
    # UPDATING, which then never changes. For each model we
    #   1. add UPDATING -> READY to the instance's transition list, and
    #   2. restart the transition clock/counter in update(), because moto only
    #      resets them when a transition happens, so with a "time" progression
    #      UPDATING would otherwise end at once if the resource had been READY
    #      for longer than the delay. Before the original update() as well as
    #      after it: AgentRuntime.update() reads `status` (for its version
    #      snapshot) right after setting UPDATING, which on the old clock
    #      ended UPDATING there and then.
    for cls in (
        models.Gateway,
        models.GatewayTarget,
        models.AgentRuntime,
        models.AgentRuntimeEndpoint,
    ):
        if getattr(cls, "_agentform_patched", False):
            continue
        original_init = cls.__init__
        original_update = cls.update

        def patched_init(self, *args, __orig=original_init, **kwargs):
            __orig(self, *args, **kwargs)
            self._transitions = list(self._transitions) + [("UPDATING", "READY")]

        def patched_update(self, *args, __orig=original_update, **kwargs):
            self._time_progressed = datetime.now()
            self._tick = 0
            __orig(self, *args, **kwargs)
            self._time_progressed = datetime.now()
            self._tick = 0

        cls.__init__ = patched_init
        cls.update = patched_update
        cls._agentform_patched = True

    patch_real_aws_identifiers(models)
    patch_runtime_endpoints(models)
    patch_runtime_full_replace(models)
    patch_gateway_full_replace(models)
    from moto.bedrockagentcorecontrol import responses as control_responses

    patch_gateway_update_only_settings(models, control_responses)
    patch_assume_role_trust()


def patch_real_aws_identifiers(models) -> None:
    """Make runtime ARNs, gateway URLs and gateway deletes behave like the real service's.

    * Runtime ARN. moto builds ``...:agent/{uuid}:{version}`` and mints a new
      one on every UpdateAgentRuntime; its tags stay on the old ARN, so
      ListTagsForResource on the current ARN returns {} after an update. Real
      AWS: ``arn:aws:bedrock-agentcore:{region}:{acct}:runtime/{agentRuntimeId}``,
      stable across updates (the version is a separate field), tags kept.
      CreateAgentRuntime tags ``runtime.agent_runtime_arn`` after __init__,
      so setting the stable ARN in __init__ puts the tags on it.
    * Gateway URL. Real AWS returns
      ``https://{gatewayId}.gateway.bedrock-agentcore.{region}.amazonaws.com/mcp``;
      moto leaves out the ``/mcp`` path.
    """
    from moto.utilities.utils import get_partition

    runtime_cls = models.AgentRuntime
    if not getattr(runtime_cls, "_agentform_arn_patched", False):
        original_init = runtime_cls.__init__
        original_update = runtime_cls.update

        def stable_arn(self) -> str:
            return (
                f"arn:{get_partition(self.region_name)}:bedrock-agentcore:"
                f"{self.region_name}:{self.account_id}:runtime/{self.agent_runtime_id}"
            )

        def runtime_init(self, *args, __orig=original_init, **kwargs):
            __orig(self, *args, **kwargs)
            self.agent_runtime_arn = stable_arn(self)
            for version in self.versions:  # the snapshot taken in __init__
                version["agentRuntimeArn"] = self.agent_runtime_arn

        def runtime_update(self, *args, __orig=original_update, **kwargs):
            # moto's update() parses the uuid out of an `agent/{uuid}:{v}` ARN
            # to mint the next one: hand it that shape, then put ours back.
            self.agent_runtime_arn = f"agent/{self.agent_runtime_id}:0"
            try:
                __orig(self, *args, **kwargs)
            finally:
                self.agent_runtime_arn = stable_arn(self)
                if self.versions:
                    self.versions[-1]["agentRuntimeArn"] = self.agent_runtime_arn

        runtime_cls.__init__ = runtime_init
        runtime_cls.update = runtime_update
        runtime_cls._agentform_arn_patched = True

    gateway_cls = models.Gateway
    if not getattr(gateway_cls, "_agentform_url_patched", False):
        original_gateway_init = gateway_cls.__init__

        def gateway_init(self, *args, __orig=original_gateway_init, **kwargs):
            __orig(self, *args, **kwargs)
            if not self.gateway_url.endswith("/mcp"):
                self.gateway_url = self.gateway_url.rstrip("/") + "/mcp"

        gateway_cls.__init__ = gateway_init
        gateway_cls._agentform_url_patched = True

    # * DeleteGateway. moto deletes the gateway's targets with it; the real
    #   service only deletes a gateway whose targets are gone (AWS's
    #   agentcore-cli and starter toolkit delete targets first for that
    #   reason). Refusing here catches a wrong delete order in our tests.
    backend_cls = models.BedrockAgentCoreControlBackend
    if not getattr(backend_cls, "_agentform_delete_patched", False):
        from moto.bedrockagentcorecontrol.exceptions import ConflictException

        original_delete_gateway = backend_cls.delete_gateway

        def delete_gateway(self, gateway_identifier, __orig=original_delete_gateway):
            gateway = self._get_gateway(gateway_identifier)
            left = [t for (gid, t) in self.gateway_targets if gid == gateway.gateway_id]
            if left:
                raise ConflictException(
                    f"Gateway {gateway.gateway_id} has {len(left)} target(s); "
                    "delete them before deleting the gateway"
                )
            return __orig(self, gateway_identifier)

        backend_cls.delete_gateway = delete_gateway
        backend_cls._agentform_delete_patched = True


def reset_what_updates_leave_out(cls, resets: dict) -> None:
    """Make ``cls.update`` replace the whole object, as AWS's Update* calls
    do: each keyword argument of ``resets`` that an update leaves out (or
    passes as None) sets its attribute to the given empty value, where moto
    would keep the old one. ``resets`` maps argument -> (attribute, empty)."""
    if getattr(cls, "_agentform_full_replace_patched", False):
        return
    original = cls.update

    def update(self, *args, __orig=original, **kwargs):
        __orig(self, *args, **kwargs)
        for arg, (attr, empty) in resets.items():
            if kwargs.get(arg) is None:
                setattr(self, attr, empty)

    cls.update = update
    cls._agentform_full_replace_patched = True


def patch_runtime_full_replace(models) -> None:
    """UpdateAgentRuntime replaces the whole configuration, as on AWS.

    moto keeps a field's old value when an update leaves it out; AWS resets
    it (the description cleared, no authorizer or request headers, the
    default protocol and lifecycle, no environment variables). That is the
    trap of an image-only update, so the tests need AWS's behaviour.
    """
    reset_what_updates_leave_out(
        models.AgentRuntime,
        {
            "description": ("description", ""),
            "authorizer_configuration": ("authorizer_configuration", None),
            "request_header_configuration": ("request_header_configuration", None),
            "protocol_configuration": ("protocol_configuration", None),
            "lifecycle_configuration": ("lifecycle_configuration", {}),
            "environment_variables": ("environment_variables", None),
        },
    )


def patch_gateway_full_replace(models) -> None:
    """UpdateGateway replaces the whole gateway, as on AWS: interceptors, a
    policy engine or a description it leaves out are removed (moto keeps
    the old ones)."""
    reset_what_updates_leave_out(
        models.Gateway,
        {
            "description": ("description", ""),
            "interceptor_configurations": ("interceptor_configurations", None),
            "policy_engine_configuration": ("policy_engine_configuration", None),
        },
    )


def patch_gateway_update_only_settings(models, responses) -> None:
    """UpdateGateway takes ``wafConfiguration`` and
    ``customTransformConfiguration`` (CreateGateway does not: the service
    model), keeps them whole-object (left out: removed) and GetGateway
    returns them; moto ignores both."""
    cls = models.Gateway
    if getattr(cls, "_agentform_update_only_patched", False):
        return
    cls._agentform_update_only_patched = True
    original_update = responses.BedrockAgentCoreControlResponse.update_gateway

    def update_gateway(self, __orig=original_update):
        params = self._get_params()
        result = __orig(self)
        gateway = self.backend._get_gateway(self._get_param("gatewayIdentifier"))
        gateway.waf_configuration = params.get("wafConfiguration")
        gateway.custom_transform_configuration = params.get("customTransformConfiguration")
        return result

    responses.BedrockAgentCoreControlResponse.update_gateway = update_gateway
    original_to_dict = cls.to_dict

    def to_dict(self, __orig=original_to_dict):
        result = __orig(self)
        for key, attr in (
            ("wafConfiguration", "waf_configuration"),
            ("customTransformConfiguration", "custom_transform_configuration"),
        ):
            if getattr(self, attr, None):
                result[key] = getattr(self, attr)
        return result

    cls.to_dict = to_dict


def patch_runtime_endpoints(models) -> None:
    """Make agent-runtime endpoints behave like the real service's.

    * Endpoint ARN. moto mints ``...:agentEndpoint/{uuid}``. Real AWS:
      ``arn:{partition}:bedrock-agentcore:{region}:{acct}:runtime/``
      ``{agentRuntimeId}/runtime-endpoint/{endpointName}``.
      CreateAgentRuntimeEndpoint tags ``endpoint.agent_runtime_endpoint_arn``
      after __init__, so setting the ARN in __init__ puts the tags on it.
      ListTagsForResource needs no patch: moto's router treats the last
      label of ``/tags/{resourceArn}`` as greedy (the SDKs send the ARN's
      slashes as %2F anyway) and its tagger is keyed by the ARN string.
    * liveVersion. moto sets it to targetVersion at create and never moves
      it. Real AWS: targetVersion is what an UpdateAgentRuntimeEndpoint moves
      to, liveVersion what serves; they are equal again once the endpoint is
      READY. ``live_version`` is therefore computed on read: targetVersion
      whenever the stored status is READY, else the last version seen READY
      (for a new endpoint: the version it was created at, as moto sets it).
      It looks at the stored ``_status``, not at ``status``, so reading it
      never ends UPDATING by itself (the Update response, which does not read
      ``status``, reports the old liveVersion); Get and List read ``status``
      first, which applies a due transition. update() settles the status
      first, so a transition that was due but not yet observed still counts.
    * ListAgentRuntimeEndpoints. moto's summary has no liveVersion and
      targetVersion (the botocore AgentRuntimeEndpoint shape has both) and
      sends ``description: ""`` when there is none (its minimum length is
      1; Get leaves it out). Added and left out, respectively.
    * DEFAULT endpoint. Real AWS creates it with every runtime; it follows
      each new version by itself. moto creates none. CreateAgentRuntime now
      adds it (READY, at the runtime's version, no tags, no description),
      and UpdateAgentRuntime updates it to the new version with the
      runtime's transition clock, so it reaches READY (liveVersion = new
      version) together with the runtime. Named endpoints are not moved.
    * DeleteAgentRuntime: moto drops all the runtime's endpoints, DEFAULT
      included, in the same call; left as it is.
    """
    from moto.utilities.utils import get_partition

    endpoint_cls = models.AgentRuntimeEndpoint
    if not getattr(endpoint_cls, "_agentform_endpoint_patched", False):
        original_init = endpoint_cls.__init__
        original_update = endpoint_cls.update
        original_summary = endpoint_cls.to_summary

        def endpoint_init(self, *args, __orig=original_init, **kwargs):
            __orig(self, *args, **kwargs)
            self.agent_runtime_endpoint_arn = (
                f"arn:{get_partition(self.region_name)}:bedrock-agentcore:"
                f"{self.region_name}:{self.account_id}:runtime/"
                f"{self.agent_runtime_id}/runtime-endpoint/{self.name}"
            )

        def get_live_version(self):
            if self._status == "READY":
                self._agentform_live_version = self.target_version
            return self._agentform_live_version

        def set_live_version(self, value):
            self._agentform_live_version = value

        def endpoint_update(self, *args, __orig=original_update, **kwargs):
            # Observe the state as a Get would, so an UPDATING that was due
            # to end records its liveVersion before the new target replaces it.
            _ = self.status
            _ = self.live_version
            __orig(self, *args, **kwargs)

        def endpoint_summary(self, __orig=original_summary):
            summary = __orig(self)  # reads `status` first
            summary["liveVersion"] = self.live_version
            summary["targetVersion"] = self.target_version
            if not summary.get("description"):
                summary.pop("description", None)
            return summary

        endpoint_cls.__init__ = endpoint_init
        endpoint_cls.live_version = property(get_live_version, set_live_version)
        endpoint_cls.update = endpoint_update
        endpoint_cls.to_summary = endpoint_summary
        endpoint_cls._agentform_endpoint_patched = True

    backend_cls = models.BedrockAgentCoreControlBackend
    if not getattr(backend_cls, "_agentform_default_endpoint_patched", False):
        original_create_runtime = backend_cls.create_agent_runtime
        original_update_runtime = backend_cls.update_agent_runtime

        def create_agent_runtime(
            self, *args, __orig=original_create_runtime, **kwargs
        ):
            runtime = __orig(self, *args, **kwargs)
            endpoint = models.AgentRuntimeEndpoint(
                region_name=self.region_name,
                account_id=self.account_id,
                agent_runtime=runtime,
                name="DEFAULT",
                agent_runtime_version=runtime.agent_runtime_version,
                description=None,
            )
            endpoint.status = "READY"
            self.agent_runtime_endpoints[(runtime.agent_runtime_id, "DEFAULT")] = (
                endpoint
            )
            return runtime

        def update_agent_runtime(
            self, *args, __orig=original_update_runtime, **kwargs
        ):
            runtime = __orig(self, *args, **kwargs)
            endpoint = self.agent_runtime_endpoints.get(
                (runtime.agent_runtime_id, "DEFAULT")
            )
            if endpoint is not None:
                endpoint.update(
                    agent_runtime_version=runtime.agent_runtime_version,
                    description=None,
                )
                # Same clock as the runtime's UPDATING, so that DEFAULT is
                # READY at the new version no later than the runtime is.
                endpoint._time_progressed = runtime._time_progressed
                endpoint._tick = runtime._tick
            return runtime

        backend_cls.create_agent_runtime = create_agent_runtime
        backend_cls.update_agent_runtime = update_agent_runtime
        backend_cls._agentform_default_endpoint_patched = True


def patch_assume_role_trust() -> None:
    """AssumeRole checks the role's trust policy (see the module doc)."""
    import json

    from moto.iam.models import iam_backends
    from moto.sts import responses
    from moto.sts.exceptions import STSClientError

    cls = responses.TokenResponse
    if getattr(cls, "_agentform_trust_patched", False):
        return
    original = cls.assume_role

    def caller_arn(self) -> tuple[str, str]:
        _, arn, account = self.backend.get_caller_identity(
            self.get_access_key(), self.region
        )
        if ":assumed-role/" in arn:
            partition = arn.split(":")[1]
            role = arn.split(":assumed-role/")[1].split("/")[0]
            arn = f"arn:{partition}:iam::{account}:role/{role}"
        return arn, account

    def trusted(document: dict, arn: str, account: str) -> bool:
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        for st in statements:
            actions = st.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if st.get("Effect") != "Allow" or not any(
                a in ("sts:AssumeRole", "sts:*", "*") for a in actions
            ):
                continue
            principal = st.get("Principal", {})
            if principal == "*":
                return True
            aws = principal.get("AWS", []) if isinstance(principal, dict) else []
            aws = [aws] if isinstance(aws, str) else aws
            root = f"arn:{arn.split(':')[1]}:iam::{account}:root"
            if any(p in ("*", arn, root, account) for p in aws):
                return True
        return False

    def assume_role(self):
        role_arn = self._get_param("RoleArn") or ""
        arn, account = caller_arn(self)
        role = None
        for backend in iam_backends.get(role_arn.split(":")[4] if role_arn.count(":") >= 5 else "", {}).values():
            try:
                role = backend.get_role_by_arn(role_arn)
                break
            except Exception:
                continue
        if role is not None:
            document = role.assume_role_policy_document
            if isinstance(document, str):
                from urllib.parse import unquote

                document = json.loads(unquote(document))
            if not trusted(document, arn, account):
                raise STSClientError(
                    "AccessDenied",
                    f"User: {arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                )
        return original(self)

    cls.assume_role = assume_role
    cls._agentform_trust_patched = True

    # moto's caller of last resort (keys it never issued, such as the tests'
    # own) is `arn:aws:sts::ACCOUNT:user/moto`; an IAM user's ARN is
    # `arn:aws:iam::ACCOUNT:user/NAME` on AWS.
    from moto.sts.models import STSBackend

    original_identity = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id, region):
        user_id, arn, account = original_identity(self, access_key_id, region)
        if arn.startswith("arn:") and ":sts::" in arn and ":user/" in arn:
            arn = arn.replace(":sts::", ":iam::", 1)
        return user_id, arn, account

    STSBackend.get_caller_identity = get_caller_identity


LAMBDA_CODE_PREFIX = "/agentform-test/lambda-code/"


def with_lambda_code_route(app):
    """Wraps the WSGI app with the read-only route described above."""

    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") != "GET" or not path.startswith(
            LAMBDA_CODE_PREFIX
        ):
            return app(environ, start_response)
        from moto.awslambda.models import lambda_backends

        try:
            account, region, name = path[len(LAMBDA_CODE_PREFIX) :].split("/")
            code = lambda_backends[account][region].get_function(name).code_bytes
        except Exception as e:  # unknown function, bad path
            body = f"no code: {e}".encode()
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [body]
        start_response(
            "200 OK",
            [("Content-Type", "application/zip"), ("Content-Length", str(len(code)))],
        )
        return [code]

    return wrapped


def with_s3_versioning_root(app):
    """GetBucketVersioning answers with the root element AWS uses.

    moto 5.2.5 names it ``GetBucketVersioningResponse``; S3 (and the S3
    model) say ``VersioningConfiguration``. botocore ignores root names;
    the Rust SDK, rightly, does not.
    """

    def wrapped(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") != "GET" or query.split("&")[0] != "versioning":
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda _data: None

        body = b"".join(app(environ, capture))
        body = body.replace(b"GetBucketVersioningResponse", b"VersioningConfiguration")
        headers = [
            (k, v) for k, v in captured["headers"] if k.lower() != "content-length"
        ] + [("Content-Length", str(len(body)))]
        start_response(captured["status"], headers)
        return [body]

    return wrapped


def wait_until_serving(host: str, port: int, timeout: float = 30.0) -> None:
    """Poll until the server answers a real HTTP request (moto's own API)."""
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    path = (
        "/moto-api/state-manager/get-transition?model_name=" + AGENTCORE_MODELS[0]
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(probe_host, port, timeout=5)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"moto server did not answer on {probe_host}:{port}")
        time.sleep(0.05)


def main() -> None:
    # Read as early as possible: a parent that exits right after spawning us
    # must still be noticed as gone.
    parent = os.getppid()

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=5000, help="0 = let the OS pick a free port"
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=float(os.environ.get("AGENTFORM_MOTO_DELAY", "1")),
        help="seconds in CREATING/UPDATING (default: $AGENTFORM_MOTO_DELAY or 1)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log every request to stderr"
    )
    parser.add_argument(
        "--known-credentials",
        default="testing:testing",
        help="KEY:SECRET[,KEY:SECRET] the data plane accepts (default testing:testing)",
    )
    parser.add_argument(
        "--no-parent-watch",
        action="store_true",
        help="keep running when the parent process exits",
    )
    args = parser.parse_args()

    if not args.verbose:
        # werkzeug logs one line per request at INFO; keep errors only, so a
        # harness that pipes stderr without draining it cannot stall us.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    configure_agentcore(args.delay)
    import cognito_patches

    cognito_patches.patch()
    import agentcore_dataplane
    import agentcore_identity
    import agentcore_policy  # registers its backend with agentcore_identity's wire layer

    agentcore_policy.configure(args.delay)

    probe_host = "127.0.0.1" if args.host in ("0.0.0.0", "", "::") else args.host
    agentcore_dataplane.patch_gateway_url(probe_host)
    for pair in filter(None, args.known_credentials.split(",")):
        key, _, secret = pair.partition(":")
        agentcore_dataplane.KNOWN_CREDENTIALS[key] = secret

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    # Same app and handler as `moto_server` / ThreadedMotoServer, but the
    # socket is bound here in the main thread, so a busy port fails loudly:
    # werkzeug prints "Address already in use" and exits with status 1
    # (ThreadedMotoServer.start() would wait forever in that case).
    app = agentcore_identity.wrap(
        agentcore_dataplane.wrap(
            with_s3_versioning_root(
                with_lambda_code_route(DomainDispatcherApplication(create_backend_app))
            )
        )
    )
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    # moto builds some self-referencing URLs from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    wait_until_serving(args.host, port)
    print("READY" if args.port else f"READY {port}", flush=True)

    watch_parent = not args.no_parent_watch and parent != 1
    try:
        while True:
            time.sleep(0.5)
            if watch_parent and os.getppid() != parent:
                # Reparented: whoever started us is gone.
                break
    finally:
        # No graceful shutdown: clients may hold idle keep-alive connections
        # whose handler threads would delay a join; exit at once instead.
        server.socket.close()
        os._exit(0)


if __name__ == "__main__":
    main()
