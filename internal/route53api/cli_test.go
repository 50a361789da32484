package route53api

import (
	"fmt"
	"strings"
	"testing"

	"gatehouse/internal/dns/r53"
)

// TestAWSCLI drives the API with the aws CLI, as a user would.
func TestAWSCLI(t *testing.T) {
	needAWS(t)
	e := newEnv(t, func(id string) (r53.HealthObservation, bool) {
		return r53.HealthObservation{Region: "us-east-1", IPAddress: "127.0.0.1", Status: "Success: HTTP Status Code 200, OK", Healthy: true,
			CheckedTime: mustTime("2026-01-02T03:04:05Z")}, true
	})
	u := e.urlA

	out, stderr, ok := aws(t, u, "route53", "create-hosted-zone", "--name", "Example.com", "--caller-reference", "ref-1",
		"--hosted-zone-config", "Comment=public zone")
	if !ok {
		t.Fatalf("create-hosted-zone: %s", stderr)
	}
	zoneID := path(out, "HostedZone", "Id").(string)
	if !strings.HasPrefix(zoneID, "/hostedzone/Z") || path(out, "HostedZone", "Name") != "example.com." ||
		path(out, "ChangeInfo", "Status") != "PENDING" || len(path(out, "DelegationSet", "NameServers").([]any)) != 4 ||
		path(out, "HostedZone", "ResourceRecordSetCount") != float64(2) || path(out, "Location") == nil {
		t.Fatalf("create-hosted-zone output %v", out)
	}
	if _, stderr, ok := aws(t, u, "route53", "create-hosted-zone", "--name", "other.com", "--caller-reference", "ref-1"); ok || !strings.Contains(stderr, "HostedZoneAlreadyExists") {
		t.Errorf("reused caller reference: %s", stderr)
	}

	out, stderr, ok = aws(t, u, "route53", "get-hosted-zone", "--id", zoneID)
	if !ok || path(out, "HostedZone", "Config", "Comment") != "public zone" || path(out, "HostedZone", "Config", "PrivateZone") != false {
		t.Fatalf("get-hosted-zone: %v %s", out, stderr)
	}

	// A health check for the failover record.
	out, stderr, ok = aws(t, u, "route53", "create-health-check", "--caller-reference", "hc-1", "--health-check-config",
		"Type=HTTP,IPAddress=127.0.0.1,Port=8080,ResourcePath=/health,RequestInterval=10,FailureThreshold=2")
	if !ok {
		t.Fatalf("create-health-check: %s", stderr)
	}
	hcID := path(out, "HealthCheck", "Id").(string)
	if path(out, "HealthCheck", "HealthCheckConfig", "FailureThreshold") != float64(2) || path(out, "HealthCheck", "HealthCheckVersion") != float64(1) {
		t.Errorf("create-health-check output %v", out)
	}
	batch := fmt.Sprintf(`{"Comment":"first","Changes":[
 {"Action":"CREATE","ResourceRecordSet":{"Name":"www.example.com","Type":"A","TTL":300,"ResourceRecords":[{"Value":"192.0.2.1"},{"Value":"192.0.2.2"}]}},
 {"Action":"CREATE","ResourceRecordSet":{"Name":"*.wild.example.com","Type":"TXT","TTL":60,"ResourceRecords":[{"Value":"\"hello\""}]}},
 {"Action":"CREATE","ResourceRecordSet":{"Name":"api.example.com","Type":"A","SetIdentifier":"primary","Failover":"PRIMARY","HealthCheckId":%q,"TTL":60,"ResourceRecords":[{"Value":"192.0.2.10"}]}},
 {"Action":"CREATE","ResourceRecordSet":{"Name":"api.example.com","Type":"A","SetIdentifier":"secondary","Failover":"SECONDARY","TTL":60,"ResourceRecords":[{"Value":"192.0.2.20"}]}},
 {"Action":"CREATE","ResourceRecordSet":{"Name":"w.example.com","Type":"A","SetIdentifier":"one","Weight":10,"TTL":60,"ResourceRecords":[{"Value":"192.0.2.31"}]}},
 {"Action":"CREATE","ResourceRecordSet":{"Name":"alias.example.com","Type":"A","AliasTarget":{"HostedZoneId":%q,"DNSName":"www.example.com","EvaluateTargetHealth":false}}}
]}`, hcID, strings.TrimPrefix(zoneID, "/hostedzone/"))
	out, stderr, ok = aws(t, u, "route53", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", batch)
	if !ok {
		t.Fatalf("change-resource-record-sets: %s", stderr)
	}
	changeID := path(out, "ChangeInfo", "Id").(string)
	if !strings.HasPrefix(changeID, "/change/C") || path(out, "ChangeInfo", "Comment") != "first" {
		t.Errorf("change output %v", out)
	}

	out, stderr, ok = aws(t, u, "route53", "list-resource-record-sets", "--hosted-zone-id", zoneID)
	if !ok {
		t.Fatalf("list-resource-record-sets: %s", stderr)
	}
	var names []string
	for _, r := range path(out, "ResourceRecordSets").([]any) {
		names = append(names, fmt.Sprintf("%s %s %v", path(r, "Name"), path(r, "Type"), path(r, "SetIdentifier")))
	}
	wantNames := []string{"example.com. NS <nil>", "example.com. SOA <nil>", "alias.example.com. A <nil>",
		"api.example.com. A primary", "api.example.com. A secondary", "w.example.com. A one",
		`\052.wild.example.com. TXT <nil>`, "www.example.com. A <nil>"}
	if strings.Join(names, "|") != strings.Join(wantNames, "|") {
		t.Errorf("records\n got %v\nwant %v", names, wantNames)
	}
	// Pagination through the CLI's paginator (page size 3).
	out, _, ok = aws(t, u, "route53", "list-resource-record-sets", "--hosted-zone-id", zoneID, "--page-size", "3")
	if !ok || len(path(out, "ResourceRecordSets").([]any)) != len(wantNames) {
		t.Errorf("paginated list: %v", out)
	}
	// A bad batch: AWS's InvalidChangeBatch, nothing applied.
	bad := `{"Changes":[
 {"Action":"UPSERT","ResourceRecordSet":{"Name":"new.example.com","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.50"}]}},
 {"Action":"CREATE","ResourceRecordSet":{"Name":"www.example.com","Type":"A","TTL":300,"ResourceRecords":[{"Value":"192.0.2.1"}]}},
 {"Action":"DELETE","ResourceRecordSet":{"Name":"gone.example.com","Type":"A","TTL":300,"ResourceRecords":[{"Value":"192.0.2.1"}]}}]}`
	_, stderr, ok = aws(t, u, "route53", "change-resource-record-sets", "--hosted-zone-id", zoneID, "--change-batch", bad)
	wantMsg := "An error occurred (InvalidChangeBatch) when calling the ChangeResourceRecordSets operation: " +
		"[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists, " +
		"Tried to delete resource record set [name='gone.example.com.', type='A'] but it was not found]"
	if ok || !strings.Contains(stderr, wantMsg) {
		t.Errorf("bad batch:\n got %s\nwant %s", stderr, wantMsg)
	}
	out, _, _ = aws(t, u, "route53", "list-resource-record-sets", "--hosted-zone-id", zoneID, "--start-record-name", "new.example.com", "--max-items", "1")
	if path(out, "ResourceRecordSets", 0, "Name") == "new.example.com." {
		t.Error("a rejected batch applied its first change")
	}
	// GetChange.
	out, stderr, ok = aws(t, u, "route53", "get-change", "--id", changeID)
	if !ok || path(out, "ChangeInfo", "Id") != changeID {
		t.Errorf("get-change: %v %s", out, stderr)
	}
	// Health check status and listing.
	out, stderr, ok = aws(t, u, "route53", "get-health-check-status", "--health-check-id", hcID)
	if !ok || path(out, "HealthCheckObservations", 0, "StatusReport", "Status") != "Success: HTTP Status Code 200, OK" {
		t.Errorf("get-health-check-status: %v %s", out, stderr)
	}
	// Private zone, association.
	out, stderr, ok = aws(t, u, "route53", "create-hosted-zone", "--name", "corp.internal", "--caller-reference", "ref-2",
		"--vpc", "VPCRegion=us-east-1,VPCId="+vpcA, "--hosted-zone-config", "PrivateZone=true")
	if !ok {
		t.Fatalf("create private zone: %s", stderr)
	}
	privID := path(out, "HostedZone", "Id").(string)
	if path(out, "HostedZone", "Config", "PrivateZone") != true || path(out, "VPC", "VPCId") != vpcA || path(out, "DelegationSet") != nil {
		t.Errorf("private zone output %v", out)
	}
	if _, stderr, ok := aws(t, u, "route53", "associate-vpc-with-hosted-zone", "--hosted-zone-id", privID, "--vpc", "VPCRegion=us-east-1,VPCId="+vpcA2); !ok {
		t.Errorf("associate: %s", stderr)
	}
	out, _, _ = aws(t, u, "route53", "get-hosted-zone", "--id", privID)
	if vpcs := path(out, "VPCs").([]any); len(vpcs) != 2 {
		t.Errorf("VPCs after association: %v", vpcs)
	}
	// Listing.
	out, _, ok = aws(t, u, "route53", "list-hosted-zones-by-name", "--dns-name", "example.com")
	if !ok || path(out, "HostedZones", 0, "Name") != "example.com." {
		t.Errorf("list-hosted-zones-by-name: %v", out)
	}
	// Deleting a zone that still has records.
	if _, stderr, ok := aws(t, u, "route53", "delete-hosted-zone", "--id", zoneID); ok || !strings.Contains(stderr, "HostedZoneNotEmpty") {
		t.Errorf("delete non-empty: %s", stderr)
	}
	if _, stderr, ok := aws(t, u, "route53", "delete-hosted-zone", "--id", privID); !ok {
		t.Errorf("delete empty zone: %s", stderr)
	}
}
