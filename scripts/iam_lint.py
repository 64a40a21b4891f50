#!/usr/bin/env python3
"""Runs parliament on IAM policy files and fails on any finding that
scripts/parliament.yaml does not suppress. Called by scripts/iam-lint.sh.

parliament reads the config file itself (titles, severities); this driver
applies its `ignore_locations` entries, because parliament 1.6.4's own
matching never matches an entry read from YAML (its `make_list` only knows
its JSON parser's nodes and turns a plain string or list into []). The
semantics are parliament's documented ones: an entry suppresses a finding
when every field it names fully matches (case-insensitively) one of its
regular expressions, a field being a key of the finding's location
(`filepath`, `string`, `line`, ...) or `detail`, the finding's detail as
text. Each entry must carry a `reason`; an entry that suppresses nothing is
an error too, so no suppression outlives its cause.

Usage: iam_lint.py CONFIG FILE...
"""

import re
import sys

import parliament
from parliament.cli import print_finding

SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def field(finding, name):
    if name == "detail":
        return str(finding.detail)
    return str(finding.location.get(name, ""))


def matches(entry, finding):
    for name, patterns in entry.items():
        if name == "reason":
            continue
        if isinstance(patterns, str):
            patterns = [patterns]
        value = field(finding, name).lower()
        if not any(re.fullmatch(str(p).lower(), value) for p in patterns):
            return False
    return True


def main(argv):
    config_path, files = argv[1], argv[2:]
    community = parliament.iam_definition_path.replace(
        "iam_definition.json", "community_auditors/config_override.yaml"
    )
    parliament.override_config(community)
    parliament.override_config(config_path)
    entries = []
    for issue, settings in parliament.config.items():
        for entry in settings.get("ignore_locations") or []:
            if not str(entry.get("reason", "")).strip():
                print(f"{config_path}: an ignore_locations entry of {issue} has no reason: {entry}")
                return 2
            entries.append((issue, entry))
    used = [0] * len(entries)
    failed = 0
    for path in files:
        with open(path) as f:
            policy = parliament.analyze_policy_string(
                f.read(), path, include_community_auditors=True, config=parliament.config
            )
        for finding in policy.findings:
            finding = parliament.enhance_finding(finding)
            if SEVERITIES.index(finding.severity) < SEVERITIES.index("INFO"):
                continue
            hit = [
                i
                for i, (issue, entry) in enumerate(entries)
                if issue == finding.issue and matches(entry, finding)
            ]
            for i in hit:
                used[i] += 1
            if not hit:
                print_finding(finding)
                failed += 1
    for (issue, entry), n in zip(entries, used):
        reason = " ".join(str(entry["reason"]).split())
        print(f"suppressed {n:3} {issue}: {reason}")
    unused = [(issue, entry) for (issue, entry), n in zip(entries, used) if n == 0]
    for issue, entry in unused:
        print(f"{config_path}: this {issue} suppression matches nothing; remove it: {entry}")
    print(f"{len(files)} documents, {failed} finding(s) not suppressed")
    return 1 if failed or unused else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
