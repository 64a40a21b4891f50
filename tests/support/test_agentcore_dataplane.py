"""The data-plane emulator's own checks can fail: each refusal the tests
rely on (signature, scope, clock, unknown key, model validation) is shown
refusing here, and a correctly signed request passing."""

import io
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent))
import agentcore_dataplane as d  # noqa: E402

URL = "http://127.0.0.1:5000/agentform-test/gateway/abc/mcp"


@pytest.fixture(autouse=True)
def known_keys(monkeypatch):
    monkeypatch.setattr(d, "KNOWN_CREDENTIALS", {"AKIDTEST": "secret"})


def environ(secret="secret", service="bedrock-agentcore", region="us-east-1",
            when=None, body=b'{"jsonrpc":"2.0"}', key="AKIDTEST"):
    request = AWSRequest("POST", URL, data=body, headers={"content-type": "application/json"})
    auth = SigV4Auth(Credentials(key, secret), service, region)
    if when is None:
        auth.add_auth(request)
    else:
        import botocore.auth

        original = botocore.auth.get_current_datetime
        botocore.auth.get_current_datetime = lambda: when.replace(tzinfo=None)
        try:
            auth.add_auth(request)
        finally:
            botocore.auth.get_current_datetime = original
    env = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": "/agentform-test/gateway/abc/mcp",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1:5000",
        "wsgi.input": io.BytesIO(body),
    }
    for k, v in request.headers.items():
        if k.lower() != "content-type":
            env["HTTP_" + k.upper().replace("-", "_")] = v
    return env, body


def refusal(env, body, region="us-east-1"):
    with pytest.raises(d.Refused) as e:
        d.verify_sigv4(env, body, region)
    return e.value


def test_a_correct_signature_passes_as_the_known_caller():
    env, body = environ()
    assert d.verify_sigv4(env, body, "us-east-1") is None


def test_a_wrong_secret_is_a_bad_signature():
    r = refusal(*environ(secret="wrong"))
    assert (r.status, r.error_type) == (403, "InvalidSignatureException")
    assert "signature we calculated does not match" in r.message


def test_a_changed_body_is_a_bad_signature():
    env, _ = environ()
    assert refusal(env, b'{"jsonrpc":"2.0","x":1}').error_type == "InvalidSignatureException"


def test_the_scope_must_name_the_service_and_region():
    assert "correct service" in refusal(*environ(service="execute-api")).message
    assert "valid region" in refusal(*environ(region="eu-west-1")).message


def test_a_stale_date_is_refused():
    r = refusal(*environ(when=datetime.now(timezone.utc) - timedelta(minutes=20)))
    assert r.message.startswith("Signature expired")


def test_unknown_keys_and_missing_auth_are_refused():
    assert refusal(*environ(key="AKIDOTHER")).error_type == "UnrecognizedClientException"
    env, body = environ()
    del env["HTTP_AUTHORIZATION"]
    assert refusal(env, body).error_type == "MissingAuthenticationTokenException"


def test_invocations_are_validated_against_the_botocore_model():
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-x"
    ok = {"x-amzn-bedrock-agentcore-runtime-session-id": "s" * 33}
    d.validate_invocation(arn, {"qualifier": ["DEFAULT"]}, ok, b"{}")
    with pytest.raises(d.Refused) as e:
        d.validate_invocation(arn, {}, {"x-amzn-bedrock-agentcore-runtime-session-id": "short"}, b"{}")
    assert "runtimeSessionId" in e.value.message
