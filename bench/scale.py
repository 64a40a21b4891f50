#!/usr/bin/env python3
"""Scale benchmark of agentform against moto behind a quota-enforcing proxy.

Run with the repository's venv interpreter (it needs boto3 for the leftover
check); ``bench/run.sh`` does that. For each stack (the reference example and
generated specs of ~20, ~100, ~300 resources) it runs, as separate processes
of the agentform binary ($AGENTFORM_BIN, default target/release/agentform):

  validate  (wall time, median of 7, waited for without polling)
  apply --auto-approve          wall time, exit, calls per API, throttles
  plan --detailed-exitcode      right after: should be a no-op (exit 0)
  destroy --auto-approve        wall time, exit, calls, throttles, leftovers

with AWS_ENDPOINT_URL pointing at bench/quota_proxy.py (which forwards to
tests/support/moto_server.py), fake credentials, AWS_REGION=us-east-1 and no
AGENTFORM_RATE_SCALE, so agentform keeps to AWS's own rates. Peak RSS is the
peak RSS (VmHWM) of each agentform child, nothing else's. moto is reset
between stacks. Finally an ~800-resource spec is validated and planned
against the empty account, for time and memory only.

The apply lower bound is explained in `lower_bound`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the repository

import gen_spec  # noqa: E402
import quota_proxy  # noqa: E402

# ---------------------------------------------------------------------------
# Lower bound of an apply
# ---------------------------------------------------------------------------

CREATE_API = {
    "iam_role": ("iam", "CreateRole"),
    "iam_role_policy": ("iam", "PutRolePolicy"),
    "lambda_function": ("lambda", "CreateFunction"),
    "ecr_repository": ("ecr", "CreateRepository"),
    "gateway": ("bedrock-agentcore", "CreateGateway"),
    "gateway_target": ("bedrock-agentcore", "CreateGatewayTarget"),
    "runtime": ("bedrock-agentcore", "CreateAgentRuntime"),
    "runtime_endpoint": ("bedrock-agentcore", "CreateAgentRuntimeEndpoint"),
}
ASYNC_KINDS = {"gateway", "gateway_target", "runtime", "runtime_endpoint"}


def lower_bound(resources: list[dict], latency: float, delay: float) -> dict:
    """A time no client can beat when applying `resources` from nothing.

    Model. Every resource r (from ``agentform graph --format json``) is one
    create request to its API (CREATE_API) and lasts d(r):

    * d = L (the proxy's latency) for IAM roles and role policies, Lambda
      functions and ECR repositories (moto answers them done);
    * d = L + D for gateways, targets, runtimes and endpoints: the request,
      then D (moto's CREATING delay, counted from when the proxy forwards
      the request) until READY. The read that sees READY adds nothing: a
      perfect client times it to arrive just as the resource turns READY.

    A resource starts only once everything it depends_on is finished; the
    time before it is head(r) (0 for roots) and the longest chain of
    dependents after it is tail(r). Only creates are counted (no reads, no
    lock, no retries), moto's own processing time is taken as 0, and every
    bound below holds for any schedule, so their maximum is a true lower
    bound:

    1. Critical path: max over r of head(r) + d(r).
    2. Rate, per bucket of the proxy's table (quota_proxy.RATE_TABLE) with
       rate p and capacity C = p (a full bucket at the start): n creates in
       it need max(0, (n - C) / p) seconds between the first token and the
       last, so the bucket's bound is
           min head(r) + max(0, (n - C)/p) + min (d(r) + tail(r)).
       (The brief's (n - 1)/p would assume a bucket of one token; with
       AWS's bucket of `rate` tokens a client may burst C requests, so
       (n - C)/p is what keeps this a lower bound.)
    3. Per gateway with k targets: at most 5 target operations at once,
       each holding its slot at least D, so the last target is READY no
       earlier than
           min head(target) + L + ceil(k / 5) * D  (+ min tail(target)).
    """
    by_addr = {r["address"]: r for r in resources}
    dependents: dict[str, list[str]] = {a: [] for a in by_addr}
    for r in resources:
        for dep in r["depends_on"]:
            if dep in dependents:
                dependents[dep].append(r["address"])

    def dur(addr: str) -> float:
        return latency + (delay if by_addr[addr]["kind"] in ASYNC_KINDS else 0.0)

    head: dict[str, float] = {}
    tail: dict[str, float] = {}

    def head_of(a: str) -> float:
        if a not in head:
            deps = [d for d in by_addr[a]["depends_on"] if d in by_addr]
            head[a] = max((head_of(d) + dur(d) for d in deps), default=0.0)
        return head[a]

    def tail_of(a: str) -> float:
        if a not in tail:
            tail[a] = max((dur(s) + tail_of(s) for s in dependents[a]), default=0.0)
        return tail[a]

    for a in by_addr:
        head_of(a)
        tail_of(a)

    cp = max((head[a] + dur(a) for a in by_addr), default=0.0)
    bounds = {"critical path": cp}

    buckets: dict[str, list[str]] = {}
    rates: dict[str, float] = {}
    for a, r in by_addr.items():
        api = CREATE_API.get(r["kind"])
        lim = quota_proxy.limit_for(*api) if api else None
        if lim is None:
            continue
        key, rate, _ = lim
        buckets.setdefault(key, []).append(a)
        rates[key] = rate
    for key, addrs in buckets.items():
        n, p = len(addrs), rates[key]
        b = (
            min(head[a] for a in addrs)
            + max(0.0, (n - p) / p)
            + min(dur(a) + tail[a] for a in addrs)
        )
        bounds[f"rate {key} ({n} at {p:g}/s)"] = b

    per_gw: dict[str, list[str]] = {}
    for a, r in by_addr.items():
        if r["kind"] == "gateway_target":
            gw = a.split(".", 1)[1].split("/", 1)[0]
            per_gw.setdefault(gw, []).append(a)
    for gw, addrs in per_gw.items():
        k = len(addrs)
        b = (
            min(head[a] for a in addrs)
            + latency
            + math.ceil(k / quota_proxy.TARGET_OPS_PER_GATEWAY) * delay
            + min(tail[a] for a in addrs)
        )
        bounds[f"gateway {gw} ({k} targets, 5 at once)"] = b

    binding = max(bounds, key=bounds.get)
    if cp >= bounds[binding] - 1e-9:
        binding = "critical path"  # on a tie, the simplest explanation
    return {"lb": bounds[binding], "binding": binding, "bounds": bounds}


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------


def http(method: str, url: str, timeout: float = 30) -> bytes:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return resp.read()


def vm_hwm_kib(pid: int, binary: str) -> int:
    """Peak RSS (VmHWM, KiB) of process `pid` once it runs `binary`; 0 before
    its exec or after it exits."""
    try:
        if os.path.realpath(f"/proc/{pid}/exe") != os.path.realpath(binary):
            return 0
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def start_ready(cmd: list[str], log: Path, env=None) -> tuple[subprocess.Popen, int]:
    """Starts a server that prints `READY <port>`; returns it and the port."""
    err = open(log, "wb")
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env)
    line = p.stdout.readline().decode().strip()
    if not line.startswith("READY "):
        p.kill()
        raise SystemExit(f"{cmd[1]} did not start ({line!r}); see {log}")
    return p, int(line.split()[1])


class Runner:
    def __init__(self, binary: str, proxy: str, moto: str, logs: Path, timeout: float):
        self.binary = binary
        self.proxy = proxy
        self.moto = moto
        self.logs = logs
        self.timeout = timeout
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AGENTFORM_"))}
        env.update(
            AWS_ENDPOINT_URL=proxy,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1",
            AWS_CONFIG_FILE=str(logs / "no-aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(logs / "no-aws-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            NO_COLOR="1",
        )
        self.env = env

    def phase(self, name: str) -> None:
        http("POST", f"{self.proxy}/bench-control/phase/{name}")

    def stats(self, name: str) -> dict:
        return json.loads(http("GET", f"{self.proxy}/bench-control/stats"))["phases"].get(name, {})

    def run(self, label: str, args: list[str], phase: str | None = None) -> dict:
        """Runs agentform; returns wall time, exit code, peak RSS and (with a phase) its calls."""
        if phase:
            self.phase(phase)
        out = self.logs / f"{label}.stdout"
        err = self.logs / f"{label}.stderr"
        with open(out, "wb") as o, open(err, "wb") as e:
            start = time.monotonic()
            p = subprocess.Popen(
                [self.binary, *args], stdin=subprocess.DEVNULL, stdout=o, stderr=e, env=self.env
            )
            status, usage, timed_out = None, None, False
            hwm_kib = 0
            while status is None:
                hwm_kib = max(hwm_kib, vm_hwm_kib(p.pid, self.binary))
                pid, st, ru = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    status, usage = st, ru
                    break
                if time.monotonic() - start > self.timeout and not timed_out:
                    timed_out = True
                    p.send_signal(signal.SIGTERM)
                    kill_at = time.monotonic() + 10
                elif timed_out and time.monotonic() > kill_at:
                    p.kill()
                # Short commands (validate) are timed to the millisecond.
                time.sleep(0.001 if time.monotonic() - start < 0.1 else 0.005)
            wall = time.monotonic() - start
            p.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        res = {
            "args": args,
            "seconds": wall,
            "exit": p.returncode,
            "timed_out": timed_out,
            # Not ru_maxrss: a child forked from this (large) Python process
            # keeps the parent's pages in its high-water mark across exec.
            # VmHWM of the exec'd image, sampled every 5 ms, misses at most
            # the last few ms of growth.
            "rss_mib": hwm_kib / 1024.0,
            "stderr_head": err.read_text(errors="replace").splitlines()[:12],
            "stdout_tail": out.read_text(errors="replace").splitlines()[-6:],
        }
        if phase:
            res["proxy"] = self.stats(phase)
        return res

    def reset(self) -> None:
        http("POST", f"{self.moto}/moto-api/reset")
        http("POST", f"{self.proxy}/bench-control/reset")


def leftovers(moto: str, project: str) -> list[str]:
    """What of `project` is still in the account, read from moto directly."""
    import boto3

    kw = dict(
        endpoint_url=moto,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    left = []
    iam = boto3.client("iam", **kw)
    for page in iam.get_paginator("list_roles").paginate(PathPrefix=f"/agentform/{project}/"):
        left += [f"role {r['RoleName']}" for r in page["Roles"]]
    lam = boto3.client("lambda", **kw)
    for page in lam.get_paginator("list_functions").paginate():
        left += [
            f"function {f['FunctionName']}"
            for f in page["Functions"]
            if f["FunctionName"].startswith(project + "-")
        ]
    ac = boto3.client("bedrock-agentcore-control", **kw)
    token = None
    while True:
        page = ac.list_gateways(**({"nextToken": token} if token else {}))
        for g in page.get("items", []):
            if g["name"].startswith(project + "-"):
                left.append(f"gateway {g['name']}")
                tgts = ac.list_gateway_targets(gatewayIdentifier=g["gatewayId"]).get("items", [])
                left += [f"target {g['name']}/{t['name']}" for t in tgts]
        token = page.get("nextToken")
        if not token:
            break
    rt_prefix = project.replace("-", "_") + "_"
    token = None
    while True:
        page = ac.list_agent_runtimes(**({"nextToken": token} if token else {}))
        left += [
            f"runtime {r['agentRuntimeName']}"
            for r in page.get("agentRuntimes", [])
            if r["agentRuntimeName"].startswith(rt_prefix)
        ]
        token = page.get("nextToken")
        if not token:
            break
    ecr = boto3.client("ecr", **kw)
    for page in ecr.get_paginator("describe_repositories").paginate():
        left += [
            f"repository {r['repositoryName']}"
            for r in page["repositories"]
            if r["repositoryName"].startswith(project + "/")
        ]
    ssm = boto3.client("ssm", **kw)
    try:
        ssm.get_parameter(Name=f"/agentform/{project}/lock")
        left.append("lock parameter")
    except ssm.exceptions.ParameterNotFound:
        pass
    return left


# ---------------------------------------------------------------------------
# One stack
# ---------------------------------------------------------------------------


def total(d: dict) -> int:
    return sum(d.values()) if d else 0


# Listings of a collection of the account (one page each), as opposed to
# per-resource reads such as ListRolePolicies or ListTagsForResource.
COLLECTION_LISTS = {
    "agentcore.ListGateways",
    "agentcore.ListGatewayTargets",
    "agentcore.ListAgentRuntimes",
    "agentcore.ListAgentRuntimeEndpoints",
    "iam.ListRoles",
    # The account's roles with their policies, one page per call (agentform
    # reads roles this way instead of ListRoles plus three calls per role).
    "iam.GetAccountAuthorizationDetails",
    "lambda.ListFunctions",
    "ecr.DescribeRepositories",
}


def list_pages(calls: dict) -> int:
    return sum(n for api, n in calls.items() if api in COLLECTION_LISTS)


def throttled(phase_stats: dict) -> dict:
    """Throttled calls (or, with --no-enforce, those that would have been)."""
    out = dict(phase_stats.get("throttles", {}))
    for k, n in phase_stats.get("would_throttle", {}).items():
        out[k] = out.get(k, 0) + n
    return out


def graph(runner: Runner, spec: Path) -> list[dict]:
    out = subprocess.run(
        [runner.binary, "graph", "--format", "json", "-f", str(spec)],
        capture_output=True, env=runner.env, check=True,
    ).stdout
    return json.loads(out)["resources"]


def blocking_seconds(runner: Runner, args: list[str]) -> float:
    """Wall time of one agentform process, waited for without polling (the
    sampling loop of `Runner.run` adds milliseconds a short command shows)."""
    start = time.monotonic()
    subprocess.run([runner.binary, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, env=runner.env, check=False, timeout=runner.timeout)
    return time.monotonic() - start


def validate_times(runner: Runner, label: str, spec: Path, n: int = 7) -> dict:
    """Median wall time of `n` validate processes (blocking waits), and the
    peak RSS and exit code of one more, sampled."""
    args = ["validate", "-f", str(spec)]
    sampled = runner.run(f"{label}.validate", args)
    times = [blocking_seconds(runner, args) for _ in range(n)]
    return {
        "ms": statistics.median(times) * 1000,
        "rss_mib": sampled["rss_mib"],
        "exit": sampled["exit"],
        "stderr_head": sampled["stderr_head"] if sampled["exit"] else [],
    }


def bench_stack(runner: Runner, name: str, spec: Path, project: str, latency: float,
                delay: float) -> dict:
    print(f"== {name}: {spec}", file=sys.stderr, flush=True)
    runner.reset()
    resources = graph(runner, spec)
    lb = lower_bound(resources, latency, delay)
    res = {"name": name, "project": project, "resources": len(resources), "lower_bound": lb}
    res["validate"] = validate_times(runner, name, spec)
    f = ["-f", str(spec)]
    for key, args in (
        ("apply", ["apply", "--auto-approve", *f]),
        ("plan", ["plan", "--detailed-exitcode", *f]),
        ("destroy", ["destroy", "--auto-approve", *f]),
    ):
        r = runner.run(f"{name}.{key}", args, phase=f"{name}.{key}")
        res[key] = r
        calls = r["proxy"].get("calls", {})
        print(
            f"   {key}: {r['seconds']:.1f} s, exit {r['exit']}, {total(calls)} calls, "
            f"{total(throttled(r['proxy']))} throttled, {r['rss_mib']:.0f} MiB",
            file=sys.stderr, flush=True,
        )
    res["left"] = leftovers(runner.moto, project)
    if res["left"]:
        print(f"   left after destroy: {len(res['left'])}", file=sys.stderr, flush=True)
    return res


def bench_big(runner: Runner, spec: Path, resources: int) -> dict:
    print(f"== s800 (validate/plan only): {spec}", file=sys.stderr, flush=True)
    runner.reset()
    v = validate_times(runner, "s800", spec)
    p = runner.run("s800.plan", ["plan", "--detailed-exitcode", "-f", str(spec)], phase="s800.plan")
    print(f"   validate {v['ms']:.0f} ms {v['rss_mib']:.0f} MiB; plan {p['seconds']:.1f} s "
          f"exit {p['exit']} {p['rss_mib']:.0f} MiB", file=sys.stderr, flush=True)
    return {"resources": resources, "validate": v, "plan": p}


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def fmt_s(x: float) -> str:
    return f"{x:.1f}"


def report(stacks: list[dict], big: dict | None, cfg: dict, wall: float) -> str:
    L = []
    L.append("# agentform scale benchmark\n")
    L.append(
        f"Binary `{cfg['binary']}`; moto `--delay {cfg['delay']:g}`; proxy latency "
        f"{cfg['latency_ms']:g} ms per request; quotas "
        f"{'enforced' if cfg['enforce'] else 'NOT enforced (record only)'}; "
        f"per-command timeout {cfg['timeout']:g} s; {cfg['when']}; "
        f"whole run {wall:.0f} s.\n"
    )
    L.append(
        "| stack | resources | apply s | lower bound s | ratio | apply calls | apply throttles "
        "| apply exit | no-op plan s | plan exit | plan calls | resources + list pages "
        "| destroy s | destroy exit | destroy calls | destroy throttles | left after destroy "
        "| validate ms | peak RSS MiB apply / plan / destroy |"
    )
    L.append("|" + "---|" * 19)
    for s in stacks:
        a, p, d = s["apply"], s["plan"], s["destroy"]
        ac, pc, dc = (x["proxy"].get("calls", {}) for x in (a, p, d))
        lb = s["lower_bound"]["lb"]
        L.append(
            f"| {s['name']} | {s['resources']} | {fmt_s(a['seconds'])}"
            f"{' (timeout)' if a['timed_out'] else ''} | {lb:.2f} | {a['seconds'] / lb:.2f}x "
            f"| {total(ac)} | {total(throttled(a['proxy']))} | {a['exit']} "
            f"| {fmt_s(p['seconds'])} | {p['exit']} | {total(pc)} "
            f"| {s['resources'] + list_pages(pc)} "
            f"| {fmt_s(d['seconds'])}{' (timeout)' if d['timed_out'] else ''} | {d['exit']} "
            f"| {total(dc)} | {total(throttled(d['proxy']))} | {len(s['left'])} "
            f"| {s['validate']['ms']:.0f} "
            f"| {a['rss_mib']:.0f} / {p['rss_mib']:.0f} / {d['rss_mib']:.0f} |"
        )
    L.append("")
    L.append(
        "Lower bound: see bench/README.md (critical path, per-bucket rate, 5 target "
        "operations per gateway). \"resources + list pages\" is what a plan needing one read "
        "per resource would send, plus the pages of collection listings (ListGateways, "
        "ListGatewayTargets, ListAgentRuntimes, ListAgentRuntimeEndpoints, ListRoles, GetAccountAuthorizationDetails, "
        "ListFunctions, DescribeRepositories) the plan actually sent. Calls count every request the proxy received, throttled "
        "attempts (answered by the proxy, then retried by the SDK) included.\n"
    )
    if big:
        v, p = big["validate"], big["plan"]
        pc = p["proxy"].get("calls", {})
        L.append(f"## ~800 resources ({big['resources']}), validate and plan only\n")
        L.append("| command | wall | exit | peak RSS MiB | calls | throttles |")
        L.append("|---|---|---|---|---|---|")
        L.append(f"| validate (median of 7) | {v['ms']:.0f} ms | {v['exit']} | {v['rss_mib']:.1f} | - | - |")
        L.append(
            f"| plan (empty account) | {p['seconds']:.2f} s | {p['exit']} | {p['rss_mib']:.1f} "
            f"| {total(pc)} | {total(throttled(p['proxy']))} |"
        )
        L.append("")
    for s in stacks:
        L.append(f"## {s['name']}: lower bound\n")
        lb = s["lower_bound"]
        for k, v in sorted(lb["bounds"].items(), key=lambda kv: -kv[1])[:6]:
            L.append(f"- {k}: {v:.2f} s{' (binding)' if k == lb['binding'] else ''}")
        L.append("")
        L.append(f"## {s['name']}: calls per API\n")
        L.append(
            "| API | apply | apply throttled | no-op plan | plan throttled | destroy "
            "| destroy throttled |"
        )
        L.append("|---|---|---|---|---|---|---|")
        phases = [s[k]["proxy"] for k in ("apply", "plan", "destroy")]
        apis = sorted(set().union(*(ph.get("calls", {}) for ph in phases)))
        for api in apis:
            cells = []
            for ph in phases:
                cells.append(str(ph.get("calls", {}).get(api, 0)))
                cells.append(str(throttled(ph).get(api, 0) or ""))
            L.append(f"| {api} | " + " | ".join(cells) + " |")
        L.append(
            "| **total** | "
            + " | ".join(
                f"{total(ph.get('calls', {}))} | {total(throttled(ph)) or ''}" for ph in phases
            )
            + " |"
        )
        L.append("")
        L.append(
            "Most requests in flight at once (apply / plan / destroy): "
            + " / ".join(str(ph.get("max_inflight", 0)) for ph in phases)
            + "; most target operations in progress on one gateway: "
            + " / ".join(str(ph.get("max_target_ops_per_gateway", 0)) for ph in phases)
            + ".\n"
        )
        unknown = {}
        for ph in phases:
            for k, n in ph.get("unknown", {}).items():
                unknown[k] = unknown.get(k, 0) + n
        if unknown:
            L.append(f"Unrecognised requests: {unknown}\n")
    problems = []
    for s in stacks:
        if s["validate"]["exit"]:
            problems.append((f"{s['name']} validate", s["validate"]["exit"], s["validate"]["stderr_head"]))
        for key, want in (("apply", 0), ("plan", 0), ("destroy", 0)):
            r = s[key]
            if r["exit"] != want or r["timed_out"]:
                problems.append((f"{s['name']} {key}", r["exit"], r["stderr_head"] or r["stdout_tail"]))
        if s["left"]:
            problems.append((f"{s['name']} left after destroy", len(s["left"]), s["left"][:10]))
    if big and big["plan"]["exit"] not in (0, 2):
        problems.append(("s800 plan", big["plan"]["exit"], big["plan"]["stderr_head"]))
    if problems:
        L.append("## Problems\n")
        for what, code, lines in problems:
            L.append(f"### {what}: {code}\n")
            L.append("```")
            L += [ln[:300] for ln in lines] or ["(no output)"]
            L.append("```\n")
    return "\n".join(L) + "\n"


# ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="reference,s20,s100,s300",
                    help="comma list of: reference, " + ", ".join(gen_spec.PRESETS))
    ap.add_argument("--no-800", action="store_true", help="skip the 800-resource validate/plan")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--delay", type=float, default=2.0, help="moto's CREATING/UPDATING seconds")
    ap.add_argument("--timeout", type=float, default=300.0, help="per agentform command, seconds")
    ap.add_argument("--no-enforce", action="store_true", help="proxy records only")
    ap.add_argument("--out", default=str(HERE / "results.md"))
    ap.add_argument("--workdir", default=None, help="specs and logs (default: a new temp dir)")
    args = ap.parse_args()

    started = time.monotonic()
    binary = os.environ.get("AGENTFORM_BIN") or str(REPO / "target" / "release" / "agentform")
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"agentform binary {binary} not found (build it or set AGENTFORM_BIN)")
    python = os.environ.get("AGENTFORM_PYTHON") or str(REPO / ".venv" / "bin" / "python")
    work = Path(args.workdir or tempfile.mkdtemp(prefix="agentform-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    print(f"workdir {work}", file=sys.stderr, flush=True)

    penv = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    moto, moto_port = start_ready(
        [python, str(REPO / "tests/support/moto_server.py"), "--host", "127.0.0.1",
         "--port", "0", "--delay", str(args.delay)],
        logs / "moto.log", env=penv,
    )
    moto_url = f"http://127.0.0.1:{moto_port}"
    proxy_cmd = [sys.executable, str(HERE / "quota_proxy.py"), "--upstream", moto_url,
                 "--latency-ms", str(args.latency_ms), "--delay", str(args.delay)]
    if args.no_enforce:
        proxy_cmd.append("--no-enforce")
    proxy, proxy_port = start_ready(proxy_cmd, logs / "proxy.log", env=penv)
    runner = Runner(binary, f"http://127.0.0.1:{proxy_port}", moto_url, logs, args.timeout)

    stacks, big = [], None
    try:
        # moto loads each service's backend on first use (hundreds of ms):
        # one unmeasured apply and destroy of the reference stack first, so
        # the first measured stack does not pay for the emulator's start.
        warm = gen_spec.write_reference(work / "warm-up")
        print("== warm-up (not measured)", file=sys.stderr, flush=True)
        for args_ in (["apply", "--auto-approve"], ["destroy", "--auto-approve"]):
            runner.run(f"warm-up.{args_[0]}", [*args_, "-f", str(warm)])
        for name in [s.strip() for s in args.sizes.split(",") if s.strip()]:
            if name == "reference":
                spec = gen_spec.write_reference(work / "reference")
                project = "iam-auth-demo"
            else:
                shape = gen_spec.PRESETS[name]
                spec = gen_spec.write(shape, work / name)
                project = shape.project
            stacks.append(bench_stack(runner, name, spec, project, args.latency_ms / 1000, args.delay))
        if not args.no_800:
            shape = gen_spec.PRESETS["s800"]
            spec = gen_spec.write(shape, work / "s800")
            big = bench_big(runner, spec, len(graph(runner, spec)))
    finally:
        for p in (proxy, moto):
            p.terminate()
        for p in (proxy, moto):
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()

    cfg = {
        "binary": binary,
        "delay": args.delay,
        "latency_ms": args.latency_ms,
        "enforce": not args.no_enforce,
        "timeout": args.timeout,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    text = report(stacks, big, cfg, time.monotonic() - started)
    (work / "results.json").write_text(json.dumps({"stacks": stacks, "big": big, "config": cfg}, indent=1))
    Path(args.out).write_text(text)
    print(text)
    print(f"(written to {args.out}; raw data and logs in {work})", file=sys.stderr)


if __name__ == "__main__":
    main()
