"""A Lambda TOKEN authorizer for the examples and tests.

The token decides: "allow" and "deny" return a policy for the method, "garbage" returns
output API Gateway cannot use, anything else fails with "Unauthorized".
"""


def policy(effect, resource):
    return {
        "principalId": "user-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}],
        },
        "context": {"tier": "gold", "level": 3, "admin": False},
    }


def handler(event, context):
    token = event.get("authorizationToken", "")
    if token == "allow":
        return policy("Allow", event["methodArn"])
    if token == "deny":
        return policy("Deny", event["methodArn"])
    if token == "garbage":
        return "garbage"
    raise Exception("Unauthorized")
