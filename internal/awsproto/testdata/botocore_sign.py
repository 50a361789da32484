#!/usr/bin/env python3
"""Ground-truth SigV4 signatures from botocore for the awsproto tests.

Usage:
  botocore_sign.py sign < spec.json
      spec: {"time": "20240305T123456Z", "cases": [{"name", "method", "url",
             "headers": [[k, v], ...], "body": "<base64>", "service", "region",
             "access_key", "secret", "token", "presign": bool, "expires": int}]}
      prints: [{"name", "method", "url", "headers": [[k, v], ...], "body": "<base64>"}]
      Each request is signed at the fixed time with botocore.auth.SigV4Auth
      (or SigV4QueryAuth when presign is true).

  botocore_sign.py client <endpoint_url>
      Calls a real boto3 apigateway client against endpoint_url and prints one
      JSON object per call: {"name", "ok", "code", "message", "status",
      "request_id"}.
"""
import base64
import datetime
import json
import sys

import botocore.auth
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def sign(spec):
    fixed = datetime.datetime.strptime(spec["time"], "%Y%m%dT%H%M%SZ")
    # botocore reads the clock through this module-level name.
    botocore.auth.get_current_datetime = lambda *a, **k: fixed
    out = []
    for c in spec["cases"]:
        body = base64.b64decode(c.get("body") or "")
        req = AWSRequest(method=c["method"], url=c["url"], data=body or None)
        for k, v in c.get("headers") or []:
            req.headers[k] = v
        creds = Credentials(c["access_key"], c["secret"], c.get("token") or None)
        if c.get("presign"):
            signer = SigV4QueryAuth(creds, c["service"], c["region"], expires=c.get("expires", 300))
        else:
            signer = SigV4Auth(creds, c["service"], c["region"])
        signer.add_auth(req)
        out.append({
            "name": c["name"],
            "method": req.method,
            "url": req.url,
            "headers": [[k, v] for k, v in req.headers.items()],
            "body": base64.b64encode(body).decode(),
        })
    json.dump(out, sys.stdout)


def client(endpoint):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    cfg = Config(retries={"max_attempts": 1, "mode": "standard"})

    def mk(key="AKIDEXAMPLE", secret="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", token=None):
        return boto3.client(
            "apigateway", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret,
            aws_session_token=token, config=cfg)

    calls = [
        ("get_rest_apis", lambda: mk().get_rest_apis(limit=5, position="cG9z")),
        ("get_rest_api_missing", lambda: mk().get_rest_api(restApiId="missing")),
        ("get_resource_escaped", lambda: mk().get_resource(restApiId="a b", resourceId="x/y\u00e9")),
        ("get_rest_apis_bad_limit", lambda: mk().get_rest_apis(limit=0)),
        ("create_rest_api", lambda: mk().create_rest_api(name="pets & <stuff>", description="d")),
        ("temporary_key", lambda: mk(key="ASIAEXAMPLE", secret="tempsecret", token="tok/en+1=").get_rest_apis()),
        ("unknown_key", lambda: mk(key="AKIDUNKNOWN").get_rest_apis()),
        ("wrong_secret", lambda: mk(secret="wrong").get_rest_apis()),
    ]
    for name, fn in calls:
        res = {"name": name}
        try:
            r = fn()
            res.update(ok=True, status=r["ResponseMetadata"]["HTTPStatusCode"])
        except ClientError as e:
            res.update(ok=False, code=e.response["Error"]["Code"],
                       message=e.response["Error"]["Message"],
                       status=e.response["ResponseMetadata"]["HTTPStatusCode"],
                       request_id=e.response["ResponseMetadata"].get("RequestId", ""))
        print(json.dumps(res))


if __name__ == "__main__":
    if sys.argv[1] == "sign":
        sign(json.load(sys.stdin))
    elif sys.argv[1] == "client":
        client(sys.argv[2])
    else:
        sys.exit("unknown mode " + sys.argv[1])
