package elbv2api

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
)

func post(t testing.TB, base string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(base, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWireFormat(t *testing.T) {
	e := newEnv(t)
	type errResp struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct{ Type, Code, Message string }
		ID      string `xml:"RequestId"`
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		msg    string
	}{
		{"missing action", url.Values{"Version": {"2015-12-01"}}, 400, "MissingAction", "The request must contain the parameter Action."},
		{"unknown action", url.Values{"Action": {"CreateTrustStore"}, "Version": {"2015-12-01"}}, 400, "InvalidAction",
			"Could not find operation CreateTrustStore for version 2015-12-01"},
		{"wrong version", url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2012-06-01"}}, 400, "InvalidAction",
			"Could not find operation DescribeLoadBalancers for version 2012-06-01"},
		{"missing load balancer", url.Values{"Action": {"DeleteListener"}, "Version": {"2015-12-01"},
			"ListenerArn": {"arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/net/a/0123456789abcdef/0123456789abcdef"}},
			400, "ListenerNotFound", "One or more listeners not found"},
		{"malformed ARN", url.Values{"Action": {"DeleteListener"}, "Version": {"2015-12-01"}, "ListenerArn": {"nope"}},
			400, "ValidationError", "'nope' is not a valid listener ARN"},
		{"non-integer port", url.Values{"Action": {"CreateTargetGroup"}, "Version": {"2015-12-01"}, "Name": {"x"}, "Port": {"eighty"}},
			400, "ValidationError", "1 validation error detected: Value 'eighty' at 'port' failed to satisfy constraint: Member must be an integer"},
		{"missing name", url.Values{"Action": {"CreateLoadBalancer"}, "Version": {"2015-12-01"}},
			400, "ValidationError", "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, e.urlA, tt.form)
			var er errResp
			if err := xml.Unmarshal([]byte(body), &er); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != tt.status || er.Error.Type != "Sender" || er.Error.Code != tt.code || er.Error.Message != tt.msg || er.ID == "" {
				t.Errorf("got %d %+v", status, er)
			}
			if !strings.Contains(body, `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">`) {
				t.Errorf("namespace missing: %s", body)
			}
		})
	}
	t.Run("success envelope", func(t *testing.T) {
		status, body := post(t, e.urlA, url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2015-12-01"}})
		if status != 200 || !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
			`<DescribeLoadBalancersResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeLoadBalancersResult><LoadBalancers></LoadBalancers></DescribeLoadBalancersResult><ResponseMetadata><RequestId>`) {
			t.Errorf("got %d %s", status, body)
		}
	})
}

func TestCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newEnv(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", e.urlA, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
		}
		var out map[string]any
		if stdout.Len() == 0 {
			return nil
		}
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("aws %v output %q: %v", args, stdout.String(), err)
		}
		return out
	}
	out := run("elbv2", "create-load-balancer", "--name", "cli-nlb", "--type", "network", "--scheme", "internal", "--subnets", subnetA1)
	lbARN := out["LoadBalancers"].([]any)[0].(map[string]any)["LoadBalancerArn"].(string)
	out = run("elbv2", "describe-load-balancers")
	lbs := out["LoadBalancers"].([]any)
	if len(lbs) != 1 || lbs[0].(map[string]any)["LoadBalancerName"] != "cli-nlb" || lbs[0].(map[string]any)["State"].(map[string]any)["Code"] != "active" {
		t.Errorf("describe-load-balancers: %v", out)
	}
	out = run("elbv2", "create-target-group", "--name", "cli-tg", "--protocol", "TCP", "--port", "80", "--vpc-id", vpcA, "--target-type", "ip",
		"--health-check-interval-seconds", "10")
	tgARN := out["TargetGroups"].([]any)[0].(map[string]any)["TargetGroupArn"].(string)
	run("elbv2", "register-targets", "--target-group-arn", tgARN, "--targets", "Id=10.1.1.10,Port=8080")
	out = run("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "TCP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgARN)
	if out["Listeners"].([]any)[0].(map[string]any)["Port"] != float64(80) {
		t.Errorf("create-listener: %v", out)
	}
	out = run("elbv2", "describe-target-health", "--target-group-arn", tgARN)
	d := out["TargetHealthDescriptions"].([]any)[0].(map[string]any)
	if d["Target"].(map[string]any)["Port"] != float64(8080) || d["TargetHealth"].(map[string]any)["State"] != "initial" {
		t.Errorf("describe-target-health: %v", out)
	}
	// An error reaches the CLI with its code.
	cmd := exec.Command("aws", "elbv2", "describe-load-balancers", "--names", "missing", "--endpoint-url", e.urlA)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
	msg, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(msg), "(LoadBalancerNotFound)") || !strings.Contains(string(msg), "Load balancers '[missing]' not found") {
		t.Errorf("CLI error: %v %s", err, msg)
	}
}

// FuzzServe sends arbitrary form bodies: the server must answer every one with a
// well-formed XML document and never panic.
func FuzzServe(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeLoadBalancers&Version=2015-12-01",
		"Action=CreateLoadBalancer&Name=a&Type=network&Subnets.member.1=subnet-0aaaaaaaaaaaaaaa1",
		"Action=CreateTargetGroup&Name=t&Protocol=TCP&Port=80&VpcId=vpc-0aaaaaaaaaaaaaaa1&TargetType=ip",
		"Action=CreateRule&ListenerArn=arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/a/0123456789abcdef/0123456789abcdef&Priority=1&Conditions.member.1.Field=path-pattern&Conditions.member.1.Values.member.1=/x&Actions.member.1.Type=forward",
		"Action=RegisterTargets&TargetGroupArn=arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/t/0123456789abcdef&Targets.member.1.Id=10.1.1.1",
		"Action=DescribeTargetHealth&TargetGroupArn=x&Targets.member.1.Port=99999",
		"Action=CreateTargetGroup&Name=i&Protocol=TCP&Port=80&VpcId=vpc-0aaaaaaaaaaaaaaa1&TargetType=instance",
		"Action=RegisterTargets&TargetGroupArn=arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/i/0123456789abcdef&Targets.member.1.Id=i-0aaaaaaaaaaaaaaa1&Targets.member.2.Id=i-0aaaaaaaaaaaaaaa2&Targets.member.2.Port=81",
		"%zz", "Action=&&&=", "Action=DescribeRules&PageSize=0&Marker=-1",
	} {
		f.Add(seed)
	}
	// The topology declares load balancers and target groups too (declared_test.go).
	topo, err := config.Parse([]byte(declaredYAML("")))
	if err != nil {
		f.Fatal(err)
	}
	nlb, alb := &topo.LoadBalancers[0], &topo.LoadBalancers[1]
	tcp, _ := topo.TargetGroup(accountA, "topo-tcp")
	for _, seed := range []string{
		"Action=DescribeTargetGroups&LoadBalancerArn=" + url.QueryEscape(topo.LoadBalancerARN(alb)),
		"Action=DeleteLoadBalancer&LoadBalancerArn=" + url.QueryEscape(topo.LoadBalancerARN(nlb)),
		"Action=DescribeRules&ListenerArn=" + url.QueryEscape(topo.ListenerARN(alb, &alb.Listeners[0])),
		"Action=RegisterTargets&TargetGroupArn=" + url.QueryEscape(topo.TargetGroupARN(tcp)) + "&Targets.member.1.Id=10.1.1.1",
		"Action=DescribeTargetHealth&TargetGroupArn=" + url.QueryEscape(topo.TargetGroupARN(tcp)),
	} {
		f.Add(seed)
	}
	st := openStore(f)
	s := New(Options{Store: st, Topology: topo})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		w := httptest.NewRecorder()
		s.ServeELBv2(w, r, Caller{Account: accountA}, []byte(body))
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("500 for %q: %s", body, w.Body.String())
		}
		d := xml.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("malformed XML for %q: %v\n%s", body, err, w.Body.String())
			}
		}
	})
}
