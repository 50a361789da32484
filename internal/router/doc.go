// Package router matches REST API requests against a deployment's resource tree.
//
// A REST API is a tree of resources ("/", "/pets", "/pets/{petId}", "/{proxy+}") with
// methods hung on them. [Build] validates the templates once, when a deployment is
// compiled, and produces an immutable [Tree]; [Tree.Match] runs on the hot path and does
// not allocate.
//
// # Templates
//
// A resource path is "/" or a sequence of "/part". A part is a literal
// ([A-Za-z0-9._:-]+), a path variable "{name}", or a greedy path variable "{name+}"
// (name [A-Za-z0-9._-]+). The greedy variable must be the last part: AWS refuses a child
// under it ("Cannot create a child of a resource with a greedy path variable"). A parent
// has at most one variable child, greedy or not; AWS refuses "/a/{x}" beside "/a/{y}" and
// also "/{foo}" beside "/{proxy+}" ("A sibling ({x}) of this resource already has a
// variable path part -- only one is allowed"). Methods are GET, POST, PUT, DELETE, PATCH,
// HEAD, OPTIONS and ANY.
//
// # Matching
//
// Matching walks the request path one segment at a time. At each level a literal child is
// tried first, then the variable child, then the greedy child, and the search backtracks:
// if the literal branch finds nothing deeper, the variable branch is tried, and so on.
//
// A branch "finds" something only when the resource it ends on has the request's method
// or ANY (the exact method wins over ANY on one resource). A resource that matches the
// path but lacks the method does not stop the search: the request falls through to the
// next candidate, typically a {param} sibling or a {proxy+} ancestor. This follows
// behaviour measured on real API Gateway and reported by two emulator projects in 2026
// (ministackorg/ministack#1423: "/jobs" with no methods and "POST /jobs/reboot" where only
// GET exists both reach "/{proxy+} ANY"; floci-io/floci#3399: "GET /users/me" reaches
// "/users/{userId}" when "/users/me" only has PATCH, and "POST /things/real" reaches
// "/things/{proxy+}"). Only when no resource in the tree has both a matching path and the
// method or ANY does Match report ok=false; AWS answers that with 403
// MISSING_AUTHENTICATION_TOKEN whatever the reason.
//
// Other rules:
//   - A greedy variable matches one or more segments, never zero: "/{proxy+}" does not
//     match "/" (DG: "/parent/{proxy+}" stands for "/parent/*"; users report that
//     "{proxy+}" does not catch "/", logandk/serverless-wsgi#20, aws/aws-sam-cli#437).
//     Its value is the rest of the path as sent, slashes included.
//   - Trailing slashes are ignored: "/pets/" matches "/pets" (LocalStack behaviour; AWS
//     docs are silent, so this is unconfirmed). Every trailing slash is dropped, so "/"
//     and "//" both mean the root.
//   - An empty segment inside the path ("/a//b") never matches a literal or a {param}; a
//     greedy variable matches when its first segment is not empty and then takes the rest
//     verbatim ("/a/b//c" gives proxy="b//c"). Unconfirmed against AWS.
//   - Request methods are case-sensitive ("get" is not GET). A method outside the seven
//     AWS supports (e.g. TRACE) never matches, not even ANY.
//   - Segments are compared in their raw, escaped form and parameter values are returned
//     escaped; decoding is the caller's job.
//   - A template may hold at most [MaxParams] variables, because [Params] is a fixed-size
//     array. AWS has no such limit that we know of; Build refuses such a template.
package router
