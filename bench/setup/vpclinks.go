package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
)

// setupVPCLinks creates, for each NAME=NLB argument (NLB: a network load balancer's name,
// found with DescribeLoadBalancers, e.g. one declared in the topology), a VPC link (v1) to that load balancer and a public REGIONAL
// API whose /{proxy+} ANY is an HTTP_PROXY integration with connectionType VPC_LINK
// through it (uri http://{NLB}.internal/{proxy}: on AWS the uri sets Host, the link
// routes). It waits until every link is AVAILABLE and every API answers through the
// public plain-HTTP listener, then prints {"NAME": "api id", ...}.
func setupVPCLinks(ctx context.Context, o *options, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("vpclinks: want NAME=NLB arguments")
	}
	c := o.client()
	lbs := elb.New(elb.Options{
		Region:           o.region,
		BaseEndpoint:     aws.String(o.controlPlane),
		Credentials:      credentials.NewStaticCredentialsProvider(o.accessKey, o.secret, ""),
		RetryMaxAttempts: 3,
	})
	out := map[string]string{}
	for _, arg := range args {
		name, nlb, ok := strings.Cut(arg, "=")
		if !ok {
			return fmt.Errorf("vpclinks: %q is not NAME=NLB", arg)
		}
		d, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{nlb}})
		if err != nil || len(d.LoadBalancers) != 1 {
			return fmt.Errorf("vpclinks: load balancer %s: %v", nlb, err)
		}
		arn := *d.LoadBalancers[0].LoadBalancerArn
		link, err := c.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{Name: aws.String(name), TargetArns: []string{arn}})
		if err != nil {
			return fmt.Errorf("vpclinks: CreateVpcLink %s: %w", name, err)
		}
		for link.Status != types.VpcLinkStatusAvailable {
			if link.Status != types.VpcLinkStatusPending {
				return fmt.Errorf("vpclinks: link %s is %s: %s", name, link.Status, aws.ToString(link.StatusMessage))
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			got, err := c.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: link.Id})
			if err != nil {
				return fmt.Errorf("vpclinks: GetVpcLink %s: %w", name, err)
			}
			link = &apigateway.CreateVpcLinkOutput{Id: got.Id, Status: got.Status, StatusMessage: got.StatusMessage}
		}
		id, err := createProxyAPI(ctx, c, "bench-"+name, types.EndpointTypeRegional, "", "http://"+nlb+".internal",
			func(in *apigateway.PutIntegrationInput) {
				in.ConnectionType = types.ConnectionTypeVpcLink
				in.ConnectionId = link.Id
			})
		if err != nil {
			return fmt.Errorf("vpclinks: %s: %w", name, err)
		}
		if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &id, StageName: aws.String("prod")}); err != nil {
			return fmt.Errorf("vpclinks: %s deployment: %w", name, err)
		}
		if err := waitOK(ctx, "", o.publicHTTP, id+".execute-api."+o.region+".amazonaws.com", "/prod/ready"); err != nil {
			return fmt.Errorf("vpclinks: %s not served: %w", name, err)
		}
		out[name] = id
	}
	return json.NewEncoder(stdout).Encode(out)
}
