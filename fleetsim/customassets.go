package fleetsim

import (
	"encoding/json"
	"regexp"
	"slices"
	"time"
)

// Custom-asset sync (fleet-api.md §5.3 custom assets, §5.4 step 6, §5.5),
// after Kibana's FLEET/server/tasks/sync_integrations/custom_assets.ts. This
// file holds the leader doc's custom-asset types and their collection on
// the main side; customassets_sync.go applies them on the remote side,
// customassets_status.go compares them for the status API, and
// customassets_es.go is Kibana's calls to its own Elasticsearch.

const (
	assetComponentTemplate = "component_template"
	assetIngestPipeline    = "ingest_pipeline"

	// customAssetsPattern is CUSTOM_ASSETS_PREFIX.
	customAssetsPattern = "*@custom"
	// deletedAssetTTL is how long a vanished asset stays in the doc as is_deleted.
	deletedAssetTTL = 7 * 24 * time.Hour
	// maxTransientRetries is MAX_ATTEMPTS of Fleet's retryTransientEsErrors.
	maxTransientRetries = 5
)

// customAsset is one custom_assets entry of the leader doc (model.ts CustomAssetsData).
type customAsset struct {
	Type           string          `json:"type"`
	Name           string          `json:"name"`
	PackageName    string          `json:"package_name"`
	PackageVersion string          `json:"package_version"`
	IsDeleted      bool            `json:"is_deleted"`
	DeletedAt      string          `json:"deleted_at,omitempty"`
	Template       json.RawMessage `json:"template,omitempty"`
	Pipeline       json.RawMessage `json:"pipeline,omitempty"`
}

func (a *customAsset) key() string { return a.Type + ":" + a.Name }

// customAssetsError is custom_assets_error of the leader doc.
type customAssetsError struct {
	Timestamp string `json:"timestamp"`
	Error     string `json:"error"`
}

// customAssetFailure is one entry of epm-packages.latest_custom_asset_install_failed_attempts.
type customAssetFailure struct {
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	Error     jsErrorDetails `json:"error"`
	CreatedAt time.Time      `json:"created_at"`
}

type jsErrorDetails struct {
	Name    string `json:"name"`
	Message string `json:"message"`
	Stack   string `json:"stack"`
}

// customAssetName is findIntegration's regexp.
var customAssetName = regexp.MustCompile(`^(\w*)?(?:\-)?(\w*)(?:\-)?(?:\.)?(?:\w*)?@custom$`)

// findIntegration maps an asset name to the first integration it belongs to:
// logs|metrics|traces-<pkg>…@custom → <pkg>, otherwise the first segment.
func findIntegration(name string, integrations []syncedPackage) (syncedPackage, bool) {
	m := customAssetName.FindStringSubmatch(name)
	if m == nil {
		return syncedPackage{}, false
	}
	dataType := slices.Contains([]string{"logs", "metrics", "traces"}, m[1])
	for _, p := range integrations {
		if dataType && m[2] == p.PackageName || !dataType && m[1] == p.PackageName {
			return p, true
		}
	}
	return syncedPackage{}, false
}

// collectCustomAssets is getCustomAssets: the *@custom component templates
// and ingest pipelines of known integrations, the pipelines package-policy
// streams name in a `pipeline` var, and the vanished assets of prev kept as
// deleted for deletedAssetTTL. The result is keyed <type>:<name>; as lodash
// keyBy, a later entry wins (so a kept deleted entry wins over a re-created
// asset until its TTL ends, as in Kibana). Callers hold c.mu.
func (c *Cluster) collectCustomAssets(integrations []syncedPackage, prev *syncDoc, now time.Time) (map[string]*customAsset, error) {
	var updated []*customAsset
	templates, cerr := c.esComponentTemplates(customAssetsPattern)
	if cerr != nil {
		return nil, cerr
	}
	list, ok := templates["component_templates"].([]any)
	if !ok {
		return nil, &esClientError{name: "TypeError", message: "Cannot read properties of undefined (reading 'reduce')"}
	}
	for _, item := range list {
		name, _ := get(item, "name").(string)
		p, ok := findIntegration(name, integrations)
		if !ok {
			continue
		}
		tmpl, _ := json.Marshal(get(item, "component_template", "template"))
		updated = append(updated, &customAsset{Type: assetComponentTemplate, Name: name, PackageName: p.PackageName,
			PackageVersion: p.PackageVersion, Template: tmpl})
	}
	pipelines, cerr := c.esPipelines(customAssetsPattern)
	if cerr != nil {
		return nil, cerr
	}
	for _, name := range sortedKeys(pipelines) {
		p, ok := findIntegration(name, integrations)
		if !ok {
			continue
		}
		body, _ := json.Marshal(pipelines[name])
		updated = append(updated, &customAsset{Type: assetIngestPipeline, Name: name, PackageName: p.PackageName,
			PackageVersion: p.PackageVersion, Pipeline: body})
	}
	fromVars, err := c.pipelinesFromVars()
	if err != nil {
		return nil, err
	}
	updated = append(updated, fromVars...)

	out := make(map[string]*customAsset, len(updated))
	for _, a := range updated {
		out[a.key()] = a
	}
	for _, a := range keptDeletedAssets(prev, updated, now) {
		out[a.key()] = a
	}
	return out, nil
}

// pipelinesFromVars is getPipelinesFromVars: every package policy (all
// spaces), every stream whose vars.pipeline.value is set and names an
// existing pipeline.
func (c *Cluster) pipelinesFromVars() ([]*customAsset, error) {
	ids := sortedKeys(c.st.PackagePolicies)
	slices.SortStableFunc(ids, func(a, b string) int {
		return c.st.PackagePolicies[a].CreatedAt.Compare(c.st.PackagePolicies[b].CreatedAt)
	})
	var out []*customAsset
	for _, id := range ids {
		pp := c.st.PackagePolicies[id]
		for _, name := range pp.streamPipelines() {
			found, err := c.esPipelines(name)
			if err != nil {
				return nil, err
			}
			def, ok := found[name]
			if !ok {
				continue
			}
			body, _ := json.Marshal(def)
			out = append(out, &customAsset{Type: assetIngestPipeline, Name: name, PackageName: pp.PackageName,
				PackageVersion: pp.PackageVer, Pipeline: body})
		}
	}
	return out, nil
}

// streamPipelines lists the truthy vars.pipeline.value of the policy's streams, in order.
func (pp *packagePolicy) streamPipelines() []string {
	var out []string
	for _, in := range pp.Inputs {
		streams, _ := in["streams"].([]any)
		for _, s := range streams {
			if v, ok := get(s, "vars", "pipeline", "value").(string); ok && v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// keptDeletedAssets is updateDeletedAssets: previous deleted entries younger
// than the TTL stay; previous live entries that vanished become deleted now.
func keptDeletedAssets(prev *syncDoc, updated []*customAsset, now time.Time) []*customAsset {
	if prev == nil {
		return nil
	}
	var out []*customAsset
	for _, k := range sortedKeys(prev.CustomAssets) {
		old := prev.CustomAssets[k]
		if old == nil {
			continue
		}
		if old.IsDeleted {
			at, err := time.Parse(time.RFC3339Nano, old.DeletedAt)
			if old.DeletedAt != "" && err == nil && now.Sub(at) < deletedAssetTTL {
				out = append(out, old)
			}
			continue
		}
		if slices.ContainsFunc(updated, func(a *customAsset) bool { return a.Name == old.Name && a.Type == old.Type }) {
			continue
		}
		gone := *old
		gone.IsDeleted = true
		gone.DeletedAt = now.UTC().Format("2006-01-02T15:04:05.000Z")
		out = append(out, &gone)
	}
	return out
}
