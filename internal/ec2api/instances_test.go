package ec2api

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// awsCLI runs the aws CLI against base; it skips the test when the CLI is missing.
func awsCLI(t *testing.T, base string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	cmd := exec.Command("aws", append(args, "--endpoint-url", base, "--output", "json")...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.String(), errb.String(), err
}

// cliInstance is the part of the CLI's Instance output the tests check.
type cliInstance struct {
	InstanceID string `json:"InstanceId"`
	State      struct {
		Code int
		Name string
	}
	PrivateIPAddress  string `json:"PrivateIpAddress"`
	PrivateDNSName    string `json:"PrivateDnsName"`
	SubnetID          string `json:"SubnetId"`
	VpcID             string `json:"VpcId"`
	Placement         struct{ AvailabilityZone, Tenancy string }
	Tags              []struct{ Key, Value string }
	StateReason       *struct{ Code, Message string }
	StateTransition   string `json:"StateTransitionReason"`
	LaunchTime        string
	NetworkInterfaces []struct {
		NetworkInterfaceID string `json:"NetworkInterfaceId"`
		PrivateIPAddress   string `json:"PrivateIpAddress"`
		OwnerID            string `json:"OwnerId"`
		Status             string
		PrivateIPAddresses []struct {
			Primary          bool
			PrivateIPAddress string `json:"PrivateIpAddress"`
		} `json:"PrivateIpAddresses"`
	}
}

type cliReservations struct {
	Reservations []struct {
		ReservationID string `json:"ReservationId"`
		OwnerID       string `json:"OwnerId"`
		Instances     []cliInstance
	}
	NextToken string
}

func TestDescribeInstancesCLI(t *testing.T) {
	s, _ := newServer(t)
	base := serve(t, s, "111111111111")
	describe := func(t *testing.T, args ...string) cliReservations {
		t.Helper()
		out, stderr, err := awsCLI(t, base, append([]string{"ec2", "describe-instances"}, args...)...)
		if err != nil {
			t.Fatalf("aws ec2 describe-instances %v: %v\n%s", args, err, stderr)
		}
		var r cliReservations
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return r
	}
	ids := func(r cliReservations) []string {
		out := []string{}
		for _, res := range r.Reservations {
			for _, in := range res.Instances {
				out = append(out, in.InstanceID)
			}
		}
		return out
	}

	t.Run("one instance, every field", func(t *testing.T) {
		r := describe(t, "--instance-ids", "i-0aaaaaaaaaaaaaaa1")
		if len(r.Reservations) != 1 || len(r.Reservations[0].Instances) != 1 {
			t.Fatalf("reservations %+v", r)
		}
		res := r.Reservations[0]
		if !strings.HasPrefix(res.ReservationID, "r-") || len(res.ReservationID) != 19 || res.OwnerID != "111111111111" {
			t.Errorf("reservation %q owner %q", res.ReservationID, res.OwnerID)
		}
		in := res.Instances[0]
		if in.InstanceID != "i-0aaaaaaaaaaaaaaa1" || in.State.Code != 16 || in.State.Name != "running" ||
			in.PrivateIPAddress != "127.14.1.21" || in.PrivateDNSName != "ip-127-14-1-21.ec2.internal" ||
			in.SubnetID != "subnet-0aaaaaaaaaaaaaaa1" || in.VpcID != "vpc-0aaaaaaaaaaaaaaa1" ||
			in.Placement.AvailabilityZone != "us-east-1a" || in.Placement.Tenancy != "default" ||
			in.StateReason != nil || in.LaunchTime == "" {
			t.Errorf("instance %+v", in)
		}
		if len(in.Tags) != 1 || in.Tags[0].Key != "Name" || in.Tags[0].Value != "web-1" {
			t.Errorf("tags %+v", in.Tags)
		}
		if len(in.NetworkInterfaces) != 1 {
			t.Fatalf("network interfaces %+v", in.NetworkInterfaces)
		}
		eni := in.NetworkInterfaces[0]
		if !strings.HasPrefix(eni.NetworkInterfaceID, "eni-") || eni.PrivateIPAddress != "127.14.1.21" || eni.OwnerID != "111111111111" ||
			eni.Status != "in-use" || len(eni.PrivateIPAddresses) != 1 || !eni.PrivateIPAddresses[0].Primary {
			t.Errorf("network interface %+v", eni)
		}
	})
	t.Run("stopped instance", func(t *testing.T) {
		r := describe(t, "--filters", "Name=instance-state-name,Values=stopped")
		if got := ids(r); !reflect.DeepEqual(got, []string{"i-0aaaaaaaaaaaaaaa2"}) {
			t.Fatalf("ids %v", got)
		}
		in := r.Reservations[0].Instances[0]
		if in.State.Code != 80 || in.State.Name != "stopped" || in.StateReason == nil ||
			in.StateReason.Code != "Client.UserInitiatedShutdown" || in.StateTransition != "User initiated" ||
			in.Placement.AvailabilityZone != "us-east-1b" || len(in.Tags) != 0 {
			t.Errorf("instance %+v", in)
		}
	})
	t.Run("all of the caller's instances", func(t *testing.T) {
		if got := ids(describe(t)); !reflect.DeepEqual(got, []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"}) {
			t.Fatalf("ids %v", got)
		}
	})
	t.Run("nothing matches", func(t *testing.T) {
		out, stderr, err := awsCLI(t, base, "ec2", "describe-instances", "--filters", "Name=vpc-id,Values=vpc-0aaaaaaaaaaaaaaa3")
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		var raw map[string]any
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatal(err)
		}
		if l, ok := raw["Reservations"].([]any); !ok || len(l) != 0 {
			t.Fatalf("want an empty Reservations list: %s", out)
		}
	})
	t.Run("unknown instance", func(t *testing.T) {
		_, stderr, err := awsCLI(t, base, "ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0")
		if err == nil || !strings.Contains(stderr, "(InvalidInstanceID.NotFound)") ||
			!strings.Contains(stderr, "The instance ID 'i-0123456789abcdef0' does not exist") {
			t.Fatalf("err %v: %s", err, stderr)
		}
	})
}

func TestDescribeInstances(t *testing.T) {
	s, _ := newServer(t)
	base := serve(t, s, "111111111111")
	type errResp struct {
		Errors []struct{ Code, Message string } `xml:"Errors>Error"`
	}
	type okResp struct {
		Instances []string `xml:"reservationSet>item>instancesSet>item>instanceId"`
		NextToken string   `xml:"nextToken"`
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"Action": {"DescribeInstances"}, "Version": {"2016-11-15"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	filter := func(name string, values ...string) []string {
		kv := []string{"Filter.1.Name", name}
		for i, v := range values {
			kv = append(kv, "Filter.1.Value."+string(rune('1'+i)), v)
		}
		return kv
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		msg    string
		ids    []string
	}{
		{"all", form(), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"}},
		{"by id", form("InstanceId.1", "i-0aaaaaaaaaaaaaaa2"), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa2"}},
		{"by two ids", form("InstanceId.1", "i-0aaaaaaaaaaaaaaa2", "InstanceId.2", "i-0aaaaaaaaaaaaaaa1"), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"}},
		{"instance-id filter", form(filter("instance-id", "i-0aaaaaaaaaaaaaaa1")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1"}},
		{"vpc-id filter", form(filter("vpc-id", "vpc-0aaaaaaaaaaaaaaa1")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"}},
		{"subnet-id filter", form(filter("subnet-id", "subnet-0aaaaaaaaaaaaaaa2")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa2"}},
		{"private-ip-address filter", form(filter("private-ip-address", "127.14.1.21")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1"}},
		{"private-ip-address wildcard", form(filter("private-ip-address", "127.14.2.*")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa2"}},
		{"instance-state-name filter, two values", form(filter("instance-state-name", "pending", "running")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1"}},
		{"tag:Name filter", form(filter("tag:Name", "web-*")...), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa1"}},
		{"filters are ANDed", form("Filter.1.Name", "vpc-id", "Filter.1.Value.1", "vpc-0aaaaaaaaaaaaaaa1", "Filter.2.Name", "instance-state-name", "Filter.2.Value.1", "stopped"), 200, "", "", []string{"i-0aaaaaaaaaaaaaaa2"}},
		{"another account's VPC", form(filter("vpc-id", "vpc-0bbbbbbbbbbbbbbb2")...), 200, "", "", nil},
		{"unknown filter", form(filter("image-id", "ami-12345678")...), 400, "InvalidParameterValue", "The filter 'image-id' is invalid", nil},
		{"unknown id", form("InstanceId.1", "i-0123456789abcdef0"), 400, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' does not exist", nil},
		{"another account's instance", form("InstanceId.1", "i-0bbbbbbbbbbbbbbb1"), 400, "InvalidInstanceID.NotFound", "The instance ID 'i-0bbbbbbbbbbbbbbb1' does not exist", nil},
		{"two unknown ids", form("InstanceId.1", "i-0123456789abcdef0", "InstanceId.2", "i-0aaaaaaaaaaaaaaa1", "InstanceId.3", "i-01234567"), 400, "InvalidInstanceID.NotFound", "The instance IDs 'i-0123456789abcdef0, i-01234567' do not exist", nil},
		{"malformed id", form("InstanceId.1", "web-1"), 400, "InvalidInstanceID.Malformed", `Invalid id: "web-1"`, nil},
		{"ids with MaxResults", form("InstanceId.1", "i-0aaaaaaaaaaaaaaa1", "MaxResults", "5"), 400, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults", nil},
		{"bad MaxResults", form("MaxResults", "1001"), 400, "InvalidParameterValue", "", nil},
		{"dry run", form("DryRun", "true"), 412, "DryRunOperation", "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(t, base, tc.form)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if tc.code != "" {
				var er errResp
				if err := xml.Unmarshal([]byte(body), &er); err != nil || len(er.Errors) != 1 || er.Errors[0].Code != tc.code ||
					!strings.Contains(er.Errors[0].Message, tc.msg) {
					t.Fatalf("error %v %+v, want %s %q", err, er, tc.code, tc.msg)
				}
				return
			}
			var ok okResp
			if err := xml.Unmarshal([]byte(body), &ok); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ok.Instances, tc.ids) {
				t.Fatalf("instances %v, want %v\n%s", ok.Instances, tc.ids, body)
			}
			if !strings.Contains(body, "<DescribeInstancesResponse xmlns=\""+Namespace+"\">") || !strings.Contains(body, "<reservationSet>") {
				t.Fatalf("response shape: %s", body)
			}
		})
	}
	t.Run("another account sees its own", func(t *testing.T) {
		base2 := serve(t, s, "222222222222")
		_, body := post(t, base2, form())
		var ok okResp
		if err := xml.Unmarshal([]byte(body), &ok); err != nil || !reflect.DeepEqual(ok.Instances, []string{"i-0bbbbbbbbbbbbbbb1"}) {
			t.Fatalf("%v %v: %s", err, ok.Instances, body)
		}
	})
	t.Run("pagination", func(t *testing.T) {
		s2, topo := newServer(t)
		// Seven more running instances in subnet 1.
		for _, id := range []string{"11", "12", "13", "14", "15", "16", "17"} {
			in := topo.Instances[0]
			in.ID = "i-0aaaaaaaaaaaaaa" + id
			in.PrivateIP = in.PrivateIP.Next()
			topo.Instances = append(topo.Instances, in)
		}
		b2 := serve(t, s2, "111111111111")
		var all []string
		token := ""
		for pages := 0; pages < 5; pages++ {
			f := form("MaxResults", "5")
			if token != "" {
				f.Set("NextToken", token)
			}
			_, body := post(t, b2, f)
			var ok okResp
			if err := xml.Unmarshal([]byte(body), &ok); err != nil {
				t.Fatal(err)
			}
			all = append(all, ok.Instances...)
			if token = ok.NextToken; token == "" {
				break
			}
		}
		if len(all) != 9 || all[0] != "i-0aaaaaaaaaaaaaaa1" || all[8] != "i-0aaaaaaaaaaaaaa17" {
			t.Fatalf("paged %v", all)
		}
	})
}
