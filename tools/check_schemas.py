#!/usr/bin/env python3
"""Checks the wire contract in schemas/ (see docs/protocol.md).

1. Every *.schema.json is a valid JSON Schema (draft 2020-12).
2. Every example under schemas/examples/<schema>/valid/ validates against its schema, and
   every one under .../invalid/ does not. Request examples are named
   <operation>--<what>.json and are checked against $defs/<operation> of
   api-request.schema.json; they are requests by user "alice", so a replyTo must be under
   pharos/v1/replies/alice/ (the rule the anchor applies with the caller's username).
3. With --samples-from EXE: runs `EXE <dir>`, which writes what the C++ encoders produce as
   <schema>--<name>.json (request samples: api-request--<operation>--<name>.json), and
   validates each file against its schema.

Needs python3 and python3-jsonschema (Debian 12 ships 4.10, which knows draft 2020-12).
Exit status 0 when everything holds; otherwise every failure is listed.
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

import jsonschema

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMAS = ROOT / "schemas"
EXAMPLE_USER = "alice"


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def schema_for(schemas, name, file_stem):
    """Returns (validator, error) for a schema dir name and an example/sample file stem."""
    if name not in schemas:
        return None, f"no schema named {name}.schema.json"
    schema = schemas[name]
    if name == "api-request":
        operation = file_stem.split("--", 1)[0]
        if operation not in schema.get("$defs", {}) or "." not in operation:
            return None, f"unknown operation '{operation}' (file names start with the operation)"
        schema = dict(schema)
        schema["$ref"] = "#/$defs/" + operation
    return jsonschema.Draft202012Validator(schema), None


def extra_errors(name, doc):
    """Rules a schema cannot express but the decoders apply to examples."""
    if name == "api-request" and isinstance(doc, dict) and isinstance(doc.get("replyTo"), str):
        prefix = f"pharos/v1/replies/{EXAMPLE_USER}/"
        if not doc["replyTo"].startswith(prefix):
            return [f"replyTo is not under {prefix}"]
    return []


def errors_of(validator, name, doc):
    errs = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in validator.iter_errors(doc)]
    return errs + extra_errors(name, doc)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples-from", help="encoder sample writer to run (encode_samples)")
    args = parser.parse_args()

    failures = []
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = load(path)
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.exceptions.SchemaError as e:
            failures.append(f"{path.name}: not a valid schema: {e.message}")
            continue
        schemas[path.name[: -len(".schema.json")]] = schema

    checked = 0
    for name in sorted(schemas):
        for kind in ("valid", "invalid"):
            files = sorted((SCHEMAS / "examples" / name / kind).glob("*.json"))
            if not files:
                failures.append(f"examples/{name}/{kind}: no examples")
            for path in files:
                rel = path.relative_to(SCHEMAS)
                validator, err = schema_for(schemas, name, path.stem)
                if err:
                    failures.append(f"{rel}: {err}")
                    continue
                try:
                    doc = load(path)
                except json.JSONDecodeError as e:
                    doc = None
                    errs = [f"not JSON: {e}"]
                else:
                    errs = errors_of(validator, name, doc)
                checked += 1
                if kind == "valid" and errs:
                    failures.append(f"{rel}: should be valid: {errs[0]}")
                if kind == "invalid" and not errs:
                    failures.append(f"{rel}: should be invalid but validates")
    for path in sorted((SCHEMAS / "examples").iterdir()):
        if path.is_dir() and path.name not in schemas:
            failures.append(f"examples/{path.name}: no schema {path.name}.schema.json")

    samples = 0
    if args.samples_from:
        with tempfile.TemporaryDirectory() as out:
            run = subprocess.run([args.samples_from, out], capture_output=True, text=True)
            if run.returncode != 0:
                failures.append(f"{args.samples_from} failed ({run.returncode}): {run.stderr}")
            for path in sorted(pathlib.Path(out).glob("*.json")):
                name, _, stem = path.stem.partition("--")
                validator, err = schema_for(schemas, name, stem)
                if err:
                    failures.append(f"sample {path.name}: {err}")
                    continue
                errs = errors_of(validator, name, load(path))
                samples += 1
                if errs:
                    failures.append(f"sample {path.name}: encoder output fails its schema: {errs[0]}")
            if run.returncode == 0 and samples == 0:
                failures.append(f"{args.samples_from} wrote no samples")
            covered = {p.stem.partition("--")[0] for p in pathlib.Path(out).glob("*.json")}
            for name in sorted(set(schemas) - covered):
                failures.append(f"no encoder sample for schema {name}")

    for f in failures:
        print("FAIL", f)
    print(f"{len(schemas)} schemas, {checked} examples, {samples} encoder samples, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
