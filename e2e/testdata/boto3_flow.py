#!/usr/bin/env python3
"""The private-API flow of TestBoto3Flow: boto3 for the control plane, http.client over
ssl sockets bound to a chosen source address for the data plane.

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; everything else from
arguments (see --help). Prints "PASS <step>" per step; on the first failure prints
"FAIL <step>: <why>" and exits 1.
"""

import argparse
import http.client
import json
import socket
import ssl
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

NO_POLICY = "Private REST API doesn't have a resource policy attached to it"


def fail(step, why):
    print(f"FAIL {step}: {why}", flush=True)
    sys.exit(1)


def ok(step):
    print(f"PASS {step}", flush=True)


def policy_only_from(vpce):
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"},
            {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
             "Condition": {"StringNotEquals": {"aws:SourceVpce": vpce}}},
        ],
    })


class DataPlane:
    """HTTPS requests to a listener address with a chosen Host/SNI and source address."""

    def __init__(self, cafile):
        self.ctx = ssl.create_default_context(cafile=cafile)

    def request(self, addr, host, path, source=None, headers=None, method="GET"):
        ip, port = addr.rsplit(":", 1)
        src = (source, 0) if source else None
        sock = socket.create_connection((ip, int(port)), timeout=10, source_address=src)
        conn = http.client.HTTPSConnection(host, timeout=10, context=self.ctx)
        conn.sock = self.ctx.wrap_socket(sock, server_hostname=host)
        try:
            conn.request(method, path, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read().decode()
        finally:
            conn.close()

    def until(self, want, *args, **kwargs):
        """Repeats a request until it answers want (deployments propagate asynchronously)."""
        deadline = time.monotonic() + 5
        while True:
            status, headers, body = self.request(*args, **kwargs)
            if status == want or time.monotonic() > deadline:
                return status, headers, body
            time.sleep(0.05)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--endpoint-url", required=True, help="control plane, http://host:port")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", required=True, help="the provider's account id")
    p.add_argument("--ca", required=True, help="gatehouse's ca.pem")
    p.add_argument("--backend", required=True, help="base URL of the echo backend")
    p.add_argument("--vpce-a", required=True)
    p.add_argument("--vpce-a-addr", required=True, help="host:port of vpce-A's TLS listener")
    p.add_argument("--vpce-a-host", required=True, help="vpce-A's public DNS name")
    p.add_argument("--source-a", required=True, help="a host address inside vpce-A's VPC")
    p.add_argument("--vpce-b-addr", required=True)
    p.add_argument("--source-b", required=True)
    p.add_argument("--public-addr", required=True)
    a = p.parse_args()

    apigw = boto3.client("apigateway", endpoint_url=a.endpoint_url, region_name=a.region,
                         config=Config(retries={"max_attempts": 1}))
    dp = DataPlane(a.ca)
    exec_suffix = f".execute-api.{a.region}.amazonaws.com"

    api = apigw.create_rest_api(name="boto3-private", endpointConfiguration={"types": ["PRIVATE"]})
    api_id, root = api["id"], api["rootResourceId"]
    if api["endpointConfiguration"]["types"] != ["PRIVATE"]:
        fail("create_rest_api", api["endpointConfiguration"])
    res = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="{proxy+}")
    apigw.put_method(restApiId=api_id, resourceId=res["id"], httpMethod="ANY", authorizationType="NONE",
                     requestParameters={"method.request.path.proxy": True})
    apigw.put_integration(restApiId=api_id, resourceId=res["id"], httpMethod="ANY", type="HTTP_PROXY",
                          integrationHttpMethod="ANY", uri=a.backend + "/{proxy}",
                          requestParameters={"integration.request.path.proxy": "method.request.path.proxy"})
    resources = apigw.get_resources(restApiId=api_id)["items"]
    if sorted(r["path"] for r in resources) != ["/", "/{proxy+}"]:
        fail("get_resources", resources)
    ok("create api")

    try:
        apigw.create_deployment(restApiId=api_id, stageName="prod")
        fail("deploy without policy", "succeeded")
    except ClientError as e:
        err = e.response["Error"]
        status = e.response["ResponseMetadata"]["HTTPStatusCode"]
        if err["Code"] != "BadRequestException" or err["Message"] != NO_POLICY or status != 400:
            fail("deploy without policy", f"{status} {err}")
    ok("deploy without policy")

    apigw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "replace", "path": "/policy", "value": policy_only_from(a.vpce_a)}])
    stored = apigw.get_rest_api(restApiId=api_id)["policy"].replace('\\"', '"').replace("\\/", "/")
    want_arn = f"arn:aws:execute-api:{a.region}:{a.account}:{api_id}/*"
    if want_arn not in stored:
        fail("policy", f"{want_arn} not in {stored}")
    dep = apigw.create_deployment(restApiId=api_id, stageName="prod")
    stage = apigw.get_stage(restApiId=api_id, stageName="prod")
    if stage["deploymentId"] != dep["id"]:
        fail("deploy", f"stage {stage} deployment {dep}")
    ok("deploy")

    status, headers, body = dp.until(200, a.vpce_a_addr, a.vpce_a_host, "/prod/pets/1?color=red",
                                     source=a.source_a, headers={"x-apigw-api-id": api_id})
    if status != 200:
        fail("vpce-A", f"{status} {body}")
    echo = json.loads(body)
    if echo["path"] != "/pets/1" or echo["query"] != "color=red" or echo["vpce"] != a.vpce_a or echo["xff"] != a.source_a:
        fail("vpce-A", f"backend saw {echo}")
    if headers.get("x-backend") != "echo" or not headers.get("x-amzn-requestid"):
        fail("vpce-A", f"headers {headers}")
    ok("vpce-A")

    masked = "*" * (len(a.account) - 4) + a.account[-4:]
    want = ('{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: '
            f'arn:aws:execute-api:{a.region}:{masked}:{api_id}/prod/GET/pets/1 with an explicit deny"}}')
    status, headers, body = dp.until(403, a.vpce_b_addr, api_id + exec_suffix, "/prod/pets/1", source=a.source_b)
    if status != 403 or body != want or headers.get("x-amzn-errortype") != "AccessDeniedException":
        fail("vpce-B", f"{status} {headers.get('x-amzn-errortype')} {body!r}, want {want!r}")
    ok("vpce-B")

    status, _, body = dp.request(a.public_addr, api_id + exec_suffix, "/prod/pets/1")
    if status != 403 or body != '{"message":"Forbidden"}':
        fail("public", f"{status} {body}")
    ok("public")

    alias = f"{api_id}-{a.vpce_a}{exec_suffix}"
    status, _, body = dp.request(a.vpce_a_addr, alias, "/prod/pets", source=a.source_a)
    if status != 403 or body != '{"message":"Forbidden"}':
        fail("alias before association", f"{status} {body}")
    upd = apigw.update_rest_api(restApiId=api_id, patchOperations=[
        {"op": "add", "path": "/endpointConfiguration/vpcEndpointIds", "value": a.vpce_a}])
    if upd["endpointConfiguration"].get("vpcEndpointIds") != [a.vpce_a]:
        fail("alias association", upd["endpointConfiguration"])
    status, _, body = dp.until(200, a.vpce_a_addr, alias, "/prod/pets", source=a.source_a)
    if status != 200 or json.loads(body)["path"] != "/pets":
        fail("alias after association", f"{status} {body}")
    ok("alias")

    mock = apigw.create_rest_api(name="boto3-mock", endpointConfiguration={"types": ["PRIVATE"]},
                                 policy=policy_only_from(a.vpce_a))
    health = apigw.create_resource(restApiId=mock["id"], parentId=mock["rootResourceId"], pathPart="health")
    apigw.put_method(restApiId=mock["id"], resourceId=health["id"], httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=mock["id"], resourceId=health["id"], httpMethod="GET", type="MOCK",
                          requestTemplates={"application/json": '{"statusCode": 200}'})
    apigw.put_method_response(restApiId=mock["id"], resourceId=health["id"], httpMethod="GET", statusCode="200")
    apigw.put_integration_response(restApiId=mock["id"], resourceId=health["id"], httpMethod="GET",
                                   statusCode="200", responseTemplates={"application/json": '{"ok":true}'})
    apigw.create_deployment(restApiId=mock["id"], stageName="prod")
    host = mock["id"] + exec_suffix
    status, _, body = dp.until(200, a.vpce_a_addr, host, "/prod/health", source=a.source_a)
    if status != 200 or body != '{"ok":true}':
        fail("mock", f"{status} {body}")
    status, headers, body = dp.request(a.vpce_a_addr, host, "/prod/nothing/here", source=a.source_a)
    if (status != 403 or body != '{"message":"Missing Authentication Token"}'
            or headers.get("x-amzn-errortype") != "MissingAuthenticationTokenException"):
        fail("missing authentication token", f"{status} {headers} {body}")
    ok("missing authentication token")

    print(json.dumps({"apiId": api_id, "mockApiId": mock["id"]}), flush=True)


if __name__ == "__main__":
    main()
