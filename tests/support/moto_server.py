#!/usr/bin/env python3
"""Start a moto server configured for agentform's integration tests.

Usage (with the venv's interpreter):

    .venv/bin/python tests/support/moto_server.py --host 127.0.0.1 --port PORT

Prints exactly one line to stdout, ``READY`` (or ``READY <port>`` when started
with ``--port 0``, which lets the OS pick a free port), once the server answers
HTTP requests, then serves until it receives SIGTERM/SIGINT or until its parent
process goes away (disable that with ``--no-parent-watch``). Request logging
goes to stderr only with ``--verbose``; errors are always logged there.

What is configured on top of a plain ``moto_server``:

* AgentCore gateways, gateway targets, agent runtimes and runtime endpoints
  report CREATING for AGENTFORM_MOTO_DELAY seconds (default 1; ``--delay``
  overrides it) and then READY. After an Update* call they report UPDATING for
  the same delay and then READY. A delay of 0 means "READY on the next read".
* Runtime ARNs are ``...:runtime/{agentRuntimeId}`` and stay the same (with
  their tags) across UpdateAgentRuntime, and gateway URLs end in ``/mcp``, as
  on real AWS (moto mints ``...:agent/{uuid}:{version}`` per update and
  leaves ``/mcp`` out).
* DeleteGateway fails with ConflictException while the gateway has targets,
  as on real AWS (moto would delete the targets with it).
* Otherwise deletes are moto's own behaviour: the resource is removed at once (the
  Delete* response says DELETING; the next Get* gets ResourceNotFoundException).

The delay is registered as the *default* transition of each model, so a test
can still override it at runtime with moto's own API
(POST /moto-api/state-manager/set-transition) and return to the launcher's
default with /moto-api/state-manager/unset-transition. /moto-api/reset clears
resources but not transitions.
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import signal
import threading
import time
from datetime import datetime

# moto's state-manager names for the AgentCore control-plane models
# (see moto/bedrockagentcorecontrol/models.py, ManagedState.__init__ calls).
AGENTCORE_MODELS = (
    "bedrock-agentcore-control::gateway",
    "bedrock-agentcore-control::gateway_target",
    "bedrock-agentcore-control::agent_runtime",
    "bedrock-agentcore-control::agent_runtime_endpoint",
)


def transition_for(delay: float) -> dict:
    """The moto state-manager transition that makes one step take `delay` s."""
    if delay <= 0:
        return {"progression": "immediate"}
    return {"progression": "time", "seconds": delay}


def configure_agentcore(delay: float) -> None:
    from moto.bedrockagentcorecontrol import models
    from moto.moto_api import state_manager

    # Supported hook: the default transition per model. Without this moto uses
    # "immediate" (READY on the first Get* after Create*).
    for model_name in AGENTCORE_MODELS:
        state_manager.register_default_transition(model_name, transition_for(delay))

    # Missing hook, hence a monkeypatch: moto's models only declare the
    # transition CREATING -> READY, while their update() sets status to
    # UPDATING, which then never changes. For each model we
    #   1. add UPDATING -> READY to the instance's transition list, and
    #   2. restart the transition clock/counter in update(), because moto only
    #      resets them when a transition happens, so with a "time" progression
    #      UPDATING would otherwise end at once if the resource had been READY
    #      for longer than the delay.
    for cls in (
        models.Gateway,
        models.GatewayTarget,
        models.AgentRuntime,
        models.AgentRuntimeEndpoint,
    ):
        if getattr(cls, "_agentform_patched", False):
            continue
        original_init = cls.__init__
        original_update = cls.update

        def patched_init(self, *args, __orig=original_init, **kwargs):
            __orig(self, *args, **kwargs)
            self._transitions = list(self._transitions) + [("UPDATING", "READY")]

        def patched_update(self, *args, __orig=original_update, **kwargs):
            __orig(self, *args, **kwargs)
            self._time_progressed = datetime.now()
            self._tick = 0

        cls.__init__ = patched_init
        cls.update = patched_update
        cls._agentform_patched = True

    patch_real_aws_identifiers(models)


def patch_real_aws_identifiers(models) -> None:
    """Make runtime ARNs, gateway URLs and gateway deletes behave like the real service's.

    * Runtime ARN. moto builds ``...:agent/{uuid}:{version}`` and mints a new
      one on every UpdateAgentRuntime; its tags stay on the old ARN, so
      ListTagsForResource on the current ARN returns {} after an update. Real
      AWS: ``arn:aws:bedrock-agentcore:{region}:{acct}:runtime/{agentRuntimeId}``,
      stable across updates (the version is a separate field), tags kept.
      CreateAgentRuntime tags ``runtime.agent_runtime_arn`` after __init__,
      so setting the stable ARN in __init__ puts the tags on it.
    * Gateway URL. Real AWS returns
      ``https://{gatewayId}.gateway.bedrock-agentcore.{region}.amazonaws.com/mcp``;
      moto leaves out the ``/mcp`` path.
    """
    from moto.utilities.utils import get_partition

    runtime_cls = models.AgentRuntime
    if not getattr(runtime_cls, "_agentform_arn_patched", False):
        original_init = runtime_cls.__init__
        original_update = runtime_cls.update

        def stable_arn(self) -> str:
            return (
                f"arn:{get_partition(self.region_name)}:bedrock-agentcore:"
                f"{self.region_name}:{self.account_id}:runtime/{self.agent_runtime_id}"
            )

        def runtime_init(self, *args, __orig=original_init, **kwargs):
            __orig(self, *args, **kwargs)
            self.agent_runtime_arn = stable_arn(self)
            for version in self.versions:  # the snapshot taken in __init__
                version["agentRuntimeArn"] = self.agent_runtime_arn

        def runtime_update(self, *args, __orig=original_update, **kwargs):
            # moto's update() parses the uuid out of an `agent/{uuid}:{v}` ARN
            # to mint the next one: hand it that shape, then put ours back.
            self.agent_runtime_arn = f"agent/{self.agent_runtime_id}:0"
            try:
                __orig(self, *args, **kwargs)
            finally:
                self.agent_runtime_arn = stable_arn(self)
                if self.versions:
                    self.versions[-1]["agentRuntimeArn"] = self.agent_runtime_arn

        runtime_cls.__init__ = runtime_init
        runtime_cls.update = runtime_update
        runtime_cls._agentform_arn_patched = True

    gateway_cls = models.Gateway
    if not getattr(gateway_cls, "_agentform_url_patched", False):
        original_gateway_init = gateway_cls.__init__

        def gateway_init(self, *args, __orig=original_gateway_init, **kwargs):
            __orig(self, *args, **kwargs)
            if not self.gateway_url.endswith("/mcp"):
                self.gateway_url = self.gateway_url.rstrip("/") + "/mcp"

        gateway_cls.__init__ = gateway_init
        gateway_cls._agentform_url_patched = True

    # * DeleteGateway. moto deletes the gateway's targets with it; the real
    #   service only deletes a gateway whose targets are gone (AWS's
    #   agentcore-cli and starter toolkit delete targets first for that
    #   reason). Refusing here catches a wrong delete order in our tests.
    backend_cls = models.BedrockAgentCoreControlBackend
    if not getattr(backend_cls, "_agentform_delete_patched", False):
        from moto.bedrockagentcorecontrol.exceptions import ConflictException

        original_delete_gateway = backend_cls.delete_gateway

        def delete_gateway(self, gateway_identifier, __orig=original_delete_gateway):
            gateway = self._get_gateway(gateway_identifier)
            left = [t for (gid, t) in self.gateway_targets if gid == gateway.gateway_id]
            if left:
                raise ConflictException(
                    f"Gateway {gateway.gateway_id} has {len(left)} target(s); "
                    "delete them before deleting the gateway"
                )
            return __orig(self, gateway_identifier)

        backend_cls.delete_gateway = delete_gateway
        backend_cls._agentform_delete_patched = True


def wait_until_serving(host: str, port: int, timeout: float = 30.0) -> None:
    """Poll until the server answers a real HTTP request (moto's own API)."""
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    path = (
        "/moto-api/state-manager/get-transition?model_name=" + AGENTCORE_MODELS[0]
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(probe_host, port, timeout=5)
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            if resp.status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"moto server did not answer on {probe_host}:{port}")
        time.sleep(0.05)


def main() -> None:
    # Read as early as possible: a parent that exits right after spawning us
    # must still be noticed as gone.
    parent = os.getppid()

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=5000, help="0 = let the OS pick a free port"
    )
    parser.add_argument(
        "--delay",
        type=float,
        default=float(os.environ.get("AGENTFORM_MOTO_DELAY", "1")),
        help="seconds in CREATING/UPDATING (default: $AGENTFORM_MOTO_DELAY or 1)",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log every request to stderr"
    )
    parser.add_argument(
        "--no-parent-watch",
        action="store_true",
        help="keep running when the parent process exits",
    )
    args = parser.parse_args()

    if not args.verbose:
        # werkzeug logs one line per request at INFO; keep errors only, so a
        # harness that pipes stderr without draining it cannot stall us.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    configure_agentcore(args.delay)

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    # Same app and handler as `moto_server` / ThreadedMotoServer, but the
    # socket is bound here in the main thread, so a busy port fails loudly:
    # werkzeug prints "Address already in use" and exits with status 1
    # (ThreadedMotoServer.start() would wait forever in that case).
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(
        args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler
    )
    port = server.server_port
    # moto builds some self-referencing URLs from MOTO_PORT.
    os.environ["MOTO_PORT"] = str(port)

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    wait_until_serving(args.host, port)
    print("READY" if args.port else f"READY {port}", flush=True)

    watch_parent = not args.no_parent_watch and parent != 1
    try:
        while True:
            time.sleep(0.5)
            if watch_parent and os.getppid() != parent:
                # Reparented: whoever started us is gone.
                break
    finally:
        # No graceful shutdown: clients may hold idle keep-alive connections
        # whose handler threads would delay a join; exit at once instead.
        server.socket.close()
        os._exit(0)


if __name__ == "__main__":
    main()
