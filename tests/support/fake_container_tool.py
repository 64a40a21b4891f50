#!/usr/bin/env python3
"""A stand-in for docker / podman / finch in agentform's tests.

Run through a wrapper named like the tool it stands in for. Appends each
invocation (its argv) as a JSON line to ``$FAKE_CONTAINER_TOOL_LOG``, and:

* ``login --username AWS --password-stdin REGISTRY``: reads the password
  from stdin; fails on an empty one.
* ``buildx build --platform linux/arm64 -f DOCKERFILE -t IMAGE --push CONTEXT``
  (docker) or ``build ...`` then ``push IMAGE`` (podman, finch): refuses any
  platform but linux/arm64, hashes the context's files and the Dockerfile,
  and pushes an image manifest naming that hash to ECR through the SDK
  (boto3, against ``$AWS_ENDPOINT_URL``), under IMAGE's repository and tag.
  So a changed context gives a new digest, as a real build would.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

import boto3


def log(argv):
    with open(os.environ["FAKE_CONTAINER_TOOL_LOG"], "a") as f:
        f.write(json.dumps(argv) + "\n")


def option(args, name):
    i = args.index(name)
    return args[i + 1]


def context_hash(context: str, dockerfile: str) -> str:
    h = hashlib.sha256()
    root = Path(context)
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and ".git" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    h.update(Path(dockerfile).read_bytes())
    return h.hexdigest()


def push(image: str, digest_of_context: str):
    registry, rest = image.split("/", 1)
    repository, tag = rest.rsplit(":", 1)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + digest_of_context,
        },
        "layers": [],
    }
    ecr = boto3.client(
        "ecr",
        endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
    )
    ecr.put_image(repositoryName=repository, imageTag=tag, imageManifest=json.dumps(manifest))


def state_file(image: str) -> Path:
    return Path(os.environ["FAKE_CONTAINER_TOOL_LOG"] + ".built." + hashlib.sha1(image.encode()).hexdigest())


def main():
    args = sys.argv[1:]
    log(args)
    if args[:1] == ["login"]:
        if sys.stdin.read().strip() == "" or option(args, "--username") != "AWS":
            print("login: no password", file=sys.stderr)
            return 1
        return 0
    if args[:2] == ["buildx", "build"] or args[:1] == ["build"]:
        if option(args, "--platform") != "linux/arm64":
            print("fake tool: only linux/arm64 builds", file=sys.stderr)
            return 1
        image, dockerfile, context = option(args, "-t"), option(args, "-f"), args[-1]
        digest = context_hash(context, dockerfile)
        if "--push" in args:
            push(image, digest)
        else:
            state_file(image).write_text(digest)
        return 0
    if args[:1] == ["push"]:
        image = args[1]
        push(image, state_file(image).read_text())
        return 0
    print(f"fake tool: unknown command {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
