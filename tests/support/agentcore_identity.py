"""AgentCore Identity's credential providers for agentform's tests, served by
the moto launcher.

moto implements AgentCore gateways, runtimes and memories but not the
Identity credential-provider APIs of ``bedrock-agentcore-control``. This
module answers them, as WSGI routes in front of moto's app (``wrap(app)``):
Create/Get/Update/Delete/List of API-key and of OAuth2 credential providers,
and TagResource, UntagResource and ListTagsForResource for those providers'
ARNs only. Every other request, other tag requests included (moto routes
``/tags/{resourceArn}`` signed for ``bedrock-agentcore`` to its control
plane's tagger), reaches moto unchanged.

The wire layer below is shared: other modules register a ``Backend`` (its
operations, its own per-(account, region) state, its reset, and the ARNs
whose tag operations are its), and ``wrap(app)`` serves every backend
registered by then, through the same validation, rendering, errors, lock
and violations list. ``agentcore_policy.py`` (policy engines and Cedar
policies) is the other one.

Wire format: from botocore's service model, not hard-coded. Each
operation's method and URI template, each input member's location (uri,
querystring, header, JSON body), the success status, the output shapes
(members by their wire names; timestamps in the shape's
``timestampFormat``, else the protocol's default ``unixTimestamp``: the
credential-provider shapes name no format, the policy shapes say
``iso8601``, sent as ``YYYY-MM-DDTHH:MM:SS.mmmZ``) and each error's HTTP
status all come from ``get_service_model("bedrock-agentcore-control")``.

* Requests are read back into the operation's parameters by those
  locations (unknown body keys kept, so the validator reports them) and
  checked with botocore's ``ParamValidator``, extended (``ModelValidator``)
  with what the service checks and botocore does not: maximum lengths and
  values, patterns and enums (a backend may name shapes whose pattern is
  matched whole, ``Backend.anchored``). A failure answers 400
  ValidationException (reason ``FieldValidationFailed``, or ``CannotParse``
  for a body that is not a JSON object) with the validator's report as
  ``message``, and is appended to a process-wide list served read-only at
  ``GET /agentform-test/identity/violations`` (a JSON list of
  ``{"operation", "message"}``; nothing is ever removed, not even by
  ``/moto-api/reset``), so a test can
  assert that nothing agentform sent broke the model.
* Errors are rest-json errors: ``x-amzn-ErrorType`` and a JSON body of the
  error shape's members (``message``, and ``reason`` for ValidationException).
* Responses are rendered through the output shape: members the shape does
  not have are left out (so no secret value is ever returned), and a
  required member missing is an emulator bug (500).
* Requests need a SigV4 ``Authorization`` header (403 as on AWS without
  one); its scope gives the region. The signature is not checked, as moto
  checks none on the control plane. The account is the one moto would put
  the caller in (``MOTO_ACCOUNT_ID``, ``x-moto-account-id``, then moto's
  ``get_account_id_from(access key)``: the role's account for keys its STS
  issued, else ``DEFAULT_ACCOUNT_ID``), so a secret lands where the same
  caller's GetSecretValue looks. (``agentcore_dataplane._secret_for`` is
  an authentication step, refusing unknown keys, so it is not reused.)
* State is per account and region, under one lock; ``POST /moto-api/reset``
  clears it (every backend's) together with moto's.

What AWS does beyond the model, and where that was found:

* ARNs are ``arn:aws:bedrock-agentcore:REGION:ACCOUNT:token-vault/default/``
  ``apikeycredentialprovider/NAME`` (``oauth2credentialprovider`` for
  OAuth2): the service name seen in AWS's samples and checked by the
  Terraform AWS provider's acceptance tests
  (hashicorp/terraform-provider-aws, ``internal/service/bedrockagentcore/``
  ``api_key_credential_provider_test.go``), and the only one
  TagResource's ``TaggableResourcesArn`` pattern admits; the output
  shapes' own patterns say ``acps``, which nothing returns.
* Names are unique per account, region and kind. A duplicate is
  ValidationException (400), message ``Credential provider with name: NAME
  already exists``, not ConflictException: reported from live AWS by
  several public projects (code comments "AgentCore reports a duplicate
  provider name as a ValidationException, not a ConflictException",
  "(ValidationException 400)" for ``CfnApiKeyCredentialProvider``) and in
  aws/agentcore-cli issue #1559 (the same 400 message for the token
  vault's payment providers). The ``reason`` sent with it here,
  ``ResourceConflict``, is the model's enum value for it; not observed.
* A provider that does not exist: ResourceNotFoundException (404),
  ``ApiKeyCredentialProvider not found for NAME`` (the error
  aws/agentcore-cli issue #2093 quotes; ``Oauth2CredentialProvider ...``
  by analogy). Tag requests for a provider ARN nobody has: 404 too.
* Secrets: a provider given ``apiKey`` (OAuth2: ``clientSecret``) keeps it
  in a service-managed Secrets Manager secret of the caller's account and
  region, created in moto's ``secretsmanager`` backend in-process, named
  ``bedrock-agentcore-identity!default/apikey/NAME`` (OAuth2:
  ``.../oauth2/NAME``; Secrets Manager adds the ``-XXXXXX`` ARN suffix).
  The name is the one AWS's samples grant and clean up
  (awslabs/amazon-bedrock-agentcore-samples,
  ``02-use-cases/site-reliability-agent-workshop/lab_helpers/lab_03/``
  ``cleanup.py``: "OAuth2 provider creates secrets with pattern:
  bedrock-agentcore-identity!default/oauth2/..."; IAM policies of public
  projects grant ``secret:bedrock-agentcore-identity!default/apikey/*``
  likewise). The API key's
  JSON is ``{"api_key_value": KEY}``, the key AWS's SRE-agent sample reads
  (same repository, ``02-use-cases/SRE-agent/backend/servers/``
  ``retrieve_api_key.py``). For OAuth2 nothing authoritative was found:
  ``{"client_secret": SECRET}`` is this emulator's choice (empty when the
  config has no client secret: the outputs always name a secret). Outputs give
  ``apiKeySecretArn``/``clientSecretArn`` ``{"secretArn"}``,
  ``...SecretJsonKey`` and ``...SecretSource`` (``MANAGED``). A provider
  given ``apiKeySecretConfig``/``clientSecretConfig`` instead refers to
  that existing secret (``EXTERNAL``, its ARN and ``jsonKey``), which it
  never writes or deletes (400 if moto does not have it).
* Update replaces the whole configuration and writes a new value into the
  same secret (PutSecretValue); an OAuth2 update that gives no client
  secret keeps the stored one. Delete removes the provider, its tags and
  its managed secret, at once and without a recovery window. A managed
  secret that cannot be created (its name taken) is ConflictException,
  the error AWS's SRE-agent sample retries on for Secrets Manager.
* OAuth2 outputs: ``oauth2ProviderConfigOutput`` is the input's config
  without its secret members; vendor configs, which the input gives no
  endpoints for, get the vendor's published OAuth endpoints as
  ``oauthDiscovery`` (``VENDOR_DISCOVERY``; included providers: their
  given issuer and endpoints). ``callbackUrl`` is
  ``https://bedrock-agentcore.REGION.amazonaws.com/identities/oauth2/``
  ``callback/UUID``, one UUID per provider (AgentCore developer guide, the
  Google and FusionAuth provider pages), and ``status`` is READY.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from http import HTTPStatus
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote

from botocore.validate import ParamValidator, ValidationErrors

from agentcore_dataplane import Refused, _headers, _read_body

SERVICE = "bedrock-agentcore-control"
VIOLATIONS_PATH = "/agentform-test/identity/violations"
RESET_PATH = "/moto-api/reset"
SECRET_PREFIX = "bedrock-agentcore-identity!default"

# Kind -> (ARN resource type, secret path segment, output prefix, JSON key).
KINDS = {
    "ApiKey": ("apikeycredentialprovider", "apikey", "apiKey", "api_key_value"),
    "Oauth2": ("oauth2credentialprovider", "oauth2", "client", "client_secret"),
}
PROVIDER_ARN = re.compile(
    r"arn:[^:]+:bedrock-agentcore:[^:]+:[0-9]{12}:token-vault/default/"
    r"(apikey|oauth2)credentialprovider/[^/]+"
)

# The vendors' own published OAuth endpoints, per input config member.
VENDOR_DISCOVERY = {
    "googleOauth2ProviderConfig": {
        "discoveryUrl": "https://accounts.google.com/.well-known/openid-configuration"
    },
    "salesforceOauth2ProviderConfig": {
        "discoveryUrl": "https://login.salesforce.com/.well-known/openid-configuration"
    },
    "slackOauth2ProviderConfig": {
        "discoveryUrl": "https://slack.com/.well-known/openid-configuration"
    },
    "linkedinOauth2ProviderConfig": {
        "discoveryUrl": "https://www.linkedin.com/oauth/.well-known/openid-configuration"
    },
    "githubOauth2ProviderConfig": {
        "authorizationServerMetadata": {
            "issuer": "https://github.com",
            "authorizationEndpoint": "https://github.com/login/oauth/authorize",
            "tokenEndpoint": "https://github.com/login/oauth/access_token",
        }
    },
    "atlassianOauth2ProviderConfig": {
        "authorizationServerMetadata": {
            "issuer": "https://auth.atlassian.com",
            "authorizationEndpoint": "https://auth.atlassian.com/authorize",
            "tokenEndpoint": "https://auth.atlassian.com/oauth/token",
        }
    },
}
INCLUDED_ENDPOINTS = ("issuer", "authorizationEndpoint", "tokenEndpoint")

VIOLATIONS: list[dict[str, str]] = []
_LOCK = threading.Lock()
_MODEL = None
_ROUTES: list[tuple[Any, re.Pattern]] = []  # (operation model, URI regex)


class ServiceError(Refused):
    """An error of the service model, with its status and body members."""

    def __init__(self, code: str, message: str, **members: str):
        status = _model().shape_for(code).metadata["error"]["httpStatusCode"]
        super().__init__(status, code, message)
        self.members = members


def _model():
    global _MODEL
    if _MODEL is None:
        import botocore.session

        _MODEL = botocore.session.get_session().get_service_model(SERVICE)
    return _MODEL


# ------------------------------------------------------------------ state


@dataclass
class Provider:
    kind: str
    name: str
    arn: str
    created: float
    updated: float
    secret_arn: str
    json_key: str | None
    source: str  # MANAGED or EXTERNAL
    tags: dict[str, str]
    vendor: str | None = None
    config: dict | None = None  # the OAuth2 input union, as given
    callback: str | None = None

    def view(self) -> dict:
        """Every output member this provider has; each output shape picks its own."""
        _, _, prefix, _ = KINDS[self.kind]
        out = {
            "name": self.name,
            "credentialProviderArn": self.arn,
            "createdTime": self.created,
            "lastUpdatedTime": self.updated,
            f"{prefix}SecretArn": {"secretArn": self.secret_arn},
            f"{prefix}SecretJsonKey": self.json_key,
            f"{prefix}SecretSource": self.source,
        }
        if self.kind == "Oauth2":
            (member, config), = self.config.items()
            out.update(
                credentialProviderVendor=self.vendor,
                oauth2ProviderConfigOutput={member: _config_output(member, config)},
                callbackUrl=self.callback,
                status="READY",
            )
        return out


@dataclass
class Store:
    """One account's providers in one region, by kind and name."""

    account: str
    region: str
    providers: dict[str, dict[str, Provider]] = field(
        default_factory=lambda: {kind: {} for kind in KINDS}
    )

    def get(self, kind: str, name: str) -> Provider:
        provider = self.providers[kind].get(name)
        if provider is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"{kind}CredentialProvider not found for {name}",
            )
        return provider

    def by_arn(self, arn: str) -> Provider:
        for providers in self.providers.values():
            for provider in providers.values():
                if provider.arn == arn:
                    return provider
        raise ServiceError("ResourceNotFoundException", f"Resource not found: {arn}")


_STORES: dict[tuple[str, str], Store] = {}


def _store(account: str, region: str) -> Store:
    return _STORES.setdefault((account, region), Store(account, region))


def _config_output(member: str, config: dict) -> dict:
    """The input config as the output shape has it (the shape drops secrets)."""
    out = dict(config)
    if member == "includedOauth2ProviderConfig":
        out["oauthDiscovery"] = {
            "authorizationServerMetadata": {k: config[k] for k in INCLUDED_ENDPOINTS}
        }
    elif member == "microsoftOauth2ProviderConfig":
        tenant = config.get("tenantId", "common")
        out["oauthDiscovery"] = {
            "discoveryUrl": f"https://login.microsoftonline.com/{tenant}/v2.0/"
            ".well-known/openid-configuration"
        }
    elif member in VENDOR_DISCOVERY:
        out["oauthDiscovery"] = VENDOR_DISCOVERY[member]
    return out


# ---------------------------------------------------------------- secrets


def _secrets(account: str, region: str):
    from moto.secretsmanager.models import secretsmanager_backends

    return secretsmanager_backends[account][region]


def _external_secret(store: Store, reference: dict) -> tuple[str, str]:
    """(ARN, JSON key) of the existing secret a ``SecretReference`` names."""
    from moto.secretsmanager.exceptions import SecretsManagerClientError

    secret_id = reference["secretId"]
    account = secret_id.split(":")[4] if secret_id.startswith("arn:") else store.account
    try:
        secret = _secrets(account, store.region).describe_secret(secret_id)
    except SecretsManagerClientError:
        raise ServiceError(
            "ValidationException",
            f"Secret {secret_id} not found",
            reason="FieldValidationFailed",
        )
    return secret.arn, reference["jsonKey"]


def _put_managed(store: Store, provider: Provider, value: str) -> None:
    """Writes `value` into the provider's managed secret, creating it if needed."""
    from moto.secretsmanager.exceptions import SecretsManagerClientError

    _, segment, _, key = KINDS[provider.kind]
    secrets = _secrets(store.account, store.region)
    document = json.dumps({key: value})
    try:
        if provider.source == "MANAGED":
            secrets.put_secret_value(provider.secret_arn, document, None, None, None)
        else:
            created = secrets.create_secret(
                name=f"{SECRET_PREFIX}/{segment}/{provider.name}",
                secret_string=document,
                secret_binary=None,
                description=None,
                tags=None,
                kms_key_id=None,
                client_request_token=None,
                replica_regions=[],
                force_overwrite=False,
            )
            provider.secret_arn = json.loads(created)["ARN"]
    except SecretsManagerClientError as e:
        raise ServiceError(
            "ConflictException", f"SecretsManager could not store the secret: {e.message}"
        )
    provider.source, provider.json_key = "MANAGED", key


def _drop_managed(store: Store, provider: Provider) -> None:
    """Force-deletes the provider's managed secret (gone already: nothing to do)."""
    from moto.secretsmanager.exceptions import SecretsManagerClientError

    if provider.source != "MANAGED":
        return
    try:
        _secrets(store.account, store.region).delete_secret(provider.secret_arn, None, True)
    except SecretsManagerClientError:
        pass


def _set_secret(store: Store, provider: Provider, value: str | None,
                reference: dict | None) -> None:
    """Points the provider at its new secret: a value to keep, or a reference."""
    if value is not None:
        _put_managed(store, provider, value)
    elif reference is not None:
        arn, key = _external_secret(store, reference)
        _drop_managed(store, provider)
        provider.secret_arn, provider.json_key, provider.source = arn, key, "EXTERNAL"


# ------------------------------------------------------------- operations


def _new(store: Store, kind: str, name: str, tags: dict | None) -> Provider:
    if name in store.providers[kind]:
        raise ServiceError(
            "ValidationException",
            f"Credential provider with name: {name} already exists",
            reason="ResourceConflict",
        )
    from moto.utilities.utils import get_partition

    resource, _, _, _ = KINDS[kind]
    now = time.time()
    return Provider(
        kind=kind,
        name=name,
        arn=f"arn:{get_partition(store.region)}:bedrock-agentcore:{store.region}:"
        f"{store.account}:token-vault/default/{resource}/{name}",
        created=now,
        updated=now,
        secret_arn="",
        json_key=None,
        source="",
        tags=dict(tags or {}),
    )


def _api_key_secret(params: dict) -> tuple[str | None, dict | None]:
    value, reference = params.get("apiKey"), params.get("apiKeySecretConfig")
    if (value is None) == (reference is None):
        raise ServiceError(
            "ValidationException",
            "Exactly one of apiKey and apiKeySecretConfig must be given",
            reason="FieldValidationFailed",
        )
    return value, reference


def _oauth2_config(params: dict) -> tuple[str, dict]:
    (member, config), = params["oauth2ProviderConfigInput"].items()
    if "clientSecret" in config and "clientSecretConfig" in config:
        raise ServiceError(
            "ValidationException",
            "clientSecret and clientSecretConfig cannot both be given",
            reason="FieldValidationFailed",
        )
    if member == "includedOauth2ProviderConfig":
        missing = [k for k in INCLUDED_ENDPOINTS if k not in config]
        if missing:
            raise ServiceError(
                "ValidationException",
                f"includedOauth2ProviderConfig needs {', '.join(missing)}",
                reason="FieldValidationFailed",
            )
    return member, config


def create_api_key(store: Store, params: dict) -> dict:
    value, reference = _api_key_secret(params)
    provider = _new(store, "ApiKey", params["name"], params.get("tags"))
    _set_secret(store, provider, value, reference)
    store.providers["ApiKey"][provider.name] = provider
    return provider.view()


def update_api_key(store: Store, params: dict) -> dict:
    provider = store.get("ApiKey", params["name"])
    value, reference = _api_key_secret(params)
    _set_secret(store, provider, value, reference)
    provider.updated = time.time()
    return provider.view()


def create_oauth2(store: Store, params: dict) -> dict:
    member, config = _oauth2_config(params)
    provider = _new(store, "Oauth2", params["name"], params.get("tags"))
    reference = config.get("clientSecretConfig")
    # Managed even without a client secret: the output always has its ARN.
    value = None if reference is not None else config.get("clientSecret", "")
    _set_secret(store, provider, value, reference)
    provider.vendor = params["credentialProviderVendor"]
    provider.config = {member: config}
    provider.callback = (
        f"https://bedrock-agentcore.{store.region}.amazonaws.com/identities/oauth2/"
        f"callback/{uuid.uuid4()}"
    )
    store.providers["Oauth2"][provider.name] = provider
    return provider.view()


def update_oauth2(store: Store, params: dict) -> dict:
    provider = store.get("Oauth2", params["name"])
    member, config = _oauth2_config(params)
    _set_secret(store, provider, config.get("clientSecret"), config.get("clientSecretConfig"))
    provider.vendor = params["credentialProviderVendor"]
    provider.config = {member: config}
    provider.updated = time.time()
    return provider.view()


def get_provider(kind: str, store: Store, params: dict) -> dict:
    return store.get(kind, params["name"]).view()


def delete_provider(kind: str, store: Store, params: dict) -> None:
    provider = store.get(kind, params["name"])
    _drop_managed(store, provider)
    del store.providers[kind][provider.name]


def paginate(items: list, params: dict, member: str, default: int) -> dict:
    """One page of `items` (already in their order) under `member`: at most
    ``maxResults`` (else `default`) of them; the token is the next page's
    offset."""
    size = params.get("maxResults", default)
    token = params.get("nextToken", "0")
    if not token.isdigit() or int(token) > len(items):
        raise ServiceError(
            "ValidationException", f"Invalid nextToken: {token}", reason="FieldValidationFailed"
        )
    start = int(token)
    page = {member: items[start : start + size]}
    if start + size < len(items):
        page["nextToken"] = str(start + size)
    return page


def list_providers(kind: str, store: Store, params: dict) -> dict:
    """One page, in creation order (by default as many as the model allows)."""
    request = _model().operation_model(f"List{kind}CredentialProviders").input_shape
    views = [p.view() for p in store.providers[kind].values()]
    return paginate(views, params, "credentialProviders",
                    request.members["maxResults"].metadata["max"])


def tag_resource(store: Store, params: dict) -> None:
    store.by_arn(params["resourceArn"]).tags.update(params["tags"])


def untag_resource(store: Store, params: dict) -> None:
    tags = store.by_arn(params["resourceArn"]).tags
    for key in params["tagKeys"]:
        tags.pop(key, None)


def list_tags_for_resource(store: Store, params: dict) -> dict:
    return {"tags": dict(store.by_arn(params["resourceArn"]).tags)}


HANDLERS = {
    "CreateApiKeyCredentialProvider": create_api_key,
    "GetApiKeyCredentialProvider": partial(get_provider, "ApiKey"),
    "UpdateApiKeyCredentialProvider": update_api_key,
    "DeleteApiKeyCredentialProvider": partial(delete_provider, "ApiKey"),
    "ListApiKeyCredentialProviders": partial(list_providers, "ApiKey"),
    "CreateOauth2CredentialProvider": create_oauth2,
    "GetOauth2CredentialProvider": partial(get_provider, "Oauth2"),
    "UpdateOauth2CredentialProvider": update_oauth2,
    "DeleteOauth2CredentialProvider": partial(delete_provider, "Oauth2"),
    "ListOauth2CredentialProviders": partial(list_providers, "Oauth2"),
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}


# --------------------------------------------------------------- backends


@dataclass
class Backend:
    """A set of operations this wire layer serves, with its own state."""

    name: str
    handlers: dict[str, Callable[[Any, dict], Any]]  # operation -> f(store, params)
    store: Callable[[str, str], Any]  # (account, region) -> that state
    reset: Callable[[], None]  # called, under the lock, on /moto-api/reset
    tagged: re.Pattern  # ARNs whose TagResource/UntagResource/ListTags... are its
    anchored: frozenset[str] = frozenset()  # shapes whose pattern must match whole


BACKENDS: list[Backend] = []
ANCHORED: set[str] = set()


def register(backend: Backend) -> None:
    """Adds `backend` (once per name); ``wrap`` routes what is registered."""
    if any(b.name == backend.name for b in BACKENDS):
        return
    BACKENDS.append(backend)
    ANCHORED.update(backend.anchored)
    if _ROUTES:  # already wrapped: route the new operations too
        _build_routes()


register(Backend("identity", HANDLERS, _store, _STORES.clear, PROVIDER_ARN))


# ------------------------------------------------------------------- wire


def _uri_pattern(template: str) -> re.Pattern:
    """A model ``requestUri`` as a regex over the raw (still encoded) path."""
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)))


def _build_routes() -> None:
    model = _model()
    names = dict.fromkeys(name for b in BACKENDS for name in b.handlers)
    _ROUTES[:] = [
        (op, _uri_pattern(op.http["requestUri"])) for op in map(model.operation_model, names)
    ]


def _match(environ) -> tuple[Any, dict[str, str], Backend] | None:
    """(operation model, URI labels, backend) when the request is one of ours."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or quote(environ["PATH_INFO"])
    path = raw.split("?")[0]
    for op, pattern in _ROUTES:
        found = pattern.fullmatch(path)
        if found is None or op.http["method"] != environ.get("REQUEST_METHOD"):
            continue
        labels = {k: unquote(v) for k, v in found.groupdict().items()}
        if "resourceArn" in labels:
            # Tags of a resource no backend has (gateways, runtimes...) are moto's.
            owners = [b for b in BACKENDS if b.tagged.fullmatch(labels["resourceArn"])]
        else:
            owners = [b for b in BACKENDS if op.name in b.handlers]
        return (op, labels, owners[0]) if owners else None
    return None


def _caller(environ) -> tuple[str, str]:
    """(account, region) of a SigV4-signed request (signature not checked)."""
    from moto.iam.models import get_account_id_from

    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = re.search(r"Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/aws4_request", auth)
    if not auth.startswith("AWS4-HMAC-SHA256 ") or scope is None:
        raise Refused(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    access_key, region, service = scope.groups()
    if service != _model().signing_name:
        raise Refused(
            403,
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{_model().signing_name}'.",
        )
    account = (
        os.environ.get("MOTO_ACCOUNT_ID")
        or environ.get("HTTP_X_MOTO_ACCOUNT_ID")
        or get_account_id_from(access_key)
    )
    return account, region


class _Report(ValidationErrors):
    """botocore's report, plus the errors only ``ModelValidator`` finds."""

    def _format_error(self, error):
        kind, name, extra = error
        name = self._get_name(name)
        if kind == "above max":
            return (
                f"Invalid {extra['what']} for parameter {name}, value: "
                f"{extra['param']}, valid max {extra['what']}: {extra['max_allowed']}"
            )
        if kind == "pattern mismatch":
            return (
                f"Invalid value for parameter {name}{extra['shown']}, "
                f"must match pattern: {extra['pattern']}"
            )
        if kind == "not in enum":
            return (
                f"Invalid value for parameter {name}, value: {extra['param']}, "
                f"valid values: {', '.join(extra['valid_values'])}"
            )
        return super()._format_error(error)


class ModelValidator(ParamValidator):
    """botocore's client-side checks (types, required and unknown members,
    minimums, unions) plus the constraints the service checks on its side
    and botocore leaves out: maximums, patterns and enums.

    A pattern is searched for, not matched against the whole value: Smithy's
    ``pattern`` trait adds no implicit ``^``/``$`` (smithy-lang/smithy,
    ``docs/source-2.0/spec/constraint-traits.rst``), and this model's
    patterns have none. (Matched whole, ``TaggableResourcesArn`` would
    refuse every ``oauth2credentialprovider`` ARN, which AWS tags: the
    Terraform AWS provider's acceptance tests do.) The shapes a backend
    lists in ``Backend.anchored`` (``ANCHORED``) are matched whole, where
    the service is known to.
    """

    # botocore checks list items one by one only if they have one of these.
    VALIDATED_METADATA_ATTRS = ParamValidator.VALIDATED_METADATA_ATTRS | {
        "max", "pattern", "enum"
    }

    def validate(self, params, shape):
        report = _Report()
        self._validate(params, shape, report, name="")
        return report

    def _above_max(self, name, value, shape, errors, what):
        if "max" in shape.metadata and value > shape.metadata["max"]:
            errors.report(name, "above max", what=what, param=value,
                          max_allowed=shape.metadata["max"])

    def _validate_string(self, param, shape, errors, name):
        super()._validate_string(param, shape, errors, name)
        if not isinstance(param, str):
            return  # reported as a wrong type
        self._above_max(name, len(param), shape, errors, "length")
        pattern = shape.metadata.get("pattern")
        check = re.fullmatch if shape.name in ANCHORED else re.search
        if pattern is not None and check(pattern, param) is None:
            shown = "" if shape.metadata.get("sensitive") else f", value: {param}"
            errors.report(name, "pattern mismatch", shown=shown, pattern=pattern)
        enum = shape.metadata.get("enum")
        if enum is not None and param not in enum:
            errors.report(name, "not in enum", param=param, valid_values=enum)

    def _validate_integer(self, param, shape, errors, name):
        super()._validate_integer(param, shape, errors, name)
        if isinstance(param, int):
            self._above_max(name, param, shape, errors, "value")

    def _validate_list(self, param, shape, errors, name):
        super()._validate_list(param, shape, errors, name)
        if isinstance(param, (list, tuple)):
            self._above_max(name, len(param), shape, errors, "length")

    def _validate_map(self, param, shape, errors, name):
        super()._validate_map(param, shape, errors, name)
        if isinstance(param, dict):
            self._above_max(name, len(param), shape, errors, "length")


def _violation(operation: str, message: str, reason: str) -> ServiceError:
    with _LOCK:
        VIOLATIONS.append({"operation": operation, "message": message})
    return ServiceError("ValidationException", message, reason=reason)


def parse_request(op, labels: dict[str, str], environ, body: bytes) -> dict:
    """The operation's parameters, read from each member's location in the
    model, checked with ``ModelValidator``. Raises ServiceError."""
    document: Any = {}
    if body.strip():
        try:
            document = json.loads(body)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise _violation(op.name, "The request body is not a JSON object", "CannotParse")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    headers = _headers(environ)
    params: dict[str, Any] = {}
    for name, member in op.input_shape.members.items():
        where = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if where == "uri":
            params[name] = labels[wire]
        elif where == "querystring" and wire in query:
            params[name] = query[wire] if member.type_name == "list" else query[wire][0]
            if member.type_name in ("integer", "long") and params[name].lstrip("-").isdigit():
                params[name] = int(params[name])  # else the validator reports its type
        elif where == "header" and wire.lower() in headers:
            params[name] = headers[wire.lower()]
        elif where is None and wire in document:
            params[name] = document.pop(wire)
    params.update(document)  # keys the shape does not have: the validator names them
    report = ModelValidator().validate(params, op.input_shape)
    if report.has_errors():
        raise _violation(op.name, report.generate_report(), "FieldValidationFailed")
    return params


def render(value: Any, shape) -> Any:
    """`value` as `shape` puts it on the wire (rest-json body)."""
    if shape.type_name == "structure":
        missing = [m for m in shape.required_members if value.get(m) is None]
        if missing:
            raise ValueError(f"{shape.name} without its required {missing}")
        return {
            member.serialization.get("name", name): render(value[name], member)
            for name, member in shape.members.items()
            if value.get(name) is not None
        }
    if shape.type_name == "list":
        return [render(v, shape.member) for v in value]
    if shape.type_name == "map":
        return {k: render(v, shape.value) for k, v in value.items()}
    if shape.type_name == "timestamp":
        form = shape.serialization.get("timestampFormat", "unixTimestamp")
        if form == "iso8601":
            at = datetime.fromtimestamp(value, timezone.utc)
            return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        if form != "unixTimestamp":
            raise ValueError(f"timestampFormat {form} is not supported")
    return value


def _send(start_response, status: int, body: Any, headers=()):
    data = b"" if body is None else json.dumps(body).encode()
    out = [("Content-Length", str(len(data))), ("x-amzn-RequestId", str(uuid.uuid4()))]
    if body is not None:
        out.append(("Content-Type", "application/json"))
    start_response(f"{status} {HTTPStatus(status).phrase}", out + list(headers))
    return [data]


def _send_error(start_response, r: Refused):
    body = {"message": r.message}
    if isinstance(r, ServiceError):
        body = render({**body, **r.members}, _model().shape_for(r.error_type))
    return _send(start_response, r.status, body, [("x-amzn-ErrorType", r.error_type)])


def serve(environ, start_response, op, labels: dict[str, str], backend: Backend):
    body = _read_body(environ)
    try:
        account, region = _caller(environ)
        params = parse_request(op, labels, environ, body)
        with _LOCK:
            result = backend.handlers[op.name](backend.store(account, region), params)
    except Refused as r:
        return _send_error(start_response, r)
    shape = op.output_shape
    payload = render(result, shape) if shape is not None and shape.members else None
    return _send(start_response, op.http.get("responseCode", 200), payload)


def serve_violations(environ, start_response):
    if environ.get("REQUEST_METHOD") != "GET":
        return _send(start_response, 405, {"message": "read-only"}, [("Allow", "GET")])
    with _LOCK:
        violations = list(VIOLATIONS)
    return _send(start_response, 200, violations)


def wrap(app):
    _build_routes()

    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == VIOLATIONS_PATH:
            return serve_violations(environ, start_response)
        if path == RESET_PATH and environ.get("REQUEST_METHOD") == "POST":
            with _LOCK:
                for backend in BACKENDS:
                    backend.reset()
            return app(environ, start_response)
        route = _match(environ)
        if route is None:
            return app(environ, start_response)
        return serve(environ, start_response, *route)

    return wrapped
