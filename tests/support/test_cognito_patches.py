"""moto's Cognito user pools as patched by cognito_patches.py, through the
launcher: each behaviour agentform relies on answers as AWS does."""

import re

import pytest
from botocore.exceptions import ClientError
from conftest import error


@pytest.fixture
def idp(client):
    return client("cognito-idp")


@pytest.fixture
def pool(idp):
    made = idp.create_user_pool(PoolName="patch-test", UserPoolTags={"a": "1"})["UserPool"]
    yield made
    try:
        domain = idp.describe_user_pool(UserPoolId=made["Id"])["UserPool"].get("Domain")
        if domain:
            idp.delete_user_pool_domain(UserPoolId=made["Id"], Domain=domain)
        idp.delete_user_pool(UserPoolId=made["Id"])
    except ClientError:
        pass


def test_pool_tags_are_tagged_untagged_and_listed(idp, pool):
    idp.tag_resource(ResourceArn=pool["Arn"], Tags={"b": "2"})
    idp.untag_resource(ResourceArn=pool["Arn"], TagKeys=["a"])
    assert idp.list_tags_for_resource(ResourceArn=pool["Arn"])["Tags"] == {"b": "2"}
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["UserPoolTags"] == {"b": "2"}
    with pytest.raises(ClientError) as e:
        idp.tag_resource(ResourceArn=pool["Arn"] + "x", Tags={"c": "3"})
    assert error(e)[1] == "ResourceNotFoundException"


def test_resource_servers_are_updated_whole_and_deleted(idp, pool):
    idp.create_resource_server(
        UserPoolId=pool["Id"],
        Identifier="rs",
        Name="rs",
        Scopes=[{"ScopeName": "a", "ScopeDescription": "a"}],
    )
    idp.update_resource_server(
        UserPoolId=pool["Id"],
        Identifier="rs",
        Name="renamed",
        Scopes=[{"ScopeName": "b", "ScopeDescription": "b"}],
    )
    got = idp.describe_resource_server(UserPoolId=pool["Id"], Identifier="rs")["ResourceServer"]
    assert (got["Name"], [s["ScopeName"] for s in got["Scopes"]]) == ("renamed", ["b"])
    idp.delete_resource_server(UserPoolId=pool["Id"], Identifier="rs")
    assert idp.list_resource_servers(UserPoolId=pool["Id"], MaxResults=50)["ResourceServers"] == []
    with pytest.raises(ClientError) as e:
        idp.delete_resource_server(UserPoolId=pool["Id"], Identifier="rs")
    assert error(e)[1] == "ResourceNotFoundException"


def test_a_pool_with_a_domain_is_not_deleted(idp, pool):
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain="patch-test-domain")
    with pytest.raises(ClientError) as e:
        idp.delete_user_pool(UserPoolId=pool["Id"])
    assert error(e)[1:] == (
        "InvalidParameterException",
        "User pool cannot be deleted. It has a domain configured that should be deleted first.",
    )
    idp.delete_user_pool_domain(UserPoolId=pool["Id"], Domain="patch-test-domain")
    idp.delete_user_pool(UserPoolId=pool["Id"])


def test_a_domain_prefix_is_one_pools_and_a_pool_has_one(idp, pool):
    other = idp.create_user_pool(PoolName="patch-test-other")["UserPool"]
    idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain="patch-test-taken")
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=other["Id"], Domain="patch-test-taken")
    assert error(e)[1:] == (
        "InvalidParameterException",
        "Domain already associated with another user pool.",
    )
    with pytest.raises(ClientError) as e:
        idp.create_user_pool_domain(UserPoolId=pool["Id"], Domain="patch-test-second")
    assert error(e)[1] == "InvalidParameterException"
    idp.delete_user_pool(UserPoolId=other["Id"])


def test_client_updates_replace_the_client_and_secrets_look_like_cognitos(idp, pool):
    made = idp.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName="c",
        GenerateSecret=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["rs/a"],
        AllowedOAuthFlowsUserPoolClient=True,
    )["UserPoolClient"]
    assert re.fullmatch(r"[\w+]{24,64}", made["ClientSecret"]), made["ClientSecret"]
    idp.update_user_pool_client(UserPoolId=pool["Id"], ClientId=made["ClientId"], ClientName="c2")
    got = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=made["ClientId"])[
        "UserPoolClient"
    ]
    assert got["ClientName"] == "c2"
    # What the update left out is reset, as on AWS; the secret stays.
    assert "AllowedOAuthFlows" not in got and "AllowedOAuthScopes" not in got
    assert got["AllowedOAuthFlowsUserPoolClient"] is False
    assert got["ClientSecret"] == made["ClientSecret"]
