// Package authorizer decides who may call a method: AWS_IAM (SigV4 plus
// identity policies), Cognito user pools and other OIDC issuers (JWT), and
// Lambda authorizers (TOKEN and REQUEST), and how their verdict combines
// with the resource policy (aws-reference §2.3, Tables A and B).
//
// Everything is compiled ahead of time (identity sources, validation
// expressions, identity policies) and safe for concurrent use. Caches keep
// the hot path cheap: a Lambda authorizer's results by identity-source
// values, a JWT verifier's verified tokens by token text and its JWKS by
// kid, and awsproto's derived SigV4 signing keys. No lock is held during a
// network call or a function invocation. Failures are *Failure values that
// carry the gateway response type, status, AWS's exact message and a
// private cause; nothing here logs or writes responses.
//
// # Pipeline integration
//
// The data plane calls the package between route matching and throttling.
// Let methodARN be the request's method ARN, maskedARN the same with the
// account masked (MaskARN), rp the API's compiled resource policy (nil when
// none) and anon the resource-policy request for an anonymous caller, as
// the pipeline builds it today.
//
// Method authorizationType NONE (unchanged): rp must give Allow, else
// AccessDenied("anonymous", maskedARN, d == policy.Deny).
//
// CUSTOM (Lambda authorizer), three steps:
//
//  1. Phase 1, explicit deny only: if rp.Evaluate(anon) == policy.Deny,
//     fail with AccessDenied("anonymous", maskedARN, true) without calling
//     the authorizer. Keep the decision d1.
//  2. res, authz, f := lambda.Authorize(ctx, &LambdaInput{...}); f != nil is
//     the failure (401 UNAUTHORIZED, 500 AUTHORIZER_CONFIGURATION_ERROR).
//  3. Phase 2: AuthorizerVerdict(authz, d1) combines by Table A; non-nil is
//     the 403 ("User is not authorized to access this resource[ with an
//     explicit deny]"). On success res.PrincipalID and res.Context become
//     $context.authorizer.principalId / .KEY (and requestContext.authorizer
//     in proxy events), res.UsageIdentifierKey the API key when
//     apiKeySource is AUTHORIZER.
//
// AWS_IAM: no anonymous phase 1 (the resource policy may name the caller,
// so it is evaluated for the authenticated principal):
//
//  1. id, f := iam.Authenticate(r, body); f != nil is the failure (403
//     MISSING_AUTHENTICATION_TOKEN, INVALID_SIGNATURE, ACCESS_DENIED
//     "The security token included in the request is invalid.", EXPIRED_TOKEN).
//  2. d := iam.Authorize(id, methodARN, rp, &polctx, apiAccount) sets the
//     aws:Principal* keys on polctx and combines the identity policies'
//     decision with rp's by Table A (same account) or Table B (cross
//     account). d != policy.Allow fails with iam.Denied(id, methodARN, d).
//     id feeds $context.identity.* (accessKey, accountId, caller/user =
//     UserID, userArn = ARN, principalOrgId).
//
// COGNITO_USER_POOLS: the token comes from the authorizer's identity source
// header (bare or "Bearer ..."):
//
//  1. claims, f := jwt.Verify(ctx, token, method.AuthorizationScopes);
//     f != nil is 401 UNAUTHORIZED.
//  2. The resource policy, when the API has one, must give Allow on its own
//     (AccessDenied("anonymous", maskedARN, d == policy.Deny) otherwise).
//     claims.Claims become $context.authorizer.claims.*.
//
// One *Lambda per (stage, authorizer) and one *JWTVerifier per (API,
// authorizer) belong in the compiled deployment snapshot, so a new
// deployment starts with empty caches; Lambda.FlushCache implements
// FlushStageAuthorizersCache. One *IAM (over one Directory) serves the whole
// gateway.
//
// # Decisions
//
// Combine is the exact Table A / Table B merge. Lambda authorizer results
// are cached by identity-source values and shared across methods: the
// cached policy is evaluated again for each request's method ARN, so a
// policy that names only the first method denies the others, as on AWS.
//
// # Behaviour worth knowing (AWS facts not confirmed by a source are marked)
//
//   - TOKEN: a missing or empty token, or one that does not fully match
//     identityValidationExpression (compiled once as ^(?:expr)$; full-match
//     semantics are inferred from AWS's Java implementation, unconfirmed),
//     is 401 without calling the function. REQUEST: any missing or empty
//     identity source is 401 without calling.
//   - Only a function error whose errorMessage is exactly "Unauthorized"
//     gives 401; every other failure and any malformed output gives 500
//     {"message": null}. Failures are not cached; Allow and Deny results are.
//   - Concurrent requests with the same identity share one invocation (a
//     singleflight); a waiter whose own context ends returns at once.
//   - JWT: RS256 only (HS256, none and the rest are rejected), kid must be
//     in the JWKS, iss exact, exp required, nbf and iat honoured with
//     Leeway (0 by default), token_use and aud/client_id when configured,
//     method scopes against scope/scp. A JWKS that drops a key does not
//     revoke tokens already in the verified-token cache before their exp.
//     Tokens are parsed with the standard library (crypto/rsa and a small
//     validating JSON scanner, fuzzed against encoding/json) because a
//     reflection-based decode cost more than half an RSA verification;
//     the tests mint their tokens with github.com/golang-jwt/jwt/v5, an
//     independent implementation. Claims render as the REST API shows them:
//     exp and iat as "Wed Feb 08 22:42:26 UTC 2023", arrays joined with ",".
//   - IAM: the root user of an account is allowed everything by its
//     identity; role sessions carry the role's identity policies, aws:userid
//     ROLEID:SESSION and aws:PrincipalArn the role ARN. Session policies,
//     permission boundaries, SCPs and aws:TokenIssueTime are not modelled.
//     A malformed Authorization header maps to INVALID_SIGNATURE with
//     x-amzn-ErrorType IncompleteSignatureException (AWS's documented
//     gateway response type for it is unconfirmed); EXPIRED_TOKEN's message
//     is the generic STS text (unconfirmed for API Gateway).
package authorizer
