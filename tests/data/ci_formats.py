"""Checks s3cors' CI formats for tests/it/ci_formats.rs.

  ci_formats.py sarif FILE   validate FILE against sarif-schema-2.1.0.json (exit 1 if not)
  ci_formats.py junit FILE   parse FILE as XML and print its counts as JSON
"""

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

HERE = Path(__file__).resolve().parent


def sarif(path: str) -> None:
    schema = json.loads((HERE / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    log = json.loads(Path(path).read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(log), key=str)
    for e in errors:
        print(f"{list(e.absolute_path)}: {e.message}")
    sys.exit(1 if errors else 0)


def junit(path: str) -> None:
    root = ET.parse(path).getroot()
    cases = root.findall("./testsuite/testcase")
    out = {
        "root": root.tag,
        "suites": len(root.findall("./testsuite")),
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "declared": {k: int(root.get(k, "-1")) for k in ("tests", "failures", "errors")},
        "failed": sorted(c.get("name", "") for c in cases if c.find("failure") is not None),
        "system_out": [c.findtext("system-out") or "" for c in cases],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    {"sarif": sarif, "junit": junit}[sys.argv[1]](sys.argv[2])
