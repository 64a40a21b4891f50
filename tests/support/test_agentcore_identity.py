"""The credential-provider emulator (agentcore_identity.py) as agentform
meets it: through the launcher, with an SDK client. Each behaviour the Rust
tests rely on is shown here: the providers' lifecycle and tags, their
secrets in moto's Secrets Manager, AWS's errors, requests that break the
botocore model refused and listed, and moto's own tagging left alone."""

import json
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, error, violations

DISCOVERY = "https://idp.example.com/.well-known/openid-configuration"


@pytest.fixture
def secrets(client):
    return client("secretsmanager")


def secret_json(secrets, arn: str) -> dict:
    return json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])


def signed(endpoint, method, path, body):
    """A raw request, signed as an SDK would sign it: (status, headers, JSON)."""
    request = AWSRequest(method, endpoint + path, data=body,
                         headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials("testing", "testing"), "bedrock-agentcore", REGION).add_auth(request)
    raw = urllib.request.Request(endpoint + path, data=body or None, method=method,
                                 headers=dict(request.headers))
    try:
        with urllib.request.urlopen(raw) as r:
            return r.status, r.headers, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as r:
        return r.code, r.headers, json.loads(r.read() or b"null")


def custom_config(client_id="client-1", secret="s3cret") -> dict:
    return {
        "customOauth2ProviderConfig": {
            "oauthDiscovery": {"discoveryUrl": DISCOVERY},
            "clientId": client_id,
            "clientSecret": secret,
        }
    }


def test_an_api_key_provider_keeps_its_key_in_a_managed_secret(control, secrets):
    made = control.create_api_key_credential_provider(name="lifecycle-key", apiKey="key-1")
    arn = (f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:token-vault/default/"
           "apikeycredentialprovider/lifecycle-key")
    assert made["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert made["credentialProviderArn"] == arn
    secret_arn = made["apiKeySecretArn"]["secretArn"]
    assert secret_arn.startswith(
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
        "bedrock-agentcore-identity!default/apikey/lifecycle-key-"
    )
    assert (made["apiKeySecretJsonKey"], made["apiKeySecretSource"]) == (
        "api_key_value", "MANAGED")
    assert secret_json(secrets, secret_arn) == {"api_key_value": "key-1"}

    got = control.get_api_key_credential_provider(name="lifecycle-key")
    assert "key-1" not in json.dumps(got, default=str)
    assert got["apiKeySecretArn"]["secretArn"] == secret_arn
    assert got["createdTime"] == got["lastUpdatedTime"]
    listed = control.list_api_key_credential_providers()["credentialProviders"]
    assert [p["name"] for p in listed if p["name"] == "lifecycle-key"] == ["lifecycle-key"]

    updated = control.update_api_key_credential_provider(name="lifecycle-key", apiKey="key-2")
    assert updated["apiKeySecretArn"]["secretArn"] == secret_arn
    assert updated["lastUpdatedTime"] >= got["createdTime"]
    assert secret_json(secrets, secret_arn) == {"api_key_value": "key-2"}

    deleted = control.delete_api_key_credential_provider(name="lifecycle-key")
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as e:
        secrets.get_secret_value(SecretId=secret_arn)
    assert error(e)[1] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        control.get_api_key_credential_provider(name="lifecycle-key")
    assert error(e)[:2] == (404, "ResourceNotFoundException")


def test_an_oauth2_provider_returns_its_config_without_the_secret(control, secrets):
    made = control.create_oauth2_credential_provider(
        name="lifecycle-oauth",
        credentialProviderVendor="CustomOauth2",
        oauth2ProviderConfigInput=custom_config(),
    )
    secret_arn = made["clientSecretArn"]["secretArn"]
    assert ":secret:bedrock-agentcore-identity!default/oauth2/lifecycle-oauth-" in secret_arn
    assert secret_json(secrets, secret_arn) == {"client_secret": "s3cret"}
    assert made["callbackUrl"].startswith(
        f"https://bedrock-agentcore.{REGION}.amazonaws.com/identities/oauth2/callback/"
    )

    got = control.get_oauth2_credential_provider(name="lifecycle-oauth")
    assert got["oauth2ProviderConfigOutput"] == {
        "customOauth2ProviderConfig": {
            "oauthDiscovery": {"discoveryUrl": DISCOVERY},
            "clientId": "client-1",
        }
    }
    assert (got["credentialProviderVendor"], got["callbackUrl"]) == (
        "CustomOauth2", made["callbackUrl"])
    assert (got["clientSecretJsonKey"], got["clientSecretSource"]) == ("client_secret", "MANAGED")
    assert "s3cret" not in json.dumps(got, default=str)

    control.update_oauth2_credential_provider(
        name="lifecycle-oauth",
        credentialProviderVendor="CustomOauth2",
        oauth2ProviderConfigInput=custom_config("client-2", "n3w"),
    )
    got = control.get_oauth2_credential_provider(name="lifecycle-oauth")
    config = got["oauth2ProviderConfigOutput"]["customOauth2ProviderConfig"]
    assert config["clientId"] == "client-2"
    assert got["callbackUrl"] == made["callbackUrl"]
    assert secret_json(secrets, secret_arn) == {"client_secret": "n3w"}
    listed = control.list_oauth2_credential_providers()["credentialProviders"]
    assert {"name": "lifecycle-oauth", "credentialProviderVendor": "CustomOauth2"}.items() <= next(
        p for p in listed if p["name"] == "lifecycle-oauth").items()

    control.delete_oauth2_credential_provider(name="lifecycle-oauth")
    with pytest.raises(ClientError) as e:
        secrets.get_secret_value(SecretId=secret_arn)
    assert error(e)[1] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        control.get_oauth2_credential_provider(name="lifecycle-oauth")
    assert error(e)[:2] == (404, "ResourceNotFoundException")


def test_a_vendor_config_comes_back_with_the_vendors_endpoints(control):
    control.create_oauth2_credential_provider(
        name="vendor-google",
        credentialProviderVendor="GoogleOauth2",
        oauth2ProviderConfigInput={
            "googleOauth2ProviderConfig": {"clientId": "g", "clientSecret": "gs"}
        },
    )
    got = control.get_oauth2_credential_provider(name="vendor-google")
    assert got["oauth2ProviderConfigOutput"] == {
        "googleOauth2ProviderConfig": {
            "oauthDiscovery": {
                "discoveryUrl": "https://accounts.google.com/.well-known/openid-configuration"
            },
            "clientId": "g",
        }
    }
    control.delete_oauth2_credential_provider(name="vendor-google")


def test_an_external_secret_is_referred_to_and_left_alone(control, secrets):
    own = secrets.create_secret(Name="my-own-key", SecretString='{"key": "mine"}')
    made = control.create_api_key_credential_provider(
        name="external-key", apiKeySecretConfig={"secretId": own["ARN"], "jsonKey": "key"}
    )
    assert (made["apiKeySecretArn"]["secretArn"], made["apiKeySecretJsonKey"],
            made["apiKeySecretSource"]) == (own["ARN"], "key", "EXTERNAL")
    control.delete_api_key_credential_provider(name="external-key")
    assert secret_json(secrets, own["ARN"]) == {"key": "mine"}


def test_tags_are_given_at_create_and_changed_later(control):
    arn = control.create_api_key_credential_provider(
        name="tagged-key", apiKey="k", tags={"team": "a", "env": "dev"}
    )["credentialProviderArn"]
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a", "env": "dev"}
    control.tag_resource(resourceArn=arn, tags={"env": "prod", "cost": "1"})
    control.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod", "cost": "1"}

    oauth = control.create_oauth2_credential_provider(
        name="tagged-oauth", credentialProviderVendor="CustomOauth2",
        oauth2ProviderConfigInput=custom_config(), tags={"k": "v"},
    )["credentialProviderArn"]
    assert control.list_tags_for_resource(resourceArn=oauth)["tags"] == {"k": "v"}

    control.delete_api_key_credential_provider(name="tagged-key")
    control.delete_oauth2_credential_provider(name="tagged-oauth")
    with pytest.raises(ClientError) as e:
        control.list_tags_for_resource(resourceArn=arn)
    assert error(e)[:2] == (404, "ResourceNotFoundException")


def test_a_duplicate_name_is_a_validation_exception(control):
    control.create_api_key_credential_provider(name="twice", apiKey="k")
    with pytest.raises(ClientError) as e:
        control.create_api_key_credential_provider(name="twice", apiKey="other")
    assert error(e) == (400, "ValidationException",
                        "Credential provider with name: twice already exists")
    # Names are unique per kind: an OAuth2 provider may have it.
    control.create_oauth2_credential_provider(
        name="twice", credentialProviderVendor="CustomOauth2",
        oauth2ProviderConfigInput=custom_config(),
    )
    with pytest.raises(ClientError) as e:
        control.create_oauth2_credential_provider(
            name="twice", credentialProviderVendor="CustomOauth2",
            oauth2ProviderConfigInput=custom_config(),
        )
    assert error(e)[:2] == (400, "ValidationException")
    control.delete_api_key_credential_provider(name="twice")
    control.delete_oauth2_credential_provider(name="twice")


def test_unknown_providers_are_not_found(control):
    calls = [
        lambda: control.get_api_key_credential_provider(name="nobody"),
        lambda: control.update_api_key_credential_provider(name="nobody", apiKey="k"),
        lambda: control.delete_api_key_credential_provider(name="nobody"),
        lambda: control.get_oauth2_credential_provider(name="nobody"),
        lambda: control.update_oauth2_credential_provider(
            name="nobody", credentialProviderVendor="CustomOauth2",
            oauth2ProviderConfigInput=custom_config()),
        lambda: control.delete_oauth2_credential_provider(name="nobody"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert error(e)[:2] == (404, "ResourceNotFoundException")
    with pytest.raises(ClientError) as e:
        control.get_api_key_credential_provider(name="nobody")
    assert error(e)[2] == "ApiKeyCredentialProvider not found for nobody"


def test_lists_come_in_pages(control):
    for i in range(3):
        control.create_api_key_credential_provider(name=f"page-{i}", apiKey="k")
    first = control.list_api_key_credential_providers(maxResults=2)
    rest = control.list_api_key_credential_providers(maxResults=2, nextToken=first["nextToken"])
    names = [p["name"] for p in first["credentialProviders"] + rest["credentialProviders"]]
    assert [n for n in names if n.startswith("page-")] == ["page-0", "page-1", "page-2"]
    assert "nextToken" not in rest
    for i in range(3):
        control.delete_api_key_credential_provider(name=f"page-{i}")


def test_requests_that_break_the_model_are_refused_and_listed(client, endpoint):
    before = len(violations(endpoint))
    unchecked = client("bedrock-agentcore-control", parameter_validation=False)
    # What botocore does not check itself: a maximum, a pattern, an enum.
    with pytest.raises(ClientError) as e:
        unchecked.create_api_key_credential_provider(name="n" * 129, apiKey="k")
    status, code, message = error(e)
    assert (status, code) == (400, "ValidationException")
    assert message == "Invalid length for parameter name, value: 129, valid max length: 128"
    assert e.value.response["reason"] == "FieldValidationFailed"
    with pytest.raises(ClientError) as e:
        unchecked.get_oauth2_credential_provider(name="!!!")
    assert "must match pattern" in error(e)[2]
    with pytest.raises(ClientError) as e:
        unchecked.create_oauth2_credential_provider(
            name="bad-vendor", credentialProviderVendor="NoSuchOauth2",
            oauth2ProviderConfigInput=custom_config())
    assert "credentialProviderVendor, value: NoSuchOauth2, valid values:" in error(e)[2]

    status, headers, body = signed(
        endpoint, "POST", "/identities/GetApiKeyCredentialProvider",
        json.dumps({"name": "x", "nmae": "typo"}).encode(),
    )
    assert (status, headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert "Unknown parameter" in body["message"] and "nmae" in body["message"]
    status, _, body = signed(endpoint, "POST", "/identities/ListOauth2CredentialProviders", b"[1]")
    assert (status, body["reason"]) == (400, "CannotParse")

    listed = violations(endpoint)[before:]
    assert [v["operation"] for v in listed] == [
        "CreateApiKeyCredentialProvider",
        "GetOauth2CredentialProvider",
        "CreateOauth2CredentialProvider",
        "GetApiKeyCredentialProvider",
        "ListOauth2CredentialProviders",
    ]
    assert listed[0]["message"] == message


def test_the_violations_list_is_read_only(endpoint):
    request = urllib.request.Request(f"{endpoint}/agentform-test/identity/violations",
                                     data=b"[]", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request)
    assert e.value.code == 405


def test_an_unsigned_request_is_refused(endpoint):
    request = urllib.request.Request(f"{endpoint}/identities/ListApiKeyCredentialProviders",
                                     data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request)
    assert (e.value.code, e.value.headers["x-amzn-ErrorType"]) == (
        403, "MissingAuthenticationTokenException")


def test_an_assumed_roles_providers_and_secrets_are_in_its_account(client):
    role = "arn:aws:iam::111122223333:role/deployer"
    creds = client("sts").assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    keys = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                token=creds["SessionToken"])
    made = client("bedrock-agentcore-control", **keys).create_api_key_credential_provider(
        name="other-account", apiKey="k")
    assert ":111122223333:token-vault/" in made["credentialProviderArn"]
    secret_arn = made["apiKeySecretArn"]["secretArn"]
    assert f":secretsmanager:{REGION}:111122223333:" in secret_arn
    assert secret_json(client("secretsmanager", **keys), secret_arn) == {"api_key_value": "k"}
    # Not in the default account.
    with pytest.raises(ClientError):
        client("bedrock-agentcore-control").get_api_key_credential_provider(name="other-account")


def test_gateway_and_runtime_tags_still_reach_moto(control):
    role = f"arn:aws:iam::{ACCOUNT}:role/agentcore"
    gateway = control.create_gateway(
        name="tagged-gateway", roleArn=role, protocolType="MCP",
        authorizerType="AWS_IAM", tags={"kind": "gateway"},
    )["gatewayArn"]
    runtime = control.create_agent_runtime(
        agentRuntimeName="tagged_runtime",
        agentRuntimeArtifact={"containerConfiguration": {
            "containerUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/agent:latest"}},
        roleArn=role,
        networkConfiguration={"networkMode": "PUBLIC"},
        tags={"kind": "runtime"},
    )["agentRuntimeArn"]
    for arn, kind in ((gateway, "gateway"), (runtime, "runtime")):
        assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"kind": kind}
        control.tag_resource(resourceArn=arn, tags={"extra": "1"})
        control.untag_resource(resourceArn=arn, tagKeys=["kind"])
        assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"extra": "1"}


def test_a_moto_reset_clears_the_providers(control, endpoint):
    control.create_api_key_credential_provider(name="before-reset", apiKey="k")
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    with pytest.raises(ClientError) as e:
        control.get_api_key_credential_provider(name="before-reset")
    assert error(e)[1] == "ResourceNotFoundException"
