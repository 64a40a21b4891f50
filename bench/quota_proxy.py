#!/usr/bin/env python3
"""A loopback HTTP proxy in front of moto that behaves like AWS's request quotas.

Usage (stdlib only; any Python 3.9+):

    python3 bench/quota_proxy.py --upstream http://127.0.0.1:MOTO_PORT \
        [--port 0] [--latency-ms 30] [--delay 2] [--no-enforce]

Prints ``READY <port>`` on stdout once it listens, and exits when the
process that started it is gone (unless ``--no-parent-watch``). Point a client at it with
``AWS_ENDPOINT_URL=http://127.0.0.1:<port>``: every AWS service then comes
through this one endpoint, exactly as it would go to moto.

For every request the proxy

1. sleeps ``--latency-ms`` (a fixed network/service latency, default 30 ms),
2. identifies the API (service from the SigV4 credential scope, operation from
   the REST path for AgentCore and Lambda, ``Action=`` for the awsQuery
   services IAM and STS, ``X-Amz-Target`` for the awsJson services ECR and
   SSM),
3. takes a token from that API's bucket (capacity = rate, refilled at rate
   per second) and, for Create/Update/DeleteGatewayTarget, one of the
   gateway's 5 operation slots; if either is not available it answers the
   way the service answers a throttled request, without forwarding,
4. otherwise forwards the request unchanged to moto (one keep-alive
   connection per proxy thread) and relays the answer.

A gateway-target operation holds its slot from its request until the moto
transition delay (``--delay``, the same value moto was started with) has
passed since the request was forwarded, i.e. until the target can be READY;
a delete (immediate in moto) holds it for the request only, as does any
operation moto answered with an error.

Control paths (never forwarded):

* ``POST /bench-control/phase/<name>``: later requests count under phase
  <name>; every bucket is refilled (an account that was idle for a while).
* ``GET /bench-control/stats``: JSON ``{"phases": {name: {"calls",
  "throttles", "errors", "max_inflight", "max_target_ops_per_gateway",
  "unknown", "seconds"}}, "config": ...}``.
* ``POST /bench-control/reset``: forgets all counts, buckets and slots.
* ``GET /bench-control/rates``: the rate table below as JSON.

``--no-enforce`` counts only (record mode): nothing is throttled, but the
calls that would have been are still reported as ``would_throttle``.
"""

from __future__ import annotations

import argparse
import fnmatch
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# ---------------------------------------------------------------------------
# The rate table. First matching rule wins. `bucket` "{api}" = one bucket per
# API; any other value = one bucket shared by every API the rule matches.
# ---------------------------------------------------------------------------

AGENTCORE_QUOTAS = (
    "Amazon Bedrock AgentCore quotas (as kept client-side in src/aws/quota.rs rate())"
)
LAMBDA_QUOTAS = "AWS Lambda quotas page, 'API requests' (GetFunction cannot be increased)"
IAM_ASSUMED = "ASSUMED: IAM publishes no per-API rates"
ECR_ASSUMED = "ASSUMED: ECR repository API rates are not documented"
SSM_QUOTAS = "Systems Manager quotas: Parameter Store standard throughput, shared"

RATE_TABLE = [
    # (service, api glob, bucket, requests per second, source)
    ("bedrock-agentcore", "GetAgentRuntime", "{api}", 50, AGENTCORE_QUOTAS),
    ("bedrock-agentcore", "GetAgentRuntimeEndpoint", "{api}", 50, AGENTCORE_QUOTAS),
    ("bedrock-agentcore", "ListAgentRuntimes", "{api}", 5, AGENTCORE_QUOTAS),
    ("bedrock-agentcore", "ListAgentRuntimeEndpoints", "{api}", 5, AGENTCORE_QUOTAS),
    ("bedrock-agentcore", "Get*", "{api}", 10, AGENTCORE_QUOTAS + "; gateways/targets"),
    ("bedrock-agentcore", "List*", "{api}", 10, AGENTCORE_QUOTAS + "; gateways/targets, tags"),
    ("bedrock-agentcore", "TagResource", "{api}", 10, "ASSUMED (as quota.rs): tagging undocumented"),
    ("bedrock-agentcore", "UntagResource", "{api}", 10, "ASSUMED (as quota.rs): tagging undocumented"),
    ("bedrock-agentcore", "*", "{api}", 5, AGENTCORE_QUOTAS + "; Create/Update/Delete per API"),
    ("lambda", "GetFunction", "{api}", 100, LAMBDA_QUOTAS),
    ("lambda", "GetPolicy", "{api}", 15, LAMBDA_QUOTAS),
    ("lambda", "*", "lambda-control-plane", 15,
     LAMBDA_QUOTAS + ": all other control-plane APIs combined"),
    ("iam", "Get*", "{api}", 20, IAM_ASSUMED + " (20 per read API)"),
    ("iam", "List*", "{api}", 20, IAM_ASSUMED + " (20 per read API)"),
    ("iam", "*", "{api}", 10, IAM_ASSUMED + " (10 per mutating API)"),
    ("sts", "*", "{api}", 100, "ASSUMED: STS GetCallerIdentity 100"),
    ("ecr", "Describe*", "{api}", 20, ECR_ASSUMED + " (20 per read API)"),
    ("ecr", "List*", "{api}", 20, ECR_ASSUMED + " (20 per read API)"),
    ("ecr", "Get*", "{api}", 20, ECR_ASSUMED + " (20 per read API)"),
    ("ecr", "BatchGet*", "{api}", 20, ECR_ASSUMED + " (20 per read API)"),
    ("ecr", "BatchCheck*", "{api}", 20, ECR_ASSUMED + " (20 per read API)"),
    ("ecr", "*", "{api}", 10, ECR_ASSUMED + " (10 per write API)"),
    ("ssm", "GetParameter", "ssm-parameter-throughput", 40, SSM_QUOTAS),
    ("ssm", "GetParameters", "ssm-parameter-throughput", 40, SSM_QUOTAS),
    ("ssm", "PutParameter", "ssm-parameter-throughput", 40, SSM_QUOTAS),
    ("ssm", "*", "{api}", 10, "ASSUMED: other SSM APIs 10"),
]

# AgentCore's other limit: concurrent target operations per gateway.
TARGET_OPS_PER_GATEWAY = 5
TARGET_OPS = ("CreateGatewayTarget", "UpdateGatewayTarget", "DeleteGatewayTarget")


def limit_for(service: str, api: str):
    """(bucket key, rate per second, source) of an API, or None (unlimited)."""
    for svc, pattern, bucket, rate, source in RATE_TABLE:
        if svc == service and fnmatch.fnmatchcase(api, pattern):
            key = f"{service}.{api}" if bucket == "{api}" else bucket
            return key, rate, source
    return None


SERVICE_SHORT = {"bedrock-agentcore": "agentcore"}

# ---------------------------------------------------------------------------
# Identifying the API of a request
# ---------------------------------------------------------------------------

_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/]+/([^/]+)/aws4_request")


def _segments(path: str) -> list[str]:
    only = path.split("?", 1)[0]
    return [urllib.parse.unquote(s) for s in only.split("/") if s]


def agentcore_api(method: str, segs: list[str]):
    """Operation of an AgentCore control-plane request.

    Paths and methods from botocore's bedrock-agentcore-control model. For
    runtimes and endpoints POST lists and PUT creates (the path table of
    src/aws/quota.rs before commit 813a33a had POST as Create*).
    """
    n = len(segs)
    if n == 0:
        return None
    head = segs[0]
    if head == "gateways":
        if n == 1:
            return {"POST": "CreateGateway", "GET": "ListGateways"}.get(method)
        if n == 2:
            return {"GET": "GetGateway", "PUT": "UpdateGateway", "DELETE": "DeleteGateway"}.get(method)
        if n == 3 and segs[2] == "targets":
            return {"POST": "CreateGatewayTarget", "GET": "ListGatewayTargets"}.get(method)
        if n == 4 and segs[2] == "targets":
            return {
                "GET": "GetGatewayTarget",
                "PUT": "UpdateGatewayTarget",
                "DELETE": "DeleteGatewayTarget",
            }.get(method)
        return None
    if head == "runtimes":
        if n == 1:
            # PUT creates and POST lists (botocore's service model), not
            # POST/GET as for gateways.
            return {"PUT": "CreateAgentRuntime", "POST": "ListAgentRuntimes"}.get(method)
        if n == 2:
            return {
                "GET": "GetAgentRuntime",
                "PUT": "UpdateAgentRuntime",
                "DELETE": "DeleteAgentRuntime",
            }.get(method)
        if n == 3 and segs[2] == "runtime-endpoints":
            return {
                "PUT": "CreateAgentRuntimeEndpoint",
                "POST": "ListAgentRuntimeEndpoints",
            }.get(method)
        if n == 4 and segs[2] == "runtime-endpoints":
            return {
                "GET": "GetAgentRuntimeEndpoint",
                "PUT": "UpdateAgentRuntimeEndpoint",
                "DELETE": "DeleteAgentRuntimeEndpoint",
            }.get(method)
        if n == 3 and segs[2] == "versions":
            return {"POST": "ListAgentRuntimeVersions"}.get(method)
        return None
    if head == "tags":
        return {"GET": "ListTagsForResource", "POST": "TagResource", "DELETE": "UntagResource"}.get(
            method
        )
    return None


def lambda_api(method: str, segs: list[str]):
    """Operation of a Lambda REST request (/<version>/functions/...)."""
    if len(segs) < 2 or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", segs[0]):
        return None
    rest = segs[1:]
    if rest[0] == "tags" and len(rest) == 2:
        return {"GET": "ListTags", "POST": "TagResource", "DELETE": "UntagResource"}.get(method)
    if rest[0] == "account-settings":
        return "GetAccountSettings" if method == "GET" else None
    if rest[0] != "functions":
        return None
    n = len(rest)
    if n == 1:
        return {"POST": "CreateFunction", "GET": "ListFunctions"}.get(method)
    if n == 2:
        return {"GET": "GetFunction", "DELETE": "DeleteFunction"}.get(method)
    sub = rest[2]
    table = {
        ("configuration", "GET"): "GetFunctionConfiguration",
        ("configuration", "PUT"): "UpdateFunctionConfiguration",
        ("code", "PUT"): "UpdateFunctionCode",
        ("code-signing-config", "GET"): "GetFunctionCodeSigningConfig",
        ("policy", "GET"): "GetPolicy",
        ("policy", "POST"): "AddPermission",
        ("versions", "GET"): "ListVersionsByFunction",
        ("versions", "POST"): "PublishVersion",
        ("aliases", "GET"): "ListAliases",
        ("aliases", "POST"): "CreateAlias",
        ("concurrency", "GET"): "GetFunctionConcurrency",
        ("concurrency", "PUT"): "PutFunctionConcurrency",
        ("concurrency", "DELETE"): "DeleteFunctionConcurrency",
        ("url", "GET"): "GetFunctionUrlConfig",
        ("url", "POST"): "CreateFunctionUrlConfig",
        ("url", "PUT"): "UpdateFunctionUrlConfig",
        ("url", "DELETE"): "DeleteFunctionUrlConfig",
        ("event-invoke-config", "GET"): "GetFunctionEventInvokeConfig",
        ("event-invoke-config", "PUT"): "PutFunctionEventInvokeConfig",
        ("event-invoke-config", "DELETE"): "DeleteFunctionEventInvokeConfig",
        ("invocations", "POST"): "Invoke",
    }
    if n == 3:
        return table.get((sub, method))
    if n == 4 and sub == "policy" and method == "DELETE":
        return "RemovePermission"
    if n == 4 and sub == "aliases":
        return {"GET": "GetAlias", "PUT": "UpdateAlias", "DELETE": "DeleteAlias"}.get(method)
    return None


def identify(method: str, path: str, headers, body: bytes):
    """(service, api) of a request; api is None when it is not recognised."""
    service = None
    m = _SCOPE.search(headers.get("Authorization", "") or "")
    if m:
        service = m.group(1)
    target = headers.get("X-Amz-Target", "") or ""
    segs = _segments(path)
    if target:
        prefix, _, op = target.partition(".")
        if service is None:
            service = (
                "ecr" if prefix.startswith("AmazonEC2ContainerRegistry")
                else "ssm" if prefix.startswith("AmazonSSM")
                else prefix
            )
        return service, op or None
    if service in (None, "iam", "sts") and method == "POST" and not segs:
        ctype = headers.get("Content-Type", "") or ""
        if "x-www-form-urlencoded" in ctype or body.startswith(b"Action="):
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            action = (form.get("Action") or [None])[0]
            if service is None:
                service = "sts" if action in ("GetCallerIdentity", "AssumeRole") else "iam"
            return service, action
    if service == "lambda" or (service is None and lambda_api(method, segs)):
        return "lambda", lambda_api(method, segs)
    if service == "bedrock-agentcore" or (service is None and agentcore_api(method, segs)):
        return "bedrock-agentcore", agentcore_api(method, segs)
    return service or "unknown", None


def path_shape(path: str) -> str:
    """A path with its identifiers blanked, for the unknown-request log."""
    only = path.split("?", 1)[0]
    out = []
    for s in only.split("/"):
        if re.fullmatch(r"[a-z-]+|\d{4}-\d{2}-\d{2}", s) or s == "":
            out.append(s)
        else:
            out.append("{id}")
    return "/".join(out)


# ---------------------------------------------------------------------------
# Quotas
# ---------------------------------------------------------------------------


class TokenBucket:
    """AWS's model: `rate` tokens of capacity, refilled at `rate` per second."""

    def __init__(self, rate: float):
        self.rate = float(rate)
        self.capacity = float(rate)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def refill(self) -> None:
        self.tokens = self.capacity
        self.stamp = time.monotonic()


class TargetOp:
    """One gateway-target operation holding a slot; `release_at` None = in flight."""

    __slots__ = ("release_at",)

    def __init__(self):
        self.release_at = None


def new_phase_stats() -> dict:
    return {
        "calls": {},
        "throttles": {},
        "would_throttle": {},
        "errors": {},
        "max_inflight": 0,
        "max_target_ops_per_gateway": 0,
        "unknown": {},
        "started": time.time(),
        "last_request": None,
    }


class State:
    def __init__(self, enforce: bool, delay: float, latency: float):
        self.enforce = enforce
        self.delay = delay
        self.latency = latency
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.buckets: dict[str, TokenBucket] = {}
            self.gateway_ops: dict[str, list[TargetOp]] = {}
            self.phase = "default"
            self.phases: dict[str, dict] = {"default": new_phase_stats()}
            self.inflight = 0

    def stats(self) -> dict:
        return self.phases.setdefault(self.phase, new_phase_stats())

    def set_phase(self, name: str) -> None:
        with self.lock:
            self.phase = name
            self.phases[name] = new_phase_stats()
            for b in self.buckets.values():
                b.refill()

    def admit(self, service: str, api, gateway):
        """Counts a request; returns (allowed, reason, target-op or None)."""
        key = f"{SERVICE_SHORT.get(service, service)}.{api or '?'}"
        now = time.monotonic()
        with self.lock:
            st = self.stats()
            st["calls"][key] = st["calls"].get(key, 0) + 1
            st["last_request"] = time.time()
            if api is None:
                return True, None, None
            reason = None
            lim = limit_for(service, api)
            if lim is not None:
                bkey, rate, _ = lim
                bucket = self.buckets.get(bkey)
                if bucket is None:
                    bucket = self.buckets[bkey] = TokenBucket(rate)
                if not bucket.take(now):
                    reason = "rate"
            op = None
            if reason is None and service == "bedrock-agentcore" and api in TARGET_OPS and gateway:
                ops = self.gateway_ops.setdefault(gateway, [])
                ops[:] = [o for o in ops if o.release_at is None or o.release_at > now]
                if len(ops) >= TARGET_OPS_PER_GATEWAY:
                    reason = "target-concurrency"
                else:
                    op = TargetOp()
                    ops.append(op)
                    st["max_target_ops_per_gateway"] = max(
                        st["max_target_ops_per_gateway"], len(ops)
                    )
            if reason is not None:
                table = st["throttles"] if self.enforce else st["would_throttle"]
                table[key] = table.get(key, 0) + 1
                if self.enforce:
                    return False, reason, None
            return True, None, op

    def finished(self, op, api, forwarded_at: float, status: int) -> None:
        if op is None:
            return
        now = time.monotonic()
        with self.lock:
            if 200 <= status < 300 and api != "DeleteGatewayTarget":
                op.release_at = max(now, forwarded_at + self.delay)
            else:
                op.release_at = now

    def note_error(self, service, api, status):
        key = f"{SERVICE_SHORT.get(service, service)}.{api or '?'}"
        with self.lock:
            st = self.stats()
            errs = st["errors"].setdefault(key, {})
            errs[str(status)] = errs.get(str(status), 0) + 1

    def note_unknown(self, method, path, service):
        shape = f"{service} {method} {path_shape(path)}"
        with self.lock:
            st = self.stats()
            st["unknown"][shape] = st["unknown"].get(shape, 0) + 1
        print(f"quota_proxy: unknown request {shape}", file=sys.stderr, flush=True)

    def enter(self):
        with self.lock:
            self.inflight += 1
            st = self.stats()
            st["max_inflight"] = max(st["max_inflight"], self.inflight)

    def leave(self):
        with self.lock:
            self.inflight -= 1


def throttle_response(service: str):
    """(status, headers, body) of a throttled request, as the service answers it."""
    rid = str(uuid.uuid4())
    if service == "bedrock-agentcore":
        return 429, [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "ThrottlingException"),
            ("x-amzn-RequestId", rid),
        ], b'{"message":"Rate exceeded"}'
    if service == "lambda":
        return 429, [
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "TooManyRequestsException"),
            ("x-amzn-RequestId", rid),
        ], b'{"Type":"User","message":"Rate exceeded"}'
    if service in ("iam", "sts"):
        ns = (
            "https://iam.amazonaws.com/doc/2010-05-08/"
            if service == "iam"
            else "https://sts.amazonaws.com/doc/2011-06-15/"
        )
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type>'
            "<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        ).encode()
        return 400, [("Content-Type", "text/xml"), ("x-amzn-RequestId", rid)], body
    # awsJson 1.1 services (ECR, SSM)
    return 400, [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", rid),
    ], b'{"__type":"ThrottlingException","message":"Rate exceeded"}'


HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "quota-proxy"
    sys_version = ""
    # set on the class by main()
    state: State = None  # type: ignore[assignment]
    upstream_host = "127.0.0.1"
    upstream_port = 5000
    local = threading.local()

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- plumbing ---------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding", "") or "").lower():
            out = bytearray()
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, headers, body: bytes) -> None:
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in HOP_BY_HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _upstream(self, fresh=False) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=300)
            self.local.conn = conn
        return conn

    def _forward(self, body: bytes):
        for attempt in range(2):
            conn = self._upstream(fresh=attempt > 0)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for k, v in self.headers.items():
                    if k.lower() not in HOP_BY_HOP:
                        conn.putheader(k, v)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body if body else None)
                resp = conn.getresponse()
                data = resp.read()
                return resp.status, resp.getheaders(), data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A stale keep-alive connection: moto never saw the request.
                conn.close()
                self.local.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")

    # -- control ----------------------------------------------------------

    def _control(self, body: bytes) -> None:
        segs = _segments(self.path)[1:]
        st = self.state
        if self.command == "POST" and len(segs) == 2 and segs[0] == "phase":
            st.set_phase(segs[1])
            return self._json(200, {"phase": segs[1]})
        if self.command == "POST" and segs == ["reset"]:
            st.reset()
            return self._json(200, {"reset": True})
        if self.command == "GET" and segs == ["stats"]:
            with st.lock:
                snap = json.loads(json.dumps(st.phases))
            return self._json(200, {
                "phases": snap,
                "config": {
                    "enforce": st.enforce,
                    "latency_s": st.latency,
                    "delay_s": st.delay,
                },
            })
        if self.command == "GET" and segs == ["rates"]:
            return self._json(200, {"rates": [
                {"service": s, "api": a, "bucket": b, "rate": r, "source": src}
                for s, a, b, r, src in RATE_TABLE
            ], "target_ops_per_gateway": TARGET_OPS_PER_GATEWAY})
        return self._json(404, {"error": "unknown control path"})

    def _json(self, status, obj):
        self._send(status, [("Content-Type", "application/json")], json.dumps(obj).encode())

    # -- requests ---------------------------------------------------------

    def _handle(self) -> None:
        body = self._read_body()
        if self.path.startswith("/bench-control/"):
            return self._control(body)
        st = self.state
        st.enter()
        try:
            if st.latency > 0:
                time.sleep(st.latency)
            service, api = identify(self.command, self.path, self.headers, body)
            if api is None and not self.path.startswith("/moto-api"):
                st.note_unknown(self.command, self.path, service)
            segs = _segments(self.path)
            gateway = segs[1] if len(segs) >= 3 and segs[0] == "gateways" else None
            ok, _reason, op = st.admit(service, api, gateway)
            if not ok:
                return self._send(*throttle_response(service))
            forwarded_at = time.monotonic()
            status = 502
            try:
                status, headers, data = self._forward(body)
            except Exception as e:  # moto gone or broken
                st.finished(op, api, forwarded_at, 502)
                return self._send(502, [("Content-Type", "text/plain")], f"proxy: {e}".encode())
            st.finished(op, api, forwarded_at, status)
            if status >= 400:
                st.note_error(service, api, status)
            self._send(status, headers, data)
        finally:
            st.leave()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--upstream", required=True, help="moto's URL, http://127.0.0.1:PORT")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--latency-ms", type=float, default=30.0, help="added to every request")
    p.add_argument("--delay", type=float, default=2.0,
                   help="moto's CREATING/UPDATING delay (seconds), for the target slots")
    p.add_argument("--no-enforce", action="store_true", help="record only, never throttle")
    p.add_argument("--no-parent-watch", action="store_true",
                   help="keep running when the process that started us exits")
    args = p.parse_args()
    parent = os.getppid()

    up = urllib.parse.urlsplit(args.upstream)
    Handler.upstream_host = up.hostname or "127.0.0.1"
    Handler.upstream_port = up.port or 80
    Handler.state = State(not args.no_enforce, args.delay, args.latency_ms / 1000.0)
    server = Server((args.host, args.port), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    if not args.no_parent_watch and parent != 1:
        def watch():
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(0)  # reparented: whoever started us is gone

        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
