"""A Lambda REQUEST authorizer for the examples and tests.

Its identity sources are the X-Tenant header and the v query parameter. It allows when
X-Tenant is "blue" and v is "1", and denies anything else. The context it returns reaches
the integration as $context.authorizer.* (and requestContext.authorizer in a proxy event).
"""


def header(event, name):
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def handler(event, context):
    tenant = header(event, "X-Tenant")
    version = (event.get("queryStringParameters") or {}).get("v")
    effect = "Allow" if tenant == "blue" and version == "1" else "Deny"
    return {
        "principalId": "tenant-" + str(tenant),
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
        },
        "context": {"tenant": str(tenant), "apiVersion": str(version), "eventType": event.get("type", "")},
    }
