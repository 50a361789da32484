package config

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxPolicyChars is AWS's quota on the size of a VPC endpoint policy,
// white space included.
const maxPolicyChars = 20480

// Validate checks t against every rule of the topology and returns all
// violations, each a *FieldError naming the key path, joined with
// errors.Join. It does not apply defaults.
func (t *Topology) Validate() error {
	errs := fieldErrors{list: t.validate()}
	return errs.err()
}

func (t *Topology) validate() []*FieldError {
	var errs fieldErrors
	if t.Region == "" {
		errs.add("region", "required")
	} else if !isRegion(t.Region) {
		errs.add("region", "%q is not a Region name like us-east-1", t.Region)
	}

	ls := listeners{errs: &errs, byKey: map[string]string{}, byPort: map[int]portUse{}}
	ls.addListen("controlPlane.listen", t.ControlPlane.Listen, true)
	ls.addListen("publicListener.listen", t.PublicListener.Listen, true)
	ls.addListen("publicListener.httpListen", t.PublicListener.HTTPListen, false)

	t.validateAccounts(&errs)
	t.validateVPCs(&errs)
	t.validateEndpoints(&errs, &ls)
	t.validateFunctions(&errs)
	t.validateDNS(&errs, &ls)
	t.validateInstances(&errs)
	t.validateVPCLinks(&errs, &ls)
	return errs.list
}

func (t *Topology) validateAccounts(errs *fieldErrors) {
	accountAt := map[string]string{}
	keyAt := map[string]string{}
	for i, a := range t.Accounts {
		p := index("accounts", i)
		switch {
		case a.ID == "":
			errs.add(p+".id", "required")
		case !isAccountID(a.ID):
			errs.add(p+".id", "%q is not an account id: want exactly 12 digits", a.ID)
		case accountAt[a.ID] != "":
			errs.add(p+".id", "duplicate account id %q (also %s)", a.ID, accountAt[a.ID])
		default:
			accountAt[a.ID] = p + ".id"
		}
		for j, k := range a.AccessKeys {
			kp := index(p+".accessKeys", j)
			switch {
			case k.ID == "":
				errs.add(kp+".id", "required")
			case !isAccessKeyID(k.ID):
				errs.add(kp+".id", "%q is not an access key id: want 16 to 128 characters of A-Z and 0-9", k.ID)
			case keyAt[k.ID] != "":
				errs.add(kp+".id", "duplicate access key id %q (also %s)", k.ID, keyAt[k.ID])
			default:
				keyAt[k.ID] = kp + ".id"
			}
			if k.Secret == "" {
				errs.add(kp+".secret", "required")
			}
		}
		for j, u := range a.Users {
			up := index(p+".users", j)
			if u.Name == "" {
				errs.add(up+".name", "required")
			}
			for m, k := range u.AccessKeys {
				kp := index(up+".accessKeys", m)
				switch {
				case !isAccessKeyID(k.ID):
					errs.add(kp+".id", "%q is not an access key id: want 16 to 128 characters of A-Z and 0-9", k.ID)
				case keyAt[k.ID] != "":
					errs.add(kp+".id", "duplicate access key id %q (also %s)", k.ID, keyAt[k.ID])
				default:
					keyAt[k.ID] = kp + ".id"
				}
				if k.Secret == "" {
					errs.add(kp+".secret", "required")
				}
			}
			for m, ip := range u.Policies {
				if len(ip.Document) == 0 {
					errs.add(index(up+".policies", m)+".document", "required")
				}
			}
		}
		roleAt := map[string]bool{}
		for j, r := range a.Roles {
			rp := index(p+".roles", j)
			switch {
			case r.Name == "":
				errs.add(rp+".name", "required")
			case roleAt[r.Name]:
				errs.add(rp+".name", "duplicate role name %q", r.Name)
			default:
				roleAt[r.Name] = true
			}
			for m, tr := range r.Trust {
				if tr != "*" && !isAccountID(tr) && !strings.HasPrefix(tr, "arn:") {
					errs.add(index(rp+".trust", m), "%q: want \"*\", an account id or a principal ARN", tr)
				}
			}
			for m, ip := range r.Policies {
				if len(ip.Document) == 0 {
					errs.add(index(rp+".policies", m)+".document", "required")
				}
			}
		}
		if a.Throttle.RateLimit < 0 {
			errs.add(p+".throttle.rateLimit", "must not be negative")
		}
		if a.Throttle.BurstLimit < 0 {
			errs.add(p+".throttle.burstLimit", "must not be negative")
		}
	}
}

func (t *Topology) validateVPCs(errs *fieldErrors) {
	vpcAt := map[string]string{}
	// blocks holds the valid CIDRs per account, for the overlap check.
	type block struct {
		prefix netip.Prefix
		index  int
	}
	blocks := map[string][]block{}
	for i, v := range t.VPCs {
		p := index("vpcs", i)
		switch {
		case v.ID == "":
			errs.add(p+".id", "required")
		case !hasHexID(v.ID, "vpc-"):
			errs.add(p+".id", "%q is not a VPC id: want vpc- and 8 or 17 lowercase hex digits", v.ID)
		case vpcAt[v.ID] != "":
			errs.add(p+".id", "duplicate VPC id %q (also %s)", v.ID, vpcAt[v.ID])
		default:
			vpcAt[v.ID] = p + ".id"
		}
		if v.Account == "" {
			errs.add(p+".account", "required")
		} else if _, ok := t.Account(v.Account); !ok {
			errs.add(p+".account", "unknown account %q", v.Account)
		}
		switch {
		case !v.CIDR.IsValid():
			errs.add(p+".cidr", "required")
		case v.CIDR != v.CIDR.Masked():
			errs.add(p+".cidr", "%s has host bits set (the block is %s)", v.CIDR, v.CIDR.Masked())
		case v.CIDR.Addr().Is4() && (v.CIDR.Bits() < 16 || v.CIDR.Bits() > 28):
			errs.add(p+".cidr", "%s: an IPv4 VPC block must be between /16 and /28", v.CIDR)
		default:
			blocks[v.Account] = append(blocks[v.Account], block{v.CIDR, i})
		}
	}
	// CIDR blocks either nest or are disjoint. Sorted by address, then
	// widest first, a block overlaps an earlier one exactly when it
	// overlaps the last block that did not overlap anything before it.
	var overlaps []*FieldError
	for _, bs := range blocks {
		slices.SortFunc(bs, func(a, b block) int {
			if c := a.prefix.Addr().Compare(b.prefix.Addr()); c != 0 {
				return c
			}
			return cmp.Or(cmp.Compare(a.prefix.Bits(), b.prefix.Bits()), cmp.Compare(a.index, b.index))
		})
		cover := -1
		for k, b := range bs {
			if cover >= 0 && bs[cover].prefix.Overlaps(b.prefix) {
				c := bs[cover]
				first, second := c, b
				if first.index > second.index {
					first, second = second, first
				}
				overlaps = append(overlaps, &FieldError{
					Path: index("vpcs", second.index) + ".cidr",
					Msg: fmt.Sprintf("%s overlaps %s (%s) of the same account %s",
						second.prefix, first.prefix, index("vpcs", first.index), t.VPCs[b.index].Account),
				})
				continue
			}
			cover = k
		}
	}
	slices.SortFunc(overlaps, func(a, b *FieldError) int { return strings.Compare(a.Path, b.Path) })
	errs.list = append(errs.list, overlaps...)
}

func (t *Topology) validateEndpoints(errs *fieldErrors, ls *listeners) {
	endpointAt := map[string]string{}
	addrAt := map[netip.Addr]string{}
	for i, e := range t.VPCEndpoints {
		p := index("vpcEndpoints", i)
		switch {
		case e.ID == "":
			errs.add(p+".id", "required")
		case !hasHexID(e.ID, "vpce-"):
			errs.add(p+".id", "%q is not a VPC endpoint id: want vpce- and 17 (or 8) lowercase hex digits", e.ID)
		case endpointAt[e.ID] != "":
			errs.add(p+".id", "duplicate VPC endpoint id %q (also %s)", e.ID, endpointAt[e.ID])
		default:
			endpointAt[e.ID] = p + ".id"
		}

		var vpc *VPC
		if e.VPC == "" {
			errs.add(p+".vpc", "required")
		} else if v, ok := t.VPC(e.VPC); ok {
			vpc = v
		} else {
			errs.add(p+".vpc", "unknown VPC %q", e.VPC)
		}

		portOK := checkPort(errs, p+".port", e.Port)
		httpPortOK := checkPort(errs, p+".httpPort", e.HTTPPort)
		if e.HTTPPort != 0 && e.HTTPPort == e.Port {
			errs.add(p+".httpPort", "%d is also the TLS port", e.HTTPPort)
			httpPortOK = false
		}

		if len(e.Addresses) == 0 {
			errs.add(p+".addresses", "at least one address is required")
		}
		for j, a := range e.Addresses {
			ap := index(p+".addresses", j)
			switch {
			case !a.IsValid():
				errs.add(ap, "invalid IP address")
				continue
			case a.Zone() != "":
				errs.add(ap, "%s: an endpoint address has no zone", a)
				continue
			case vpc != nil && vpc.CIDR.IsValid() && !vpc.CIDR.Contains(a):
				errs.add(ap, "%s is not inside %s's cidr %s", a, vpc.ID, vpc.CIDR)
			}
			if at, dup := addrAt[a]; dup {
				errs.add(ap, "%s is already an address of %s", a, at)
				continue
			}
			addrAt[a] = ap
			if portOK {
				ls.add(p+".port", net.JoinHostPort(a.String(), strconv.Itoa(e.Port)), a.String(), e.Port)
			}
			if httpPortOK && e.HTTPPort != 0 {
				ls.add(p+".httpPort", net.JoinHostPort(a.String(), strconv.Itoa(e.HTTPPort)), a.String(), e.HTTPPort)
			}
		}

		if e.PrivateDNSEnabled && vpc != nil && (!vpc.EnableDNSSupport || !vpc.EnableDNSHostnames) {
			errs.add(p+".privateDnsEnabled", "private DNS requires %s to have enableDnsSupport and enableDnsHostnames set to true", vpc.ID)
		}

		for j, c := range e.Ingress {
			cp := index(p+".ingress", j)
			switch {
			case !c.IsValid():
				errs.add(cp, "invalid CIDR block")
			case c != c.Masked():
				errs.add(cp, "%s has host bits set (the block is %s)", c, c.Masked())
			}
		}

		if len(e.Policy) > 0 {
			if msg := checkPolicy(e.Policy); msg != "" {
				errs.add(p+".policy", "%s", msg)
			}
		}
	}
}

func checkPort(errs *fieldErrors, path string, port int) bool {
	if port < 0 || port > 65535 {
		errs.add(path, "%d is not a port: want 0 to 65535", port)
		return false
	}
	return true
}

// checkPolicy checks the shape of an endpoint policy; the policy language
// itself is checked elsewhere. It returns "" when the policy is acceptable.
func checkPolicy(p []byte) string {
	if !json.Valid(p) {
		return "not valid JSON"
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(p, &doc); err != nil {
		return "must be a JSON object"
	}
	if _, ok := doc["Statement"]; !ok {
		return `has no "Statement"`
	}
	if n := utf8.RuneCount(p); n > maxPolicyChars {
		return fmt.Sprintf("is %d characters; a VPC endpoint policy is at most %d", n, maxPolicyChars)
	}
	return ""
}

// listeners finds listeners that would bind the same address and port.
type listeners struct {
	errs *fieldErrors
	// byKey maps "host|port" to the path of the first listener there.
	byKey map[string]string
	// byPort records, per port, a wildcard listener and any listener.
	byPort map[int]portUse
}

type portUse struct {
	wildcard string // path of a listener on all addresses, or ""
	any      string // path of the first listener on this port
	anyAddr  string // its address
}

// addListen checks a host:port listen address and records it.
func (ls *listeners) addListen(path, hostport string, required bool) {
	if hostport == "" {
		if required {
			ls.errs.add(path, "required")
		}
		return
	}
	host, portStr, err := net.SplitHostPort(hostport)
	if err != nil {
		ls.errs.add(path, "%q is not a host:port address", hostport)
		return
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || strings.TrimLeft(portStr, "0123456789") != "" || port > 65535 {
		ls.errs.add(path, "%q: the port must be a number from 0 to 65535", hostport)
		return
	}
	key := host
	if a, err := netip.ParseAddr(host); err == nil {
		key = a.String()
	} else if host != "" && !isHostname(host) {
		ls.errs.add(path, "%q: %q is neither an IP address nor a host name", hostport, host)
		return
	}
	ls.add(path, hostport, key, port)
}

// add records a listener on host (an IP address in canonical form, a host
// name, or "" for all addresses) and port; port 0 never conflicts.
func (ls *listeners) add(path, display, host string, port int) {
	if port == 0 {
		return
	}
	wildcard := host == ""
	if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
		wildcard = true
	}
	use := ls.byPort[port]
	key := host + "|" + strconv.Itoa(port)
	switch {
	case ls.byKey[key] != "":
		ls.errs.add(path, "%s is also used by %s", display, ls.byKey[key])
		return
	case use.wildcard != "":
		ls.errs.add(path, "%s: port %d is already taken on all addresses by %s", display, port, use.wildcard)
		return
	case wildcard && use.any != "":
		ls.errs.add(path, "%s: port %d is already used by %s on %s", display, port, use.any, use.anyAddr)
		return
	}
	ls.byKey[key] = path
	if wildcard {
		use.wildcard = path
	}
	if use.any == "" {
		use.any, use.anyAddr = path, display
	}
	ls.byPort[port] = use
}

// isRegion reports whether s is shaped like an AWS Region name:
// lowercase words joined by dashes, the first of 2 to 4 letters, ending in
// a number (us-east-1, us-gov-west-1, eusc-de-east-1).
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts) > 5 {
		return false
	}
	if n := len(parts[0]); n < 2 || n > 4 {
		return false
	}
	for _, w := range parts[:len(parts)-1] {
		if w == "" || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			return false
		}
	}
	num := parts[len(parts)-1]
	return len(num) >= 1 && len(num) <= 2 && num[0] != '0' && strings.Trim(num, "0123456789") == ""
}

func isAccountID(s string) bool {
	return len(s) == 12 && strings.Trim(s, "0123456789") == ""
}

func isAccessKeyID(s string) bool {
	return len(s) >= 16 && len(s) <= 128 && strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

// hasHexID reports whether s is prefix followed by 8 or 17 lowercase hex
// digits, the two lengths of EC2 resource ids.
func hasHexID(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || (len(rest) != 8 && len(rest) != 17) {
		return false
	}
	return strings.Trim(rest, "0123456789abcdef") == ""
}

// isHostname reports whether s is a plausible DNS host name.
func isHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(s, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
