// Package awsproto holds the AWS wire-protocol pieces shared by the control
// plane (the apigateway REST-JSON management API) and the data plane
// (execute-api): SigV4 verification, AWS error responses, request and
// resource ids, and pagination tokens. It knows nothing about API Gateway
// resources.
//
// # SigV4
//
// A Verifier checks AWS Signature Version 4 in the Authorization header and
// in presigned query strings (X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature). It follows the rules
// of the AWS SDKs' signers for non-S3 services:
//
//   - the canonical URI is the path as sent, percent-encoded a second time
//     ("/dev/mypath%2Fnext" signs as "/dev/mypath%252Fnext"); "." and ".."
//     segments and repeated slashes are removed first, as botocore does, and
//     the unnormalized path (how the Go SDK signs) is tried as well;
//   - the canonical query string is every parameter decoded and re-encoded
//     with RFC 3986, sorted by key then value;
//   - header values are trimmed with runs of spaces collapsed; repeated
//     headers are joined with ","; host comes from Request.Host;
//   - the payload hash is X-Amz-Content-Sha256 when present (including
//     UNSIGNED-PAYLOAD), else the hex SHA-256 of the body.
//
// Failures come back as *Error values carrying AWS's status, code and exact
// message, checked in AWS's order (syntax, date format, clock skew, signed
// host, algorithm, credential shape, credential scope, access key,
// signature, security token). All are 403s. Unknown keys and bad security
// tokens give UnrecognizedClientException (control plane); the data plane
// sets Verifier.InvalidKeyCode to AccessDeniedException. Derived signing keys
// are cached per (secret, date, region, service) in a bounded map; a
// verification that hits the cache allocates only the returned Identity and
// its SignedHeaders slice (about 3 µs for a GET on one core).
//
// Ground truth: the tests sign requests with aws-sdk-go-v2's v4 signer and
// with botocore (testdata/botocore_sign.py), and drive a stub endpoint with
// the real Go SDK and boto3 apigateway clients.
//
// # Errors
//
// WriteJSONError writes the REST-JSON error shape that botocore and the Go
// SDK parse: Content-Type application/json, x-amzn-ErrorType carrying the
// code, x-amzn-RequestId, and the body {"message":"..."}. NotFound,
// BadRequest, Conflict, TooManyRequests, LimitExceeded, Unauthorized,
// AccessDenied and ServiceUnavailable build the common *Error values. (The data
// plane's AccessDenied policy responses use a capital "Message" key; the
// gateway-response renderer owns that shape.)
//
// # Ids and pagination
//
// NewRequestID returns a UUID v4, NewID an [a-z0-9] id of a given length
// (REST API ids are 10 characters, deployment ids 6), and NewExtendedRequestID
// an x-amz-apigw-id-shaped value. EncodePosition and DecodePosition make
// opaque position tokens, and ParseLimit applies the limit rules (default 25,
// at most 500).
package awsproto
