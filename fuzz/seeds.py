#!/usr/bin/env python3
"""Rebuilds fuzz/seeds/spec, the fuzzer's seed corpus: the valid specs of the
repository (examples/, templates/, tests/specs/) and every invalid spec that
`validate` has a snapshot of (tests/testsuite/snapshots/*.snap show the spec
with line numbers; the numbers are taken off again).

Run from anywhere: python3 fuzz/seeds.py
"""

import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "fuzz" / "seeds" / "spec"


# The fuzz target checks specs in a directory with a `lambda/` function
# source, so the valid seeds point there.
SOURCE = re.compile(rb"(?m)^(\s*source:) .*$")


def valid_specs():
    paths = [
        *sorted(ROOT.glob("examples/*/agentform.yaml")),
        *sorted(ROOT.glob("tests/specs/*/agentform.yaml")),
    ]
    for path in paths:
        kind = "example" if path.parts[-3] == "examples" else "spec"
        yield f"{kind}-{path.parent.name}", SOURCE.sub(rb"\1 lambda", path.read_bytes())
    template = (ROOT / "templates" / "agentform.yaml").read_bytes()
    template = template.replace(b"__PROJECT__", b"my-agent")
    yield "template", SOURCE.sub(rb"\1 lambda", template)
    # What the snapshots cannot show: bytes that are not UTF-8.
    yield "invalid-not-utf8-bytes", b"version: 1\nproject: d\xe9mo\n"


LINE = re.compile(rb"^ *\d+ \| ?(.*)$")


def snapshot_specs():
    for path in sorted((ROOT / "tests" / "testsuite" / "snapshots").glob("*.snap")):
        text = path.read_bytes()
        marker = b"\nagentform.yaml:\n"
        if marker not in text:
            continue
        body = text.split(marker, 1)[1].split(b"\nexit code:", 1)[0]
        lines = []
        for line in body.split(b"\n"):
            m = LINE.match(line)
            if m:
                lines.append(m.group(1).replace(b"<TAB>", b"\t"))
        spec = b"\n".join(lines) + (b"\n" if lines else b"")
        yield f"invalid-{path.stem}", spec


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    count = 0
    for name, data in [*valid_specs(), *snapshot_specs()]:
        (OUT / f"{name}.yaml").write_bytes(data)
        count += 1
    print(f"{count} seeds in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
