package fleetsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"time"
)

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
