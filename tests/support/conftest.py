"""What the emulator tests share: one launcher per test module (every
backend at once, delay 0), SDK clients against it, and readers of its
answers."""

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

HERE = Path(__file__).parent
REGION = "us-east-1"
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def endpoint():
    launcher = subprocess.Popen(
        [sys.executable, str(HERE / "moto_server.py"), "--port", "0", "--delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = launcher.stdout.readline().split()
    assert ready[:1] == ["READY"], "the launcher exited before it was ready"
    yield f"http://127.0.0.1:{ready[1]}"
    launcher.terminate()
    launcher.wait(timeout=10)


@pytest.fixture
def client(endpoint):
    def make(service, key="testing", secret="testing", token=None, **config):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(retries={"max_attempts": 1}, **config),
        )

    return make


@pytest.fixture
def control(client):
    return client("bedrock-agentcore-control")


def error(e: pytest.ExceptionInfo) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of a ClientError."""
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def violations(endpoint) -> list:
    """The model violations the wire layer has refused so far."""
    with urllib.request.urlopen(f"{endpoint}/agentform-test/identity/violations") as r:
        return json.load(r)
