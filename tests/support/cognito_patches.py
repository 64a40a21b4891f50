"""Where moto's Cognito user pools differ from AWS in ways agentform relies on.

Each patch makes moto answer as AWS does (Amazon Cognito API reference):

* TagResource, UntagResource and ListTagsForResource work on user pool ARNs
  (moto has none of the three; a pool's tags are its ``UserPoolTags``).
* UpdateResourceServer replaces the server's name and scopes, and
  DeleteResourceServer deletes it (moto has neither).
* DeleteUserPool fails with InvalidParameterException while the pool has a
  domain ("User pool cannot be deleted. It has a domain configured that
  should be deleted first."); moto deletes the pool and orphans the domain.
* CreateUserPoolDomain refuses a prefix another pool has ("Domain already
  associated with another user pool.") and a second domain for a pool;
  moto moves or replaces the domain silently.
* UpdateUserPoolClient replaces the whole client: settings it leaves out are
  reset to their defaults, as the API reference warns; moto merges them.
* App client secrets look like Cognito's (letters and digits, 51 long,
  ClientSecretType ``[\\w+]+``); moto mints a UUID with hyphens.
"""

from __future__ import annotations

import secrets
import string

from moto.cognitoidp import models, responses
from moto.cognitoidp.exceptions import InvalidParameterException, ResourceNotFoundError
from moto.core.responses import ActionResult, EmptyResult

_ALPHABET = string.ascii_lowercase + string.digits


def _pool_by_arn(backend, arn: str):
    for pool in backend.user_pools.values():
        if pool.arn == arn:
            return pool
    raise ResourceNotFoundError(f"User pool {arn} does not exist.")


def _tag_resource(self):
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    pool.extended_config.setdefault("UserPoolTags", {}).update(self._get_param("Tags") or {})
    return EmptyResult()


def _untag_resource(self):
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    tags = pool.extended_config.setdefault("UserPoolTags", {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return EmptyResult()


def _list_tags_for_resource(self):
    pool = _pool_by_arn(self.backend, self._get_param("ResourceArn"))
    return ActionResult({"Tags": dict(pool.extended_config.get("UserPoolTags") or {})})


def _update_resource_server(self):
    server = self.backend.describe_resource_server(
        self._get_param("UserPoolId"), self._get_param("Identifier")
    )
    server.name = self._get_param("Name")
    server.scopes = self._get_param("Scopes") or []
    return ActionResult({"ResourceServer": server.to_json()})


def _delete_resource_server(self):
    pool_id = self._get_param("UserPoolId")
    identifier = self._get_param("Identifier")
    self.backend.describe_resource_server(pool_id, identifier)
    del self.backend.user_pools[pool_id].resource_servers[identifier]
    return EmptyResult()


def patch() -> None:
    backend_cls = models.CognitoIdpBackend
    if getattr(backend_cls, "_agentform_patched", False):
        return
    backend_cls._agentform_patched = True

    for name, fn in {
        "tag_resource": _tag_resource,
        "untag_resource": _untag_resource,
        "list_tags_for_resource": _list_tags_for_resource,
        "update_resource_server": _update_resource_server,
        "delete_resource_server": _delete_resource_server,
    }.items():
        setattr(responses.CognitoIdpResponse, name, fn)

    original_delete_pool = backend_cls.delete_user_pool

    def delete_user_pool(self, user_pool_id, __orig=original_delete_pool):
        pool = self.describe_user_pool(user_pool_id)
        if pool.domain is not None:
            raise InvalidParameterException(
                "User pool cannot be deleted. It has a domain configured that should be deleted first."
            )
        return __orig(self, user_pool_id)

    backend_cls.delete_user_pool = delete_user_pool

    original_create_domain = backend_cls.create_user_pool_domain

    def create_user_pool_domain(
        self, user_pool_id, domain, custom_domain_config=None, __orig=original_create_domain
    ):
        pool = self.describe_user_pool(user_pool_id)
        taken = self.user_pool_domains.get(domain)
        if taken is not None and taken.user_pool_id != user_pool_id:
            raise InvalidParameterException("Domain already associated with another user pool.")
        if pool.domain is not None:
            raise InvalidParameterException(
                f"User pool {user_pool_id} already has a domain configured."
            )
        return __orig(self, user_pool_id, domain, custom_domain_config)

    backend_cls.create_user_pool_domain = create_user_pool_domain

    def update_user_pool_client(self, user_pool_id, client_id, extended_config):
        pool = self.describe_user_pool(user_pool_id)
        client = pool.clients.get(client_id)
        if not client:
            raise ResourceNotFoundError(client_id)
        fresh = models.CognitoIdpUserPoolClient(user_pool_id, False, extended_config)
        client.extended_config = fresh.extended_config
        return client

    backend_cls.update_user_pool_client = update_user_pool_client

    client_cls = models.CognitoIdpUserPoolClient
    original_init = client_cls.__init__

    def client_init(self, *args, __orig=original_init, **kwargs):
        __orig(self, *args, **kwargs)
        self.secret = "".join(secrets.choice(_ALPHABET) for _ in range(51))

    client_cls.__init__ = client_init
