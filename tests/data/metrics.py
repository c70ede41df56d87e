"""Parses OpenMetrics text (s3cors watch's /metrics) from stdin with the Prometheus
project's Python client, and prints every sample as JSON: [{name, labels, value}].
Exits 1 with the parser's error when the text does not parse."""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

try:
    samples = [
        {"name": s.name, "labels": s.labels, "value": s.value}
        for family in text_string_to_metric_families(sys.stdin.read())
        for s in family.samples
    ]
except Exception as e:  # the parser raises ValueError and others
    print(f"not valid OpenMetrics text: {e}", file=sys.stderr)
    sys.exit(1)
json.dump(samples, sys.stdout)
