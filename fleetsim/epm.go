package fleetsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
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

var (
	installedPackagesQuery = tObject{fields: []field{
		{name: "dataStreamType", t: tEnum{"logs", "metrics", "traces", "synthetics", "profiling"}},
		{name: "showOnlyActiveDataStreams", t: tBool{}},
		{name: "nameQuery", t: tString{}},
		{name: "searchAfter", t: tArray{elem: tAny{}}},
		{name: "perPage", t: tNumber{}, def: 15.0},
		{name: "sortOrder", t: tEnum{"asc", "desc"}, def: "asc"},
	}}
	// GetPackagesRequestSchema (types/rest_spec/epm.ts).
	listPackagesQuery = tObject{fields: []field{
		{name: "category", t: tString{}},
		{name: "prerelease", t: tBool{}},
		{name: "excludeInstallStatus", t: tBool{}, def: false},
		{name: "withPackagePoliciesCount", t: tBool{}, def: false},
	}}
	// GetInfoQuerySchema.
	packageInfoQuery = tObject{fields: []field{
		{name: "ignoreUnverified", t: tBool{}},
		{name: "prerelease", t: tBool{}},
		{name: "full", t: tBool{}},
		{name: "withMetadata", t: tBool{}, def: false},
	}}
	installPackageQuery = tObject{fields: []field{
		{name: "prerelease", t: tBool{}},
		{name: "ignoreMappingUpdateErrors", t: tBool{}, def: false},
		{name: "skipDataStreamRollover", t: tBool{}, def: false},
		{name: "skipDependencyCheck", t: tBool{}, def: false},
	}}
	uninstallPackageQuery = tObject{fields: []field{{name: "force", t: tBool{}}}}
	installPackageSchema  = tNullable{inner: tObject{fields: []field{
		{name: "force", t: tBool{}, def: false},
		{name: "ignore_constraints", t: tBool{}, def: false},
	}}}
	// BulkInstallPackagesFromRegistryRequestSchema (types/rest_spec/epm.ts).
	bulkInstallQuery  = tObject{fields: []field{{name: "prerelease", t: tBool{}}}}
	bulkInstallSchema = tObject{fields: []field{
		{name: "packages", t: tArray{elem: tOneOf{tString{}, tObject{fields: []field{
			{name: "name", t: tString{}, required: true},
			{name: "version", t: tString{}, required: true},
			{name: "prerelease", t: tBool{}},
		}}}, min: 1, max: 1000}, required: true},
		{name: "force", t: tBool{}, def: false},
	}}
	serviceTokenSchema = tNullable{inner: tObject{fields: []field{{name: "remote", t: tBool{}}}}}
)

func (c *Cluster) listInstalledPackages(r *kreq) *kresp {
	q := r.query
	perPage := int(q["perPage"].(float64))
	desc := q["sortOrder"] == "desc"
	nameQuery, _ := q["nameQuery"].(string)
	dsType, _ := q["dataStreamType"].(string)
	var after string
	if sa, ok := q["searchAfter"].([]any); ok && len(sa) > 0 {
		after, _ = sa[0].(string)
		if strings.HasPrefix(after, "[") {
			var arr []any
			if json.Unmarshal([]byte(after), &arr) == nil && len(arr) > 0 {
				after, _ = arr[0].(string)
			}
		}
	}
	var names []string
	for name, inst := range c.st.Packages {
		if inst.Status != "installed" || !hasIndexTemplates(inst) {
			continue
		}
		if nameQuery != "" && !strings.Contains(name, nameQuery) {
			continue
		}
		if dsType != "" && !slices.ContainsFunc(streamsOf(inst), func(s string) bool { return strings.HasPrefix(s, dsType+"-") }) {
			continue
		}
		names = append(names, name)
	}
	slices.Sort(names)
	if desc {
		slices.Reverse(names)
	}
	total := len(names)
	if after != "" {
		i := slices.IndexFunc(names, func(n string) bool {
			if desc {
				return n < after
			}
			return n > after
		})
		if i < 0 {
			names = nil
		} else {
			names = names[i:]
		}
	}
	if perPage >= 0 && len(names) > perPage {
		names = names[:perPage]
	}
	items := make([]any, 0, len(names))
	for _, n := range names {
		inst := c.st.Packages[n]
		var ds []any
		for _, s := range streamsOf(inst) {
			ds = append(ds, map[string]any{"name": s + "-*", "title": s})
		}
		if ds == nil {
			ds = []any{}
		}
		items = append(items, map[string]any{"name": n, "version": inst.Version, "status": inst.Status,
			"title": registryTitle(n), "description": registryTitle(n) + " integration", "dataStreams": ds})
	}
	resp := map[string]any{"items": items, "total": total}
	if len(names) > 0 {
		resp["searchAfter"] = []any{names[len(names)-1]}
	}
	return ok(resp)
}

func streamsOf(inst *installation) []string {
	if p := registryFind(inst.Name, inst.Version); p != nil {
		return p.DataStreams
	}
	if hasIndexTemplates(inst) {
		return []string{"logs-" + inst.Name + ".log"}
	}
	return nil
}

func (c *Cluster) packageItem(name string) map[string]any {
	latest := registryLatest(name)
	inst := c.st.Packages[name]
	item := map[string]any{"name": name, "title": registryTitle(name), "type": "integration", "status": "not_installed"}
	if latest != nil {
		item["version"] = latest.Version
		item["id"] = name
	}
	if inst != nil {
		item["status"] = inst.Status
		if latest == nil {
			item["version"] = inst.Version
			item["id"] = name
		}
		item["installationInfo"] = map[string]any{
			"name": name, "version": inst.Version, "install_status": inst.Status, "install_source": inst.Source,
			"type": "epm-packages", "updated_at": inst.UpdatedAt.Format(time.RFC3339Nano),
			"installed_es": []any{}, "installed_kibana": []any{}, "es_index_patterns": map[string]any{},
			"verification_status": "unknown",
		}
	}
	return item
}

func (c *Cluster) listPackages(_ *kreq) *kresp {
	seen := map[string]bool{}
	var names []string
	for _, p := range registry {
		if !seen[p.Name] {
			seen[p.Name] = true
			names = append(names, p.Name)
		}
	}
	for n := range c.st.Packages {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	slices.Sort(names)
	items := make([]any, 0, len(names))
	for _, n := range names {
		items = append(items, c.packageItem(n))
	}
	return ok(map[string]any{"items": items})
}

func packageNotFound(name, version string) *kresp {
	if version == "" {
		return kerr(http.StatusNotFound, "[%s] package not found in registry", name)
	}
	return kerr(http.StatusNotFound, "[%s-%s] package not found in registry", name, version)
}

func (c *Cluster) getPackage(r *kreq) *kresp {
	name, version := r.params["pkgName"], r.params["pkgVersion"]
	inst := c.st.Packages[name]
	if version != "" && registryFind(name, version) == nil && (inst == nil || inst.Version != version) {
		return packageNotFound(name, version)
	}
	if version == "" && registryLatest(name) == nil && inst == nil {
		return packageNotFound(name, "")
	}
	item := c.packageItem(name)
	if version != "" {
		item["version"] = version
	}
	item["assets"] = packageAssets(name, cmpOr(version, fmt.Sprint(item["version"])))
	hasPolicies := false
	for _, pp := range c.st.PackagePolicies {
		if pp.PackageName == name {
			hasPolicies = true
		}
	}
	return ok(map[string]any{"item": item, "metadata": map[string]any{"has_policies": hasPolicies}})
}

// outOfDateMessage is PackageOutdatedError's text: `${pkgkey} is out-of-date
// and cannot be installed or updated`, where pkgkey is the requested key
// (name-version; a request without a version installs the latest, which is
// never out of date).
func outOfDateMessage(name, requested, resolved string) string {
	return name + "-" + cmpOr(requested, resolved) + " is out-of-date and cannot be installed or updated"
}

// installError is what installPackage reports; name is the Fleet error class.
type installError struct {
	status  int
	name    string
	message string
}

// install is installPackage from the registry.
func (c *Cluster) install(name, version string, force bool) ([]any, *installError) {
	var p *registryPackage
	if version == "" {
		p = registryLatest(name)
	} else {
		p = registryFind(name, version)
	}
	if p == nil {
		msg := "[" + name + "] package not found in registry"
		if version != "" {
			msg = "[" + name + "-" + version + "] package not found in registry"
		}
		return nil, &installError{status: http.StatusNotFound, name: "PackageNotFoundError", message: msg}
	}
	assets := assetsOf(p.Name, p.Version, p.DataStreams)
	inst := c.st.Packages[name]
	// installPackageFromRegistry (services/epm/packages/install.ts): a version
	// below the registry's latest is refused unless force, or unless the
	// install type (getInstallType) is reinstall (the installed version again).
	// fleetsim records no install_version, so reupdate and rollback, which
	// need an interrupted install, cannot arise.
	reinstall := inst != nil && inst.Version == p.Version
	if latest := registryLatest(name); compareVersions(p.Version, latest.Version) < 0 && !force && !reinstall {
		return nil, &installError{status: http.StatusBadRequest, name: "PackageOutdatedError", message: outOfDateMessage(p.Name, version, p.Version)}
	}
	// installPackageWithStateMachine: the installed version again without
	// force is "already_installed", the existing assets are returned.
	if reinstall && inst.Status == "installed" && !force {
		return assets, nil
	}
	now := c.now()
	c.st.Packages[name] = &installation{Name: name, Version: p.Version, Status: "installed", Source: "registry", UpdatedAt: now}
	return assets, nil
}

func (c *Cluster) installPackage(r *kreq) *kresp {
	name, version := r.params["pkgName"], r.params["pkgVersion"]
	force := false
	if r.body != nil {
		force, _ = r.body["force"].(bool)
	}
	assets, ierr := c.install(name, version, force)
	if ierr != nil {
		return kerr(ierr.status, "%s", ierr.message)
	}
	return ok(map[string]any{"items": assets, "_meta": map[string]any{"install_source": "registry", "name": name}})
}

// bulkInstallPackages is POST /epm/packages/_bulk: every package installed as
// the single install would, each failure reported in its item
// (bulkInstallServiceResponseToHttpEntry: {name, statusCode, error: message}).
func (c *Cluster) bulkInstallPackages(r *kreq) *kresp {
	force, _ := r.body["force"].(bool)
	items := []any{}
	for _, spec := range r.body["packages"].([]any) {
		name, version := "", ""
		switch p := spec.(type) {
		case string:
			name = p
		case map[string]any:
			name, _ = p["name"].(string)
			version, _ = p["version"].(string)
		}
		before := c.st.Packages[name]
		installType := "install"
		if before != nil {
			installType = "update"
		}
		resolved := version
		if resolved == "" {
			if latest := registryLatest(name); latest != nil {
				resolved = latest.Version
			}
		}
		status := "installed"
		if before != nil && before.Version == resolved {
			installType = "reinstall"
			if before.Status == "installed" && !force {
				status = "already_installed"
			}
		}
		assets, ierr := c.install(name, version, force)
		if ierr != nil {
			items = append(items, map[string]any{"name": name, "statusCode": ierr.status, "error": ierr.message})
			continue
		}
		items = append(items, map[string]any{"name": name, "version": c.st.Packages[name].Version,
			"result": map[string]any{"assets": assets, "status": status, "installType": installType, "installSource": "registry"}})
	}
	return ok(map[string]any{"items": items})
}

// remove is removeInstallation.
func (c *Cluster) remove(name string, force bool) ([]any, *installError) {
	inst := c.st.Packages[name]
	if inst == nil || inst.Status != "installed" {
		return nil, &installError{status: http.StatusBadRequest, name: "PackageRemovalError", message: name + " is not installed"}
	}
	var pps []*packagePolicy
	inUse := false
	for _, id := range sortedKeys(c.st.PackagePolicies) {
		pp := c.st.PackagePolicies[id]
		if pp.PackageName == name {
			pps = append(pps, pp)
			inUse = inUse || pp.Agents > 0
		}
	}
	now := c.now()
	if inUse && !force {
		msg := "Unable to remove package with existing package policy(s) in use by agent(s)"
		if versionAtLeast(c.cfg.Version, "9.3.0") {
			msg = "Unable to remove package " + name + ":" + inst.Version + " with existing package policy(s) in use by agent(s)"
			inst.FailedRemove = append([]failedAttempt{{CreatedAt: now, Target: inst.Version, ErrName: "PackageRemovalError", ErrMsg: msg}}, inst.FailedRemove...)
			if len(inst.FailedRemove) > 5 {
				inst.FailedRemove = inst.FailedRemove[:5]
			}
		}
		return nil, &installError{status: http.StatusBadRequest, name: "PackageRemovalError", message: msg}
	}
	for _, pp := range pps {
		c.deletePackagePolicy(pp, now)
	}
	var streams []string
	if p := registryFind(inst.Name, inst.Version); p != nil {
		streams = p.DataStreams
	}
	delete(c.st.Packages, name)
	return assetsOf(inst.Name, inst.Version, streams), nil
}

func (c *Cluster) deletePackagePolicy(pp *packagePolicy, now time.Time) {
	delete(c.st.PackagePolicies, pp.ID)
	for _, pid := range pp.PolicyIDs {
		if p := c.st.AgentPolicies[pid]; p != nil {
			c.bumpPolicy(p, now)
		}
	}
}

func (c *Cluster) uninstallPackage(r *kreq) *kresp {
	force, _ := r.query["force"].(bool)
	assets, ierr := c.remove(r.params["pkgName"], force)
	if ierr != nil {
		return kerr(ierr.status, "%s", ierr.message)
	}
	return ok(map[string]any{"items": assets})
}

func (c *Cluster) createServiceToken(r *kreq) *kresp {
	remote := false
	if r.body != nil {
		remote, _ = r.body["remote"].(bool)
	}
	service := "fleet-server"
	if remote {
		service = "fleet-server-remote"
	}
	name := "token-" + strconv.FormatInt(c.now().UnixMilli(), 10)
	for i := 1; slices.Contains(c.node.ServiceTokenNames("elastic", service), name); i++ {
		name = "token-" + strconv.FormatInt(c.now().UnixMilli()+int64(i), 10)
	}
	tok, err := c.node.CreateServiceToken("elastic", service, name)
	if err != nil {
		return kerr(http.StatusInternalServerError, "%s", err.Error())
	}
	return ok(map[string]any{"name": tok.Name, "value": tok.Value})
}

// setup is POST /api/fleet/setup: ensure the default output and clean
// preconfigured outputs that kibana.yml (the seed) no longer declares.
func (c *Cluster) setup(_ *kreq) *kresp {
	now := c.now()
	declared := c.sim.preconfiguredIDs(c.cfg.Name)
	var nonFatal []any
	for _, raw := range c.sim.preconfiguredOutputs(c.cfg.Name) {
		if _, err := c.ensurePreconfiguredOutput(raw, now); err != nil {
			nonFatal = append(nonFatal, map[string]any{"message": err.Error()})
		}
	}
	if err := c.ensurePreconfiguredDownloadSources(c.sim.preconfiguredDownloadSources(c.cfg.Name), now); err != nil {
		nonFatal = append(nonFatal, map[string]any{"message": err.Error()})
	}
	for _, soID := range sortedKeys(c.st.Outputs) {
		o := c.st.Outputs[soID]
		if !o.flag("is_preconfigured") || slices.Contains(declared, o.id()) {
			continue
		}
		if o.flag("is_default") || o.flag("is_default_monitoring") {
			o.Attrs["is_preconfigured"] = false
			c.st.putOutput(o, now)
			continue
		}
		for _, p := range c.st.AgentPolicies {
			changed := false
			for _, k := range []string{"data_output_id", "monitoring_output_id"} {
				if p.Attrs[k] == o.id() {
					p.Attrs[k] = nil
					changed = true
				}
			}
			if changed {
				c.bumpPolicy(p, now)
			}
		}
		delete(c.st.Outputs, soID)
	}
	if c.st.defaultOutput(false) == nil {
		o := &output{SOID: outputIDToUUID(defaultOutputID), Attrs: map[string]any{
			"output_id": defaultOutputID, "name": "default", "type": typeES, "is_default": true,
			"is_default_monitoring": c.st.defaultOutput(true) == nil, "hosts": []any{normalizeHost(c.ESURL())},
		}}
		if c.hasPresets() {
			o.Attrs["preset"] = "balanced"
		}
		if c.st.Outputs[o.SOID] == nil {
			c.st.putOutput(o, now)
		}
	}
	if nonFatal == nil {
		nonFatal = []any{}
	}
	return ok(map[string]any{"isInitialized": true, "nonFatalErrors": nonFatal})
}

// compareVersions compares dotted numeric versions (semver without build
// metadata; a pre-release sorts before its release).
func compareVersions(a, b string) int {
	ca, pa, _ := strings.Cut(a, "-")
	cb, pb, _ := strings.Cut(b, "-")
	as, bs := strings.Split(ca, "."), strings.Split(cb, ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
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
