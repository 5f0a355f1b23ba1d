#!/usr/bin/python3
"""Every field of the JSON schemas, and every value of a closed set, is explained in docs/report.md.

Usage: check_docs.py DOCS_DIR
A property name must be a word of some `code span` of report.md; an enum value
(a verdict kind, an allocator phase, a throttle reason...) must be a whole code
span. So a field added to a schema without a line in the guide fails here.
"""
import json
import re
import sys

docs = sys.argv[1]
guide = open(f"{docs}/report.md").read()
spans = re.findall(r"`([^`\n]+)`", guide)
words = {w for s in spans for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", s)}
whole = set(spans)


def walk(node, path, names, values):
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            names.setdefault(name, f"{path}.{name}")
        for v in node.get("enum", []):
            if isinstance(v, str) and v:
                values.setdefault(v, path)
        for key, sub in node.items():
            walk(sub, f"{path}/{key}" if key not in ("properties",) else path, names, values)
    elif isinstance(node, list):
        for sub in node:
            walk(sub, path, names, values)


failures = []
for schema in ("report", "ps", "bt", "mod", "sys"):
    names, values = {}, {}
    walk(json.load(open(f"{docs}/kstall-{schema}.schema.json")), schema, names, values)
    failures += [f"{schema} field {n} ({where}) is not explained in report.md"
                 for n, where in sorted(names.items()) if n not in words]
    failures += [f"{schema} value {v!r} ({where}) is not a `code span` of report.md"
                 for v, where in sorted(values.items()) if v not in whole]
    print(f"{schema}: {len(names)} field names, {len(values)} enum values")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
