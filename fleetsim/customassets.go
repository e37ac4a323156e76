package fleetsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// Custom-asset sync (fleet-api.md §5.3 custom assets, §5.4 step 6, §5.5),
// after Kibana's FLEET/server/tasks/sync_integrations/custom_assets.ts.
//
// Kibana talks to its Elasticsearch over HTTP; the simulator calls the node's
// Go methods instead, but every such call first consults the fault table for
// the cluster's "es" listener (simhttp.Recorder.Pick), so a fault injected on
// e.g. GET /_component_template/** breaks Kibana's sync exactly where a real
// failing Elasticsearch would. Those internal calls are not in the request log.

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

// esClientError is what the Elasticsearch JS client throws: a ResponseError
// for an error status, a ConnectionError for a dropped connection, or the
// TypeError Kibana's own code hits on an unexpected body.
type esClientError struct {
	name    string // ResponseError | ConnectionError | TypeError
	message string
	status  int // ResponseError only
}

func (e *esClientError) Error() string { return e.name + ": " + e.message }

// retryable is isRetryableError of Fleet's retryTransientEsErrors.
func (e *esClientError) retryable() bool {
	switch {
	case e.name == "ConnectionError":
		return true
	case e.name == "ResponseError":
		return e.status == http.StatusServiceUnavailable || e.status == http.StatusRequestTimeout || e.status == http.StatusGone
	}
	return false
}

// responseError renders an ES error envelope as the JS client's ResponseError
// message: "<type>\n\tRoot causes:\n\t\t<type>: <reason>".
func responseError(status int, body []byte) *esClientError {
	var env struct {
		Error struct {
			Type      string `json:"type"`
			RootCause []struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"root_cause"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error.Type == "" {
		return &esClientError{name: "ResponseError", message: string(body), status: status}
	}
	msg := env.Error.Type
	if len(env.Error.RootCause) > 0 {
		causes := make([]string, len(env.Error.RootCause))
		for i, rc := range env.Error.RootCause {
			causes[i] = "\t\t" + rc.Type + ": " + rc.Reason
		}
		msg += "\n\tRoot causes:\n" + strings.Join(causes, "\n")
	}
	return &esClientError{name: "ResponseError", message: msg, status: status}
}

// fromESError converts an error of the node's Go API into the client's error.
func fromESError(err error) *esClientError {
	var e *esim.Error
	if errors.As(err, &e) {
		return responseError(e.Status, e.Body())
	}
	return &esClientError{name: "ResponseError", message: err.Error(), status: http.StatusInternalServerError}
}

// esFault is the fault, if any, that an injected rule puts on Kibana's
// request to its own Elasticsearch. A 404 comes back as (404, body) because
// Fleet's custom-asset reads pass ignore: [404]; other statuses and resets
// are errors. A delay-only fault does not stall the simulated task.
func (c *Cluster) esFault(method, path string, ignore404 bool) (status int, body []byte, err *esClientError) {
	f, hit := c.sim.rec.Pick(c.cfg.Name, "es", method, path)
	switch {
	case !hit:
		return 0, nil, nil
	case f.Reset:
		return 0, nil, &esClientError{name: "ConnectionError", message: "other side closed"}
	case f.Status == http.StatusNotFound && ignore404:
		return f.Status, esim.FaultBody(f.Status, method, path), nil
	case f.Status >= 400:
		return f.Status, nil, responseError(f.Status, esim.FaultBody(f.Status, method, path))
	}
	return 0, nil, nil
}

func componentTemplatePath(name string) string { return "/_component_template/" + name }
func pipelinePath(id string) string            { return "/_ingest/pipeline/" + id }

// esComponentTemplates is getComponentTemplate(name) with ignore: [404]: the
// response body decoded as the JS code sees it.
func (c *Cluster) esComponentTemplates(name string) (map[string]any, *esClientError) {
	if st, body, err := c.esFault(http.MethodGet, componentTemplatePath(name), true); err != nil {
		return nil, err
	} else if st != 0 {
		return decodeObject(body), nil
	}
	list, err := c.node.ComponentTemplates(name)
	if err != nil {
		var e *esim.Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			return decodeObject(e.Body()), nil // ignored 404: the error envelope is the body
		}
		return nil, fromESError(err)
	}
	items := make([]any, 0, len(list))
	for _, t := range list {
		items = append(items, map[string]any{"name": t.Name, "component_template": decodeAny(t.Body)})
	}
	return map[string]any{"component_templates": items}, nil
}

// esPipelines is getPipeline(id) with ignore: [404].
func (c *Cluster) esPipelines(id string) (map[string]any, *esClientError) {
	if st, body, err := c.esFault(http.MethodGet, pipelinePath(id), true); err != nil {
		return nil, err
	} else if st != 0 {
		return decodeObject(body), nil
	}
	out := map[string]any{}
	for k, v := range c.node.Pipelines(id) {
		out[k] = decodeAny(v)
	}
	return out, nil
}

// esWrite runs one write under retryTransientEsErrors: a transient failure
// (503, 408, 410, dropped connection) is retried up to five times. The
// simulator does not sleep the 2s…32s backoff between attempts.
func (c *Cluster) esWrite(method, path string, do func() error) *esClientError {
	var last *esClientError
	for attempt := 0; attempt <= maxTransientRetries; attempt++ {
		if _, _, err := c.esFault(method, path, false); err != nil {
			last = err
		} else if err := do(); err != nil {
			last = fromESError(err)
		} else {
			return nil
		}
		if !last.retryable() {
			return last
		}
		c.sim.log.Warn("retrying elasticsearch operation", "cluster", c.cfg.Name, "method", method, "path", path, "err", last)
	}
	return last
}

func decodeAny(raw []byte) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

func decodeObject(raw []byte) map[string]any {
	m, _ := decodeAny(raw).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
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

// syncCustomAssets is step 6 of the remote side: clear the recorded failures
// of every package with custom assets, then apply each asset in document
// order and record what fails. A package that has no epm-packages object
// here makes the clear fail, which ends the run (soClient.update throws).
// Callers hold c.mu.
func (c *Cluster) syncCustomAssets(assets map[string]*customAsset, now time.Time) error {
	keys := sortedKeys(assets)
	var pkgs []string
	for _, k := range keys {
		if a := assets[k]; a != nil && !slices.Contains(pkgs, a.PackageName) {
			pkgs = append(pkgs, a.PackageName)
		}
	}
	for _, name := range pkgs {
		inst := c.st.Packages[name]
		if inst == nil {
			return fmt.Errorf("Saved object [epm-packages/%s] not found", name)
		}
		inst.CustomAssetFailed = map[string]customAssetFailure{}
		inst.UpdatedAt = now
	}
	log := c.sim.log.With("cluster", c.cfg.Name)
	for _, k := range keys {
		a := assets[k]
		if a == nil {
			continue
		}
		var err *esClientError
		switch a.Type {
		case assetComponentTemplate:
			err = c.applyComponentTemplate(a)
		case assetIngestPipeline:
			err = c.applyPipeline(a)
		}
		if err == nil {
			continue
		}
		log.Error("custom asset install failed", "type", a.Type, "name", a.Name, "err", err)
		inst := c.st.Packages[a.PackageName]
		if inst == nil {
			log.Warn("cannot record custom asset failure", "package", a.PackageName)
			continue
		}
		if inst.CustomAssetFailed == nil {
			inst.CustomAssetFailed = map[string]customAssetFailure{}
		}
		inst.CustomAssetFailed[a.key()] = customAssetFailure{Type: a.Type, Name: a.Name, CreatedAt: now,
			Error: jsErrorDetails{Name: err.name, Message: err.message, Stack: err.name + ": " + err.message}}
		inst.UpdatedAt = now
	}
	return nil
}

// applyComponentTemplate is updateComponentTemplate.
func (c *Cluster) applyComponentTemplate(a *customAsset) *esClientError {
	got, err := c.esComponentTemplates(a.Name)
	if err != nil {
		return err
	}
	var existing map[string]any
	items, _ := got["component_templates"].([]any)
	for _, it := range items {
		if get(it, "name") == a.Name {
			existing, _ = it.(map[string]any)
			break
		}
	}
	path := componentTemplatePath(a.Name)
	if a.IsDeleted {
		if existing == nil {
			return nil
		}
		return c.esWrite(http.MethodDelete, path, func() error { return c.node.DeleteComponentTemplate(a.Name) })
	}
	want := decodeAny(a.Template)
	if existing != nil && reflect.DeepEqual(get(existing, "component_template", "template"), want) {
		return nil
	}
	body, _ := json.Marshal(map[string]any{"template": want})
	return c.esWrite(http.MethodPut, path, func() error { return c.node.PutComponentTemplate(a.Name, body, false) })
}

// applyPipeline is updateIngestPipeline.
func (c *Cluster) applyPipeline(a *customAsset) *esClientError {
	got, err := c.esPipelines(a.Name)
	if err != nil {
		return err
	}
	existing, _ := got[a.Name].(map[string]any)
	path := pipelinePath(a.Name)
	if a.IsDeleted {
		if existing == nil {
			return nil
		}
		return c.esWrite(http.MethodDelete, path, func() error { return c.node.DeletePipeline(a.Name) })
	}
	want, _ := decodeAny(a.Pipeline).(map[string]any)
	if existing != nil && !pipelineNeedsUpdate(existing, want) {
		return nil
	}
	return c.esWrite(http.MethodPut, path, func() error { return c.node.PutPipeline(a.Name, a.Pipeline) })
}

// pipelineNeedsUpdate is Kibana's test on an existing pipeline, with
// JavaScript truthiness: a non-zero version older than the new one, or no
// (or zero) version and a body that is not deep-equal. A versioned pipeline
// with any other body is left alone.
func pipelineNeedsUpdate(existing, want map[string]any) bool {
	have, _ := existing["version"].(float64)
	if have != 0 {
		next, ok := want["version"].(float64)
		return ok && have < next
	}
	return !reflect.DeepEqual(existing, want)
}

// customAssetsStatus is fetchAndCompareCustomAssets of the status API.
// Callers hold c.mu.
func (c *Cluster) customAssetsStatus(assets map[string]*customAsset) map[string]any {
	pipelines, err := c.esPipelines(customAssetsPattern)
	if err != nil {
		return map[string]any{"error": err.message}
	}
	for _, k := range sortedKeys(assets) {
		a := assets[k]
		if a == nil || a.Type != assetIngestPipeline || strings.Contains(a.Name, "@custom") {
			continue
		}
		found, err := c.esPipelines(a.Name)
		if err != nil {
			return map[string]any{"error": err.message}
		}
		if def, ok := found[a.Name]; ok {
			pipelines[a.Name] = def
		}
	}
	templates, err := c.esComponentTemplates(customAssetsPattern)
	if err != nil {
		return map[string]any{"error": err.message}
	}
	var byName map[string]any // nil when the body has no component_templates
	if items, ok := templates["component_templates"].([]any); ok {
		byName = map[string]any{}
		for _, it := range items {
			if name, _ := get(it, "name").(string); name != "" {
				byName[name] = get(it, "component_template", "template")
			}
		}
	}
	out := make(map[string]any, len(assets))
	for k, a := range assets {
		if a == nil {
			continue
		}
		out[k] = c.compareCustomAsset(a, pipelines, byName)
	}
	return out
}

// compareCustomAsset is compareCustomAssets: one asset's sync status.
func (c *Cluster) compareCustomAsset(a *customAsset, pipelines, templates map[string]any) map[string]any {
	item := map[string]any{"name": a.Name, "type": a.Type, "package_name": a.PackageName, "package_version": a.PackageVersion}
	var failure *customAssetFailure
	if inst := c.st.Packages[a.PackageName]; inst != nil {
		if f, ok := inst.CustomAssetFailed[a.key()]; ok {
			failure = &f
		}
	}
	failedOr := func(status string) map[string]any {
		if failure != nil {
			item["sync_status"] = "failed"
			item["error"] = customAssetFailureMessage(a, failure)
		} else {
			item["sync_status"] = status
		}
		return item
	}
	var installed any
	var want any
	switch a.Type {
	case assetIngestPipeline:
		installed, want = pipelines[a.Name], decodeAny(a.Pipeline)
	case assetComponentTemplate:
		installed, want = templates[a.Name], decodeAny(a.Template)
	default:
		return map[string]any{}
	}
	switch {
	case installed == nil && a.IsDeleted:
		item["is_deleted"] = true
		item["sync_status"] = "completed"
		return item
	case installed == nil:
		return failedOr("synchronizing")
	case a.IsDeleted:
		item["is_deleted"] = true
		return failedOr("synchronizing")
	}
	if a.Type == assetIngestPipeline {
		have, _ := get(installed, "version").(float64)
		next, hasNext := get(want, "version").(float64)
		if have != 0 && hasNext && have < next {
			return failedOr("synchronizing")
		}
	}
	if reflect.DeepEqual(installed, want) {
		item["sync_status"] = "completed"
		return item
	}
	return failedOr("synchronizing")
}

// customAssetFailureMessage is latestFailedErrorMessage:
// "Failed to update <type with spaces> <name> - reason: <msg> at <UTC date>".
func customAssetFailureMessage(a *customAsset, f *customAssetFailure) string {
	reason, at := "", ""
	if f.Error.Message != "" {
		reason = "- reason: " + f.Error.Message
	}
	if !f.CreatedAt.IsZero() {
		at = "at " + f.CreatedAt.UTC().Format(http.TimeFormat)
	}
	return fmt.Sprintf("Failed to update %s %s %s %s", strings.ReplaceAll(a.Type, "_", " "), a.Name, reason, at)
}

// get walks a decoded JSON value by object keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// jsMessage is error.message of what Kibana caught.
func jsMessage(err error) string {
	var e *esClientError
	if errors.As(err, &e) {
		return e.message
	}
	return err.Error()
}
