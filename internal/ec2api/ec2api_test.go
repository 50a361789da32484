package ec2api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
)

const topology = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 127.14.0.0/16
    subnets:
      - {id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.14.1.0/24}
      - {id: subnet-0aaaaaaaaaaaaaaa2, cidr: 127.14.2.0/24}
  - {id: vpc-0aaaaaaaaaaaaaaa3, account: "111111111111", cidr: 127.15.0.0/16, enableDnsHostnames: false}
  - id: vpc-0bbbbbbbbbbbbbbb2
    account: "222222222222"
    cidr: 127.24.0.0/16
    subnets: [{id: subnet-0bbbbbbbbbbbbbbb2, cidr: 127.24.1.0/24}]
vpcEndpoints:
  - {id: vpce-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.14.1.10, 127.14.2.10], port: 0}
  - {id: vpce-0aaaaaaaaaaaaaaa3, vpc: vpc-0aaaaaaaaaaaaaaa3, addresses: [127.15.1.10], port: 0, privateDnsEnabled: false}
  - {id: vpce-0bbbbbbbbbbbbbbb2, vpc: vpc-0bbbbbbbbbbbbbbb2, addresses: [127.24.1.10], port: 0}
dnsPort: 0
instances:
  - {id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.14.1.21, name: web-1}
  - {id: i-0aaaaaaaaaaaaaaa2, subnet: subnet-0aaaaaaaaaaaaaaa2, privateIp: 127.14.2.22, state: stopped}
  - {id: i-0bbbbbbbbbbbbbbb1, subnet: subnet-0bbbbbbbbbbbbbbb2, privateIp: 127.24.1.21}
`

func newServer(t testing.TB) (*Server, *config.Topology) {
	t.Helper()
	topo, err := config.Parse([]byte(topology))
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Topology: topo}), topo
}

func serve(t testing.TB, s *Server, account string) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.ServeEC2(w, r, Caller{Account: account}, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func post(t *testing.T, base string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(base, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDescribeVpcEndpointsCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	s, topo := newServer(t)
	base := serve(t, s, "111111111111")
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", base, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := run("ec2", "describe-vpc-endpoints", "--vpc-endpoint-ids", "vpce-0aaaaaaaaaaaaaaa1")
	eps := out["VpcEndpoints"].([]any)
	if len(eps) != 1 {
		t.Fatalf("endpoints %v", out)
	}
	ep := eps[0].(map[string]any)
	e, _ := topo.Endpoint("vpce-0aaaaaaaaaaaaaaa1")
	var names []string
	for _, d := range ep["DnsEntries"].([]any) {
		names = append(names, d.(map[string]any)["DnsName"].(string))
	}
	want := []string{topo.EndpointPublicDNSName(e), topo.EndpointZonalDNSName(e, "us-east-1a"), topo.EndpointZonalDNSName(e, "us-east-1b"),
		"execute-api.us-east-1.amazonaws.com", "*.execute-api.us-east-1.amazonaws.com"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("DnsEntries\n got %v\nwant %v", names, want)
	}
	if ep["PrivateDnsEnabled"] != true || ep["ServiceName"] != "com.amazonaws.us-east-1.execute-api" || ep["VpcEndpointType"] != "Interface" ||
		ep["State"] != "available" || len(ep["SubnetIds"].([]any)) != 2 || len(ep["NetworkInterfaceIds"].([]any)) != 2 || ep["OwnerId"] != "111111111111" {
		t.Errorf("endpoint %v", ep)
	}
	if hz := ep["DnsEntries"].([]any)[0].(map[string]any)["HostedZoneId"]; hz != r53.VPCEHostedZoneID("us-east-1") {
		t.Errorf("hosted zone id %v", hz)
	}
	out = run("ec2", "describe-vpc-endpoints", "--filters", "Name=vpc-id,Values=vpc-0aaaaaaaaaaaaaaa3")
	ep = out["VpcEndpoints"].([]any)[0].(map[string]any)
	if ep["VpcEndpointId"] != "vpce-0aaaaaaaaaaaaaaa3" || len(ep["DnsEntries"].([]any)) != 1 {
		t.Errorf("private DNS off: %v", ep)
	}
	out = run("ec2", "describe-vpcs")
	if vpcs := out["Vpcs"].([]any); len(vpcs) != 2 || vpcs[0].(map[string]any)["CidrBlock"] != "127.14.0.0/16" {
		t.Errorf("vpcs %v", out)
	}
}

func TestQueryProtocol(t *testing.T) {
	s, _ := newServer(t)
	base := serve(t, s, "111111111111")
	type errResp struct {
		Errors []struct{ Code, Message string } `xml:"Errors>Error"`
		ID     string                           `xml:"RequestID"`
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		count  int // endpoints or VPCs listed
	}{
		{"all my endpoints", url.Values{"Action": {"DescribeVpcEndpoints"}, "Version": {"2016-11-15"}}, 200, "", 2},
		{"by id", url.Values{"Action": {"DescribeVpcEndpoints"}, "VpcEndpointId.1": {"vpce-0aaaaaaaaaaaaaaa3"}}, 200, "", 1},
		{"another account's endpoint", url.Values{"Action": {"DescribeVpcEndpoints"}, "VpcEndpointId.1": {"vpce-0bbbbbbbbbbbbbbb2"}}, 400, "InvalidVpcEndpointId.NotFound", 0},
		{"filter with wildcard", url.Values{"Action": {"DescribeVpcEndpoints"}, "Filter.1.Name": {"vpc-endpoint-id"}, "Filter.1.Value.1": {"*3"}}, 200, "", 1},
		{"filter service name", url.Values{"Action": {"DescribeVpcEndpoints"}, "Filter.1.Name": {"service-name"}, "Filter.1.Value.1": {"com.amazonaws.us-east-1.s3"}}, 200, "", 0},
		{"unknown filter", url.Values{"Action": {"DescribeVpcEndpoints"}, "Filter.1.Name": {"color"}, "Filter.1.Value.1": {"red"}}, 400, "InvalidParameterValue", 0},
		{"bad MaxResults", url.Values{"Action": {"DescribeVpcEndpoints"}, "MaxResults": {"2"}}, 400, "InvalidParameterValue", 0},
		{"bad NextToken", url.Values{"Action": {"DescribeVpcEndpoints"}, "NextToken": {"x"}}, 400, "InvalidNextToken", 0},
		{"unknown VPC", url.Values{"Action": {"DescribeVpcs"}, "VpcId.1": {"vpc-0123456789abcdef0"}}, 400, "InvalidVpcID.NotFound", 0},
		{"VPC by cidr", url.Values{"Action": {"DescribeVpcs"}, "Filter.1.Name": {"cidr"}, "Filter.1.Value.1": {"127.15.0.0/16"}}, 200, "", 1},
		{"dry run", url.Values{"Action": {"DescribeVpcs"}, "DryRun": {"true"}}, 412, "DryRunOperation", 0},
		{"unknown action", url.Values{"Action": {"RunInstances"}}, 400, "InvalidAction", 0},
		{"no action", url.Values{}, 400, "MissingAction", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, base, tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.code != "" {
				var er errResp
				if err := xml.Unmarshal([]byte(body), &er); err != nil || len(er.Errors) != 1 || er.Errors[0].Code != tc.code || er.ID == "" {
					t.Fatalf("error %v %+v: %s", err, er, body)
				}
				return
			}
			got := strings.Count(body, "<vpcEndpointId>")
			if strings.Contains(body, "DescribeVpcsResponse") {
				got = strings.Count(body, "<item><vpcId>")
			}
			if got != tc.count {
				t.Errorf("%d items, want %d: %s", got, tc.count, body)
			}
		})
	}
	t.Run("pagination", func(t *testing.T) {
		_, body := post(t, base, url.Values{"Action": {"DescribeVpcEndpoints"}, "MaxResults": {"5"}})
		if strings.Contains(body, "nextToken") {
			t.Errorf("next token with everything listed: %s", body)
		}
	})
}

// FuzzServeEC2 feeds arbitrary form bodies: never a panic or a 5xx.
func FuzzServeEC2(f *testing.F) {
	s, _ := newServer(f)
	f.Add("Action=DescribeVpcEndpoints&Version=2016-11-15&VpcEndpointId.1=vpce-0aaaaaaaaaaaaaaa1")
	f.Add("Action=DescribeVpcs&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-*&MaxResults=5&NextToken=1")
	f.Add("Action=DescribeVpcEndpoints&Filter.1.Name=vpc-endpoint-id&Filter.1.Value.1=***?**")
	f.Add("Action=DescribeInstances&InstanceId.1=i-0aaaaaaaaaaaaaaa1&InstanceId.2=i-0123&Filter.1.Name=tag:Name&Filter.1.Value.1=web*")
	f.Add("Action=DescribeInstances&Filter.1.Name=instance-state-name&Filter.1.Value.1=stopped&MaxResults=5&NextToken=1")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		s.ServeEC2(w, r, Caller{Account: "111111111111"}, []byte(body))
		if w.Code >= 500 {
			t.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
		if err := xml.Unmarshal(w.Body.Bytes(), new(struct{})); err != nil {
			t.Fatalf("response is not XML: %v", err)
		}
	})
}
