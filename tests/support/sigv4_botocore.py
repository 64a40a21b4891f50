#!/usr/bin/env python3
"""botocore's SigV4 signatures of the requests on stdin, for the signer cross-check.

Input (JSON): a list of requests, each
``{"method", "url", "headers": [[name, value], ...], "body", "access_key",
"secret_key", "token" (or null), "region", "service", "time" (Unix seconds)}``.
Output (JSON): for each, the headers botocore's ``SigV4Auth`` adds:
``{"authorization", "x-amz-date", "x-amz-security-token" (or null)}``.
The clock botocore reads is fixed to the request's ``time``.
"""

import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(r):
    at = datetime.datetime.fromtimestamp(r["time"], datetime.timezone.utc).replace(tzinfo=None)
    botocore.auth.get_current_datetime = lambda: at
    request = AWSRequest(
        method=r["method"],
        url=r["url"],
        data=r["body"].encode(),
        headers={k: v for k, v in r["headers"]},
    )
    creds = Credentials(r["access_key"], r["secret_key"], r["token"])
    SigV4Auth(creds, r["service"], r["region"]).add_auth(request)
    return {
        "authorization": request.headers["Authorization"],
        "x-amz-date": request.headers["X-Amz-Date"],
        "x-amz-security-token": request.headers.get("X-Amz-Security-Token"),
    }


print(json.dumps([sign(r) for r in json.load(sys.stdin)]))
