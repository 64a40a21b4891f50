"""AgentCore Policy's policy engines and Cedar policies for agentform's tests,
served by the moto launcher.

moto has no AgentCore Policy. This module answers, for
``bedrock-agentcore-control``, Create/Get/Update/Delete/List of policy
engines and of the Cedar policies in them, and TagResource, UntagResource
and ListTagsForResource for policy-engine ARNs. It is a ``Backend`` of
``agentcore_identity``'s wire layer, which it reuses whole: routes from the
model, requests checked with ``ModelValidator`` (failures listed at
``GET /agentform-test/identity/violations``, with the credential providers'),
outputs rendered through the model's shapes (timestamps ``iso8601``, as
these shapes say), the model's error statuses, the caller's account and
region, one lock, cleared by ``POST /moto-api/reset``. Every other request
(tags of policies, gateways or runtimes included) reaches moto unchanged.

What AWS does beyond the model, and where that was found; where nothing
was found, the choice made here says so:

* Ids are ``NAME-`` and 10 random characters of ``[a-z0-9]``, the model's
  ``ResourceId`` pattern ``[A-Za-z][A-Za-z0-9_]*-[a-z0-9_]{10}`` (AWS's
  examples: ``MyPolicyEngine-abc123``, ``refund_limit_policy-xyz789``,
  shortened). ARNs are ``arn:aws:bedrock-agentcore:REGION:ACCOUNT:``
  ``policy-engine/ENGINE_ID`` and ``.../policy-engine/ENGINE_ID/policy/``
  ``POLICY_ID``, the output shapes' ``PolicyEngineArn`` and ``PolicyArn``
  patterns.
* Names: the model's pattern ``[A-Za-z][A-Za-z0-9_]*`` (engines and
  policies alike) is matched against the whole name (``Backend.anchored``),
  not searched for as elsewhere, so ``my-engine`` is a model violation:
  "Policy engine names must match the pattern ``^[A-Za-z][A-Za-z0-9_]*$``
  (alphanumeric and underscores, no hyphens)" (the Policy CLI reference of
  aws/bedrock-agentcore-starter-toolkit, ``documentation/docs/user-guide/``
  ``policy/``); policy names, the same pattern, by analogy.
* A duplicate name is ConflictException (409): ``Policy engine with name
  NAME already exists`` per account and region; ``Policy with name NAME
  already exists in policy engine ENGINE_ID`` per engine. AWS's own SDK
  treats a ConflictException from CreatePolicyEngine and CreatePolicy as
  "it exists already" (aws/bedrock-agentcore-sdk-python PR #427,
  ``create_or_get_policy_engine``/``create_or_get_policy``). Scope of
  policy names: per engine here, as asked; the model's documentation of
  CreatePolicy's ``name`` says "unique within the account" instead.
  A name stays taken until its resource is gone (DELETING included).
* Status: Create* answers CREATING, Update* UPDATING, Delete* DELETING
  (the operations are documented as asynchronous, to be polled with Get*;
  the model's waiters ``PolicyEngineActive``/``PolicyActive`` wait for
  ACTIVE, ``PolicyEngineDeleted``/``PolicyDeleted`` for
  ResourceNotFoundException while DELETING). Each transient status lasts
  ``DELAY`` seconds from its request (the launcher's ``--delay`` /
  ``AGENTFORM_MOTO_DELAY``, as for moto's AgentCore resources), worked out
  whenever the state is read: then ACTIVE, or, after DELETING, gone (Get:
  ResourceNotFoundException; its tags go with it). A delay of 0 means
  "terminal on the next request": the write's own response still says
  CREATING/UPDATING/DELETING, as AWS's do. ``statusReasons`` is ``[]``
  but for a policy whose Cedar check failed (see there); engines never
  fail.
* Writes to something not ACTIVE are ConflictException, ``Policy engine
  ID is STATUS; it must be ACTIVE`` (``Policy ID ...`` likewise): Update
  and Delete of an engine, and Create/Update/Delete of a policy in an
  engine that is not ACTIVE, and Update/Delete of a policy that is not.
  Not observed on AWS: ConflictException is among each of those
  operations' model errors, and it is how moto's launcher refuses writes
  to AgentCore resources in the wrong state.
* DeletePolicyEngine refuses, with ConflictException, an engine that
  still has policies, whatever their status (``Policy engine ID still has
  N policies; delete them first``): "The policy engine must not have any
  associated policies before deletion" (the model's documentation of
  DeletePolicyEngine; also awslabs/mcp PR #3193: "requires zero associated
  policies first"). And an engine that a gateway of moto in the same
  account and region names in ``policyEngineConfiguration.arn``
  (``Policy engine ID is associated with gateway(s) GATEWAY_ID; ...``):
  this emulator's choice, not observed, mirroring the launcher's
  DeleteGateway that refuses while targets remain.
* Descriptions are updated with PATCH semantics through the model's
  ``UpdatedDescription`` wrapper: absent, unchanged; ``{"optionalValue":
  D}``, replaced; ``{}``, removed (the wrapper's model documentation).
  UpdatePolicy's ``enforcementMode``, when left out, leaves it unchanged;
  CreatePolicy's defaults to ACTIVE (the model's documentation of both).
  ``validationMode`` is not kept: it governs the one request's check.
* ``definition`` keeps the union member given (``cedar`` or ``policy``,
  each ``{"statement"}``) and returns it as given. ``policyGeneration``
  refers to a policy generation, which this emulator never has:
  ResourceNotFoundException.
* Cedar check (the service's "validated during creation against the Cedar
  schema generated from the Gateway's tools", model documentation of
  CreatePolicy/UpdatePolicy), run at Create and at an Update that gives a
  definition:

  - Syntax, always: one or more policies, each an optional run of
    annotations ``@name("value")``, then ``permit`` or ``forbid``, a
    parenthesised scope, any number of ``when {...}``/``unless {...}``, and
    ``;``. A light tokenizer: string literals with escapes, ``//``
    comments, balanced ``()``, ``[]``, ``{}``. A statement that does not
    parse cannot be a policy, whatever the validation mode.
  - Schema, unless ``validationMode`` is IGNORE_ALL_FINDINGS ("runs the
    Cedar analyzer but allows policy creation even if validation issues
    are detected", the model's documentation of validationMode; AWS's
    current developer guide, "Policy create and update: per-policy engine
    validation", says schema checks run in either mode and only the
    semantic analysis is skipped): every ``AgentCore::Gateway::"ARN"`` a
    policy names is a gateway moto has in the caller's account and region;
    every ``AgentCore::Action::"NAME"`` is a tool of one of the gateways the
    same policy names, and a policy naming an action names a gateway
    ("Must use specific ARNs to refer to specific actions", developer
    guide, "Schema constraints"). A tool is ``TARGET___TOOL`` (three
    underscores: developer guide, "Understand how AgentCore Gateway tools
    are named"; the starter toolkit's ``RefundTarget___process_refund``)
    with TARGET a target of that gateway and TOOL, for a Lambda target, the
    ``name`` of one of its ``toolSchema.inlinePayload`` tools, for an
    OpenAPI target with an ``inlinePayload`` (JSON or YAML), one of its
    ``operationId``s, and for any other target (S3-hosted schemas, Smithy,
    MCP servers, API Gateway...) any name. AWS's guide derives the schema
    from the gateways *associated with the engine*; here any gateway of the
    account and region will do, so a policy may precede the association.
  - Findings are reported as AWS does, asynchronously: the write answers
    CREATING/UPDATING as usual, and when that status ends the policy is
    CREATE_FAILED/UPDATE_FAILED with the findings as ``statusReasons``
    (``Policy validation failed: FINDING``), naming the unknown gateway or
    action (``Unknown action AgentCore::Action::"X": not a tool of gateway
    ARN (its tools: ...)``) (the developer guide's "Example: Validation
    failure"; the waiters' failure states). A failed update keeps the
    statement it was given (so a re-plan sees it as current and only the
    status tells): not observed, chosen so a client must read the status.
    A failed policy may be updated or deleted. These refusals are not model
    violations and are not listed.
* ListPolicyEngines and ListPolicies: creation order, pages of
  ``maxResults`` (default 10, the model's documentation), ``nextToken``
  the next offset. ``targetResourceScope`` keeps the policies naming
  ``AgentCore::Gateway::"THAT ARN"``.
* ``clientToken`` is validated and otherwise ignored (no idempotent
  replay); ``encryptionKeyArn`` is kept and returned, not checked.
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import time
from dataclasses import dataclass, field

from agentcore_identity import Backend, ServiceError, paginate, register

DELAY = float(os.environ.get("AGENTFORM_MOTO_DELAY", "1"))
PAGE = 10  # default maxResults of both lists (model documentation)
ENGINE_ARN = re.compile(r"arn:[^:]+:bedrock-agentcore:[^:]+:[0-9]{12}:policy-engine/[^/]+")
TRANSIENT = ("CREATING", "UPDATING", "DELETING")
_ID_CHARS = string.ascii_lowercase + string.digits
_random = random.SystemRandom()


def configure(delay: float) -> None:
    """Seconds each CREATING/UPDATING/DELETING lasts (the launcher's --delay)."""
    global DELAY
    DELAY = max(0.0, delay)


# ------------------------------------------------------------------ state


@dataclass
class Policy:
    id: str
    name: str
    engine_id: str
    arn: str
    definition: dict  # the union as given: {"cedar": {"statement": ...}}
    description: str | None
    enforcement: str
    created: float
    updated: float
    status: str
    since: float  # when the current status was entered
    reasons: list[str] = field(default_factory=list)  # once failed
    pending: list[str] = field(default_factory=list)  # findings, reported when CREATING/UPDATING ends

    def view(self) -> dict:
        return {
            "policyId": self.id,
            "name": self.name,
            "policyEngineId": self.engine_id,
            "createdAt": self.created,
            "updatedAt": self.updated,
            "policyArn": self.arn,
            "status": self.status,
            "enforcementMode": self.enforcement,
            "definition": self.definition,
            "description": self.description,
            "statusReasons": list(self.reasons),
        }


@dataclass
class Engine:
    id: str
    name: str
    arn: str
    description: str | None
    encryption_key: str | None
    created: float
    updated: float
    status: str
    since: float
    tags: dict[str, str]
    policies: dict[str, Policy] = field(default_factory=dict)  # by id

    def view(self) -> dict:
        return {
            "policyEngineId": self.id,
            "name": self.name,
            "createdAt": self.created,
            "updatedAt": self.updated,
            "policyEngineArn": self.arn,
            "status": self.status,
            "encryptionKeyArn": self.encryption_key,
            "description": self.description,
            "statusReasons": [],
        }

    def policy(self, policy_id: str) -> Policy:
        found = self.policies.get(policy_id)
        if found is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Policy {policy_id} not found in policy engine {self.id}",
            )
        return found


def _settled(resource, now: float) -> bool:
    """Ends a transient status that has lasted DELAY (ACTIVE, or for a
    policy with findings CREATE_FAILED/UPDATE_FAILED); False once DELETING
    ends."""
    if resource.status in TRANSIENT and now - resource.since >= DELAY:
        if resource.status == "DELETING":
            return False
        pending = getattr(resource, "pending", [])
        if pending:
            failed = "CREATE_FAILED" if resource.status == "CREATING" else "UPDATE_FAILED"
            resource.status, resource.reasons = failed, list(pending)
            resource.pending = []
        else:
            resource.status = "ACTIVE"
            if hasattr(resource, "reasons"):
                resource.reasons = []
        resource.since = now
    return True


@dataclass
class Store:
    """One account's policy engines in one region, by id, in creation order."""

    account: str
    region: str
    engines: dict[str, Engine] = field(default_factory=dict)

    def settle(self) -> None:
        now = time.time()
        for engine in list(self.engines.values()):
            for policy in list(engine.policies.values()):
                if not _settled(policy, now):
                    del engine.policies[policy.id]
            if not _settled(engine, now):
                del self.engines[engine.id]

    def engine(self, engine_id: str) -> Engine:
        found = self.engines.get(engine_id)
        if found is None:
            raise ServiceError("ResourceNotFoundException", f"Policy engine {engine_id} not found")
        return found

    def by_arn(self, arn: str) -> Engine:
        for engine in self.engines.values():
            if engine.arn == arn:
                return engine
        raise ServiceError("ResourceNotFoundException", f"Resource not found: {arn}")


_STORES: dict[tuple[str, str], Store] = {}


def _store(account: str, region: str) -> Store:
    """The caller's state, with every status due to change changed."""
    store = _STORES.setdefault((account, region), Store(account, region))
    store.settle()
    return store


def _new_id(name: str, taken) -> str:
    while True:
        candidate = f"{name}-{''.join(_random.choices(_ID_CHARS, k=10))}"
        if candidate not in taken:
            return candidate


def _writable(kind: str, resource) -> None:
    if resource.status != "ACTIVE" and not resource.status.endswith("_FAILED"):
        raise ServiceError(
            "ConflictException",
            f"{kind} {resource.id} is {resource.status}; it must be ACTIVE (or failed)",
        )


def _description(current: str | None, params: dict) -> str | None:
    """PATCH semantics of the model's ``UpdatedDescription`` wrapper."""
    if "description" not in params:
        return current
    return params["description"].get("optionalValue")


def _gateways(store: Store):
    from moto.bedrockagentcorecontrol.models import bedrockagentcorecontrol_backends

    return bedrockagentcorecontrol_backends[store.account][store.region]


def _arn(store: Store, resource: str) -> str:
    from moto.utilities.utils import get_partition

    return (
        f"arn:{get_partition(store.region)}:bedrock-agentcore:{store.region}:"
        f"{store.account}:{resource}"
    )


# ------------------------------------------------------------------ Cedar


class _Syntax(Exception):
    pass


_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<number>[0-9]+)
      | (?P<op>::|==|!=|<=|>=|&&|\|\||[-+*%<>!.,;:@()\[\]{}])""",
    re.X | re.S,
)
_PAIRS = {"(": ")", "[": "]", "{": "}"}


def _tokens(statement: str) -> list[tuple[str, str, int]]:
    """(kind, text, offset) of each token; raises _Syntax."""
    out, at = [], 0
    while at < len(statement):
        found = _TOKEN.match(statement, at)
        if found is None:
            what = "unterminated string literal" if statement[at] == '"' else (
                f"unexpected character {statement[at]!r}")
            raise _Syntax(f"{what} at offset {at}")
        if found.lastgroup != "space":
            out.append((found.lastgroup, found.group(), at))
        at = found.end()
    return out


def _close(tokens, i: int) -> int:
    """Index after the bracket matching the opener at `i`; raises _Syntax."""
    stack = []
    for j in range(i, len(tokens)):
        kind, text, at = tokens[j]
        if kind != "op":
            continue
        if text in _PAIRS:
            stack.append(_PAIRS[text])
        elif text in _PAIRS.values():
            if text != stack[-1]:
                raise _Syntax(f"unbalanced {text!r} at offset {at}")
            stack.pop()
            if not stack:
                return j + 1
    raise _Syntax(f"unclosed {tokens[i][1]!r} at offset {tokens[i][2]}")


def _policies(statement: str) -> list[list[tuple[str, str, int]]]:
    """The statement's policies, each its tokens; raises _Syntax."""
    tokens = _tokens(statement)
    policies, i = [], 0

    def text(j):
        return tokens[j][1] if j < len(tokens) else None

    def expect(j, wanted, what):
        if text(j) != wanted:
            where = f"offset {tokens[j][2]}, found {text(j)!r}" if j < len(tokens) else "the end"
            raise _Syntax(f"expected {what} at {where}")

    while i < len(tokens):
        start = i
        while text(i) == "@":
            if i + 1 >= len(tokens) or tokens[i + 1][0] != "ident":
                raise _Syntax(f"expected an annotation name at offset {tokens[i][2]}")
            expect(i + 2, "(", "'(' after the annotation name")
            if i + 3 >= len(tokens) or tokens[i + 3][0] != "string":
                raise _Syntax(f"expected the annotation's string at offset {tokens[i][2]}")
            expect(i + 4, ")", "')' after the annotation's string")
            i += 5
        if text(i) not in ("permit", "forbid"):
            where = f"offset {tokens[i][2]}, found {text(i)!r}" if i < len(tokens) else "the end"
            raise _Syntax(f"expected permit or forbid at {where}")
        expect(i + 1, "(", f"'(' after {text(i)}")
        i = _close(tokens, i + 1)
        while text(i) in ("when", "unless"):
            expect(i + 1, "{", f"'{{' after {text(i)}")
            i = _close(tokens, i + 1)
        expect(i, ";", f"';' at the end of policy {len(policies) + 1}")
        i += 1
        policies.append(tokens[start:i])
    if not policies:
        raise _Syntax("the statement has no policy")
    return policies


def _unescape(literal: str) -> str:
    def one(m):
        c = m.group(1)
        if c.startswith("u{"):
            return chr(int(c[2:-1], 16))
        return {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}.get(c, c)

    return re.sub(r"\\(u\{[0-9a-fA-F]{1,6}\}|.)", one, literal[1:-1], flags=re.S)


def _entities(tokens, kind: str) -> list[str]:
    """The ids of every ``AgentCore::KIND::"id"`` among `tokens`, in order."""
    out = []
    for j in range(len(tokens) - 4):
        window = [t[1] for t in tokens[j : j + 4]]
        if window == ["AgentCore", "::", kind, "::"] and tokens[j + 4][0] == "string":
            out.append(_unescape(tokens[j + 4][1]))
    return list(dict.fromkeys(out))


def _openapi_operations(payload: str) -> set[str]:
    try:
        document = json.loads(payload)
    except ValueError:
        try:
            import yaml

            document = yaml.safe_load(payload)
        except Exception:
            return set()
    paths = document.get("paths") if isinstance(document, dict) else None
    operations = set()
    for item in (paths or {}).values():
        for method, operation in (item or {}).items() if isinstance(item, dict) else ():
            if isinstance(operation, dict) and "operationId" in operation:
                operations.add(operation["operationId"])
    return operations


def _tools(backend, gateway) -> dict[str, set[str] | None]:
    """Target name -> its tool names (None: any name) for a moto gateway."""
    tools = {}
    for (gateway_id, _), target in backend.gateway_targets.items():
        if gateway_id != gateway.gateway_id:
            continue
        mcp = (target.target_configuration or {}).get("mcp") or {}
        inline = ((mcp.get("lambda") or {}).get("toolSchema") or {}).get("inlinePayload")
        openapi = (mcp.get("openApiSchema") or {}).get("inlinePayload")
        if inline is not None:
            tools[target.name] = {t.get("name") for t in inline}
        elif openapi is not None:
            tools[target.name] = _openapi_operations(openapi)
        else:
            tools[target.name] = None
    return tools


def _is_tool(tools: dict[str, set[str] | None], action: str) -> bool:
    target, sep, tool = action.partition("___")
    if not sep or target not in tools:
        return False
    return tools[target] is None or tool in tools[target]


def _findings(store: Store, statement: str, mode: str) -> list[str]:
    try:
        policies = _policies(statement)
    except _Syntax as e:
        return [f"the statement does not parse: {e}"]
    if mode == "IGNORE_ALL_FINDINGS":
        return []
    backend = _gateways(store)
    gateways = {g.gateway_arn: g for g in backend.gateways.values()}
    findings = []
    for tokens in policies:
        named = _entities(tokens, "Gateway")
        findings += [
            f'Unknown gateway AgentCore::Gateway::"{arn}": no such gateway in '
            f"account {store.account}, region {store.region}"
            for arn in named if arn not in gateways
        ]
        known = [gateways[arn] for arn in named if arn in gateways]
        for action in _entities(tokens, "Action"):
            if not named:
                findings.append(
                    f'AgentCore::Action::"{action}" needs a specific gateway: its policy '
                    "names no AgentCore::Gateway"
                )
                continue
            tools = [(g, _tools(backend, g)) for g in known]
            if tools and not any(_is_tool(t, action) for _, t in tools):
                offered = sorted(
                    f"{target}___{tool}"
                    for _, t in tools
                    for target, names in t.items()
                    for tool in (sorted(names) if names is not None else ["*"])
                )
                findings.append(
                    f'Unknown action AgentCore::Action::"{action}": not a tool of gateway '
                    f"{', '.join(g.gateway_arn for g, _ in tools)} "
                    f"(its tools: {', '.join(offered) or 'none'})"
                )
    return list(dict.fromkeys(findings))


def _definition(store: Store, definition: dict, mode: str) -> tuple[dict, list[str]]:
    """The definition to keep and its findings (reported once the write's
    status ends); raises ServiceError."""
    (member, value), = definition.items()
    if member == "policyGeneration":
        raise ServiceError(
            "ResourceNotFoundException",
            f"Policy generation {value['policyGenerationId']} not found",
        )
    findings = _findings(store, value["statement"], mode)
    reasons = ["Policy validation failed: " + f for f in findings]
    return {member: {"statement": value["statement"]}}, reasons


# ------------------------------------------------------------- operations


def create_engine(store: Store, params: dict) -> dict:
    name = params["name"]
    if any(e.name == name for e in store.engines.values()):
        raise ServiceError("ConflictException", f"Policy engine with name {name} already exists")
    engine_id = _new_id(name, store.engines)
    now = time.time()
    engine = Engine(
        id=engine_id,
        name=name,
        arn=_arn(store, f"policy-engine/{engine_id}"),
        description=params.get("description"),
        encryption_key=params.get("encryptionKeyArn"),
        created=now,
        updated=now,
        status="CREATING",
        since=now,
        tags=dict(params.get("tags") or {}),
    )
    store.engines[engine_id] = engine
    return engine.view()


def get_engine(store: Store, params: dict) -> dict:
    return store.engine(params["policyEngineId"]).view()


def update_engine(store: Store, params: dict) -> dict:
    engine = store.engine(params["policyEngineId"])
    _writable("Policy engine", engine)
    engine.description = _description(engine.description, params)
    engine.updated = engine.since = time.time()
    engine.status = "UPDATING"
    return engine.view()


def delete_engine(store: Store, params: dict) -> dict:
    engine = store.engine(params["policyEngineId"])
    _writable("Policy engine", engine)
    if engine.policies:
        raise ServiceError(
            "ConflictException",
            f"Policy engine {engine.id} still has {len(engine.policies)} policies; "
            "delete them first",
        )
    attached = [
        g.gateway_id
        for g in _gateways(store).gateways.values()
        if (g.policy_engine_configuration or {}).get("arn") == engine.arn
    ]
    if attached:
        raise ServiceError(
            "ConflictException",
            f"Policy engine {engine.id} is associated with gateway(s) {', '.join(attached)}; "
            "remove it from their policyEngineConfiguration first",
        )
    engine.status, engine.since = "DELETING", time.time()
    return engine.view()


def list_engines(store: Store, params: dict) -> dict:
    return paginate([e.view() for e in store.engines.values()], params, "policyEngines", PAGE)


def create_policy(store: Store, params: dict) -> dict:
    engine = store.engine(params["policyEngineId"])
    _writable("Policy engine", engine)
    name = params["name"]
    if any(p.name == name for p in engine.policies.values()):
        raise ServiceError(
            "ConflictException",
            f"Policy with name {name} already exists in policy engine {engine.id}",
        )
    definition, findings = _definition(
        store, params["definition"], params.get("validationMode", "FAIL_ON_ANY_FINDINGS")
    )
    policy_id = _new_id(name, engine.policies)
    now = time.time()
    policy = Policy(
        id=policy_id,
        name=name,
        engine_id=engine.id,
        arn=f"{engine.arn}/policy/{policy_id}",
        definition=definition,
        description=params.get("description"),
        enforcement=params.get("enforcementMode", "ACTIVE"),
        created=now,
        updated=now,
        status="CREATING",
        since=now,
        pending=findings,
    )
    engine.policies[policy_id] = policy
    return policy.view()


def get_policy(store: Store, params: dict) -> dict:
    return store.engine(params["policyEngineId"]).policy(params["policyId"]).view()


def update_policy(store: Store, params: dict) -> dict:
    engine = store.engine(params["policyEngineId"])
    policy = engine.policy(params["policyId"])
    _writable("Policy engine", engine)
    _writable("Policy", policy)
    policy.pending = []
    if "definition" in params:
        policy.definition, policy.pending = _definition(
            store, params["definition"], params.get("validationMode", "FAIL_ON_ANY_FINDINGS")
        )
    policy.description = _description(policy.description, params)
    policy.enforcement = params.get("enforcementMode", policy.enforcement)
    policy.updated = policy.since = time.time()
    policy.status = "UPDATING"
    return policy.view()


def delete_policy(store: Store, params: dict) -> dict:
    engine = store.engine(params["policyEngineId"])
    policy = engine.policy(params["policyId"])
    _writable("Policy engine", engine)
    _writable("Policy", policy)
    policy.status, policy.since = "DELETING", time.time()
    return policy.view()


def _names_gateway(policy: Policy, arn: str) -> bool:
    (value,) = policy.definition.values()
    try:
        tokens = [t for p in _policies(value["statement"]) for t in p]
    except _Syntax:
        return False
    return arn in _entities(tokens, "Gateway")


def list_policies(store: Store, params: dict) -> dict:
    engine = store.engine(params["policyEngineId"])
    policies = list(engine.policies.values())
    scope = params.get("targetResourceScope")
    if scope is not None:
        policies = [p for p in policies if _names_gateway(p, scope)]
    return paginate([p.view() for p in policies], params, "policies", PAGE)


def tag_resource(store: Store, params: dict) -> None:
    store.by_arn(params["resourceArn"]).tags.update(params["tags"])


def untag_resource(store: Store, params: dict) -> None:
    tags = store.by_arn(params["resourceArn"]).tags
    for key in params["tagKeys"]:
        tags.pop(key, None)


def list_tags_for_resource(store: Store, params: dict) -> dict:
    return {"tags": dict(store.by_arn(params["resourceArn"]).tags)}


HANDLERS = {
    "CreatePolicyEngine": create_engine,
    "GetPolicyEngine": get_engine,
    "UpdatePolicyEngine": update_engine,
    "DeletePolicyEngine": delete_engine,
    "ListPolicyEngines": list_engines,
    "CreatePolicy": create_policy,
    "GetPolicy": get_policy,
    "UpdatePolicy": update_policy,
    "DeletePolicy": delete_policy,
    "ListPolicies": list_policies,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}

register(
    Backend(
        "policy",
        HANDLERS,
        _store,
        _STORES.clear,
        ENGINE_ARN,
        anchored=frozenset({"PolicyEngineName", "PolicyName"}),
    )
)
