"""A real deploy script, as a user writes one: tells the platform which model to serve.

    python deploy_script.py ADMIN_URL [--fail-version N] [--always-version N]

Reads PODIUM_MODEL_URI / PODIUM_MODEL_VERSION / MLFLOW_TRACKING_URI as podium sets them.
`--fail-version N`: exit 1 when asked to deploy version N (a broken release).
`--always-version N`: deploy version N whatever it was asked (a wrong version put live).
"""

import json
import os
import sys
import urllib.request

admin = sys.argv[1]
options = dict(zip(sys.argv[2::2], sys.argv[3::2], strict=True))
version = os.environ["PODIUM_MODEL_VERSION"]
print(
    f"deploying {os.environ['PODIUM_MODEL_URI']} to {os.environ['PODIUM_ENVIRONMENT']} "
    f"(previous: {os.environ['PODIUM_PREVIOUS_VERSION'] or 'none'})"
)
if options.get("--fail-version") == version:
    print("helm: release failed: ImagePullBackOff", file=sys.stderr)
    sys.exit(1)
uri = os.environ["PODIUM_MODEL_URI"]
if "--always-version" in options:
    uri = f"models:/{os.environ['PODIUM_MODEL_NAME']}/{options['--always-version']}"
request = urllib.request.Request(
    f"{admin}/deploy",
    data=json.dumps({"model_uri": uri, "tracking_uri": os.environ["MLFLOW_TRACKING_URI"]}).encode(),
    headers={"Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(request, timeout=300) as answer:
    print(json.loads(answer.read())["detail"])
