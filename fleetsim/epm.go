package fleetsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// EPM (package) routes: the request schemas of the package and
// service-token routes, and the package list and info answers. Installing
// and removing are in epm_install.go, the built-in registry in
// epm_registry.go.

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
	if m := manifestOf(name); m != nil {
		manifestDefinitions(item, m, r.query["full"] == true) // epm_info.go
	}
	hasPolicies := false
	for _, pp := range c.st.PackagePolicies {
		if pp.PackageName == name {
			hasPolicies = true
		}
	}
	return ok(map[string]any{"item": item, "metadata": map[string]any{"has_policies": hasPolicies}})
}
