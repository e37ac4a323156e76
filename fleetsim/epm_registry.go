package fleetsim

import (
	"strconv"
	"strings"
)

// registryPackage is one version of a package in the built-in registry.
type registryPackage struct {
	Name, Title, Version string
	// DataStreams are "type-dataset" names; a package without them has no
	// index templates (content only) and never shows in the installed list.
	DataStreams []string
}

// registry is a small registry of real integrations, several versions each.
var registry = func() []registryPackage {
	var out []registryPackage
	add := func(name, title string, streams []string, versions ...string) {
		for _, v := range versions {
			out = append(out, registryPackage{Name: name, Title: title, Version: v, DataStreams: streams})
		}
	}
	add("system", "System", []string{"logs-system.syslog", "logs-system.auth", "metrics-system.cpu", "metrics-system.memory"}, "1.60.0", "1.64.1", "2.0.0")
	add("nginx", "Nginx", []string{"logs-nginx.access", "logs-nginx.error", "metrics-nginx.stubstatus"}, "1.20.0", "1.25.1", "2.0.0", "2.1.0")
	add("apache", "Apache HTTP Server", []string{"logs-apache.access", "logs-apache.error", "metrics-apache.status"}, "1.22.0", "1.24.0", "2.0.0")
	add("fleet_server", "Fleet Server", []string{"metrics-fleet_server.agent_status", "logs-fleet_server.output_health"}, "1.5.0", "1.6.0")
	add("apm", "Elastic APM", []string{"traces-apm", "metrics-apm.internal", "logs-apm.error"}, "8.15.0", "9.0.0", "9.1.0")
	add("synthetics", "Elastic Synthetics", []string{"synthetics-http", "synthetics-icmp", "synthetics-tcp"}, "1.2.2", "1.3.0")
	add("elastic_agent", "Elastic Agent", []string{"logs-elastic_agent", "metrics-elastic_agent.elastic_agent"}, "1.20.0", "2.0.0", "2.1.0")
	add("endpoint", "Elastic Defend", []string{"logs-endpoint.events.process", "logs-endpoint.alerts", "metrics-endpoint.metadata"}, "8.17.0", "9.0.0")
	add("elastic_security", "Elastic Security", []string{"logs-elastic_security.alert"}, "0.4.0")
	// An input package (packages/log, type input): its index templates are
	// made per integration policy, for the policy's dataset
	// (installAssetsForInputPackagePolicy), so the package has none of its
	// own.
	add("log", "Custom Logs", nil, "2.3.1")
	add("kubernetes", "Kubernetes", []string{"metrics-kubernetes.pod", "logs-kubernetes.container_logs"}, "1.60.0", "1.70.0", "1.72.0")
	// More integrations, so a brownfield Fleet can hold dozens of packages
	// (import's round trip). Names and data streams are those of the
	// packages in elastic/integrations; versions are illustrative.
	for _, p := range []struct {
		name, title string
		streams     []string
	}{
		{"mysql", "MySQL", []string{"logs-mysql.error", "logs-mysql.slowlog", "metrics-mysql.status"}},
		{"postgresql", "PostgreSQL", []string{"logs-postgresql.log", "metrics-postgresql.activity"}},
		{"redis", "Redis", []string{"logs-redis.log", "metrics-redis.info"}},
		{"mongodb", "MongoDB", []string{"logs-mongodb.log", "metrics-mongodb.status"}},
		{"haproxy", "HAProxy", []string{"logs-haproxy.log", "metrics-haproxy.stat"}},
		{"iis", "IIS", []string{"logs-iis.access", "logs-iis.error"}},
		{"windows", "Windows", []string{"logs-windows.sysmon_operational", "metrics-windows.service"}},
		{"auditd", "Auditd Logs", []string{"logs-auditd.log"}},
		{"prometheus", "Prometheus", []string{"metrics-prometheus.collector"}},
		{"docker", "Docker", []string{"metrics-docker.container", "logs-docker.container_logs"}},
		{"zookeeper", "ZooKeeper", []string{"metrics-zookeeper.mntr"}},
		{"rabbitmq", "RabbitMQ", []string{"logs-rabbitmq.log", "metrics-rabbitmq.queue"}},
		{"traefik", "Traefik", []string{"logs-traefik.access"}},
		{"aws", "AWS", []string{"logs-aws.cloudtrail", "metrics-aws.ec2_metrics"}},
		{"azure", "Azure Logs", []string{"logs-azure.activitylogs"}},
		{"gcp", "Google Cloud Platform", []string{"logs-gcp.audit"}},
		{"kafka", "Kafka", []string{"logs-kafka.log", "metrics-kafka.broker"}},
		{"activemq", "ActiveMQ", []string{"logs-activemq.log"}},
		{"osquery_manager", "Osquery Manager", []string{"logs-osquery_manager.result"}},
		{"cisco_asa", "Cisco ASA", []string{"logs-cisco_asa.log"}},
		{"panw", "Palo Alto Next-Gen Firewall", []string{"logs-panw.panos"}},
		{"okta", "Okta", []string{"logs-okta.system"}},
	} {
		add(p.name, p.title, p.streams, "1.0.0", "1.1.0")
	}
	// Content-only packages: dashboards and rules, no index templates.
	add("security_detection_engine", "Prebuilt Security Detection Rules", nil, "8.17.1", "9.0.1")
	add("kibana_dashboards_demo", "Demo Dashboards", nil, "0.1.0", "0.2.0")
	return out
}()

func registryFind(name, version string) *registryPackage {
	for i := range registry {
		if registry[i].Name == name && registry[i].Version == version {
			return &registry[i]
		}
	}
	return nil
}

func registryLatest(name string) *registryPackage {
	var best *registryPackage
	for i := range registry {
		if registry[i].Name == name && (best == nil || compareVersions(registry[i].Version, best.Version) > 0) {
			best = &registry[i]
		}
	}
	return best
}

func registryTitle(name string) string {
	if p := registryLatest(name); p != nil {
		return p.Title
	}
	return name
}

// hasIndexTemplates reports whether an installation has index_template assets.
func hasIndexTemplates(inst *installation) bool {
	if p := registryFind(inst.Name, inst.Version); p != nil {
		return len(p.DataStreams) > 0
	}
	// Packages from outside the registry (seeded custom or uploaded ones)
	// declare it in their extra attributes.
	b, _ := inst.Extra["has_index_templates"].(bool)
	return b
}

func assetsOf(name, version string, streams []string) []any {
	items := []any{}
	for _, ds := range streams {
		items = append(items,
			map[string]any{"id": ds, "type": "index_template"},
			map[string]any{"id": ds + "@package", "type": "component_template"})
	}
	items = append(items, map[string]any{"id": name + "-" + strings.ReplaceAll(version, ".", "-") + "-overview", "type": "dashboard"})
	return items
}

// packageAssets is the item's assets map: service → asset type → names.
func packageAssets(name, version string) map[string]any {
	es, kb := map[string]any{}, map[string]any{}
	var streams []string
	if p := registryFind(name, version); p != nil {
		streams = p.DataStreams
	}
	for _, a := range assetsOf(name, version, streams) {
		m := a.(map[string]any)
		typ := m["type"].(string)
		target := es
		if typ == "dashboard" {
			target = kb
		}
		list, _ := target[typ].([]any)
		target[typ] = append(list, m["id"])
	}
	return map[string]any{"elasticsearch": es, "kibana": kb}
}

// compareVersions compares dotted numeric versions (semver without build
// metadata; a pre-release sorts before its release).
func compareVersions(a, b string) int {
	ca, pa, _ := strings.Cut(a, "-")
	cb, pb, _ := strings.Cut(b, "-")
	// Field by field without splitting: the version checks run for every
	// object of every list answer, and a split allocates.
	for ca != "" || cb != "" {
		var fa, fb string
		fa, ca, _ = strings.Cut(ca, ".")
		fb, cb, _ = strings.Cut(cb, ".")
		x, _ := strconv.Atoi(fa)
		y, _ := strconv.Atoi(fb)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	switch {
	case pa == pb:
		return 0
	case pa == "":
		return 1
	case pb == "":
		return -1
	}
	return strings.Compare(pa, pb)
}

func versionAtLeast(v, min string) bool { return compareVersions(v, min) >= 0 }
