package vpclink

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the package's Prometheus collectors (namespace gateway, subsystem vpclink).
type metrics struct {
	agents        *prometheus.GaugeVec   // vpc
	joins         *prometheus.CounterVec // vpc, result
	agentStreams  *prometheus.GaugeVec   // vpc, agent
	agentOpened   *prometheus.CounterVec // vpc, agent
	agentBytes    *prometheus.CounterVec // vpc, agent, direction
	agentDialErrs *prometheus.CounterVec // vpc, agent, reason
	targetHealthy *prometheus.GaugeVec   // target_group
	ejections     *prometheus.CounterVec // target_group
	connectErrors *prometheus.CounterVec // target_group
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "gateway", "vpclink"
	m := &metrics{
		agents: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "agents", Help: "Link agents connected, by VPC."}, []string{"vpc"}),
		joins: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "agent_joins_total", Help: "Link agent join attempts, by VPC (empty when unknown) and result."}, []string{"vpc", "result"}),
		agentStreams: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "agent_streams", Help: "Connections open through a link agent."}, []string{"vpc", "agent"}),
		agentOpened: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "agent_streams_total", Help: "Connections opened through a link agent."}, []string{"vpc", "agent"}),
		agentBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "agent_bytes_total", Help: "Bytes carried through a link agent; direction is to_target or from_target."}, []string{"vpc", "agent", "direction"}),
		agentDialErrs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "agent_dial_errors_total", Help: "Connects through a link agent that failed, by reason."}, []string{"vpc", "agent", "reason"}),
		targetHealthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "healthy_targets", Help: "Healthy targets of a target group."}, []string{"target_group"}),
		ejections: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "target_ejections_total", Help: "Targets taken out of rotation after failed connects (passive health)."}, []string{"target_group"}),
		connectErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "target_connect_errors_total", Help: "Failed connects to targets."}, []string{"target_group"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.agents, m.joins, m.agentStreams, m.agentOpened, m.agentBytes,
		m.agentDialErrs, m.targetHealthy, m.ejections, m.connectErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
