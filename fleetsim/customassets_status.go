package fleetsim

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
)

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
