package fleetsim

import (
	"bytes"
	"cmp"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Output types.
const (
	typeES       = "elasticsearch"
	typeRemoteES = "remote_elasticsearch"
	typeLogstash = "logstash"
	typeKafka    = "kafka"
)

func (c *Cluster) listOutputs(_ *kreq) *kresp {
	// Sorted by is_default desc (the PIT finder's sort), then creation order.
	type key struct {
		rank int64
		o    *output
	}
	keys := make([]key, 0, len(c.st.Outputs))
	for _, o := range c.st.Outputs {
		k := key{rank: o.Seq, o: o}
		if o.flag("is_default") {
			k.rank -= 1 << 62
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Compare(a.rank, b.rank) })
	outs := make([]*output, len(keys))
	for i, k := range keys {
		outs[i] = k.o
	}
	size := 64
	for _, o := range outs {
		size += len(o.json()) + 1
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Grow(size)
	buf.WriteString(`{"items":[`)
	for i, o := range outs {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(o.json())
	}
	fmt.Fprintf(buf, `],"total":%d,"page":1,"perPage":10000}`, len(outs))
	return pooledResponse(buf)
}

func (c *Cluster) getOutput(r *kreq) *kresp {
	o := c.st.outputByID(r.params["outputId"])
	if o == nil {
		return kerr(http.StatusNotFound, "Output %s not found", r.params["outputId"])
	}
	return ok(map[string]any{"item": o.view()})
}

// badRequest is a Boom 400 from a Fleet handler.
func badRequest(format string, args ...any) *kresp {
	return kerr(http.StatusBadRequest, format, args...)
}

func (c *Cluster) createOutput(r *kreq) *kresp {
	body := r.body
	typ := body["type"].(string)
	if resp := checkDuplicateSecrets(body); resp != nil {
		return resp
	}
	id, hasID := body["id"].(string)
	if hasID && !validFleetID(id) {
		return badRequest(`id is not valid: must be 1–255 characters and must not contain path separators ("/"), traversal sequences (".."), or reserved keys ("__proto__", "constructor", "prototype").`)
	}
	if resp := checkPreset(body); resp != nil {
		return resp
	}
	isDefault, _ := body["is_default"].(bool)
	isDefaultMon, _ := body["is_default_monitoring"].(bool)
	if typ == typeLogstash && isDefault && c.defaultPolicyUsesAPM() {
		return kerrType(http.StatusBadRequest, "OutputInvalidError", "Logstash output cannot be used with APM integration.")
	}
	soID := uuid.NewString()
	if hasID {
		soID = outputIDToUUID(id)
	}
	now := c.now()
	// Steps 8-9: pin policies, then flip the previous defaults (side effects
	// that survive a later failure, trap 7).
	if isDefault {
		prev := c.st.defaultOutput(false)
		if prev != nil && typ != typeES {
			c.pinPoliciesToOutput(prev.id(), "", true, now)
		}
		if prev != nil && prev.SOID != soID {
			if resp := c.unsetDefault(prev, "is_default", now); resp != nil {
				return resp
			}
		}
	}
	if isDefaultMon {
		if prev := c.st.defaultOutput(true); prev != nil && prev.SOID != soID {
			if resp := c.unsetDefault(prev, "is_default_monitoring", now); resp != nil {
				return resp
			}
		}
	}
	attrs := cloneMap(body)
	delete(attrs, "id")
	if hasID {
		attrs["output_id"] = id
	}
	if attrs["ssl"] == nil {
		delete(attrs, "ssl") // only a truthy ssl is stored
	}
	if typ == typeES || typ == typeRemoteES {
		attrs["hosts"] = normalizeHosts(attrs["hosts"])
	}
	if _, sent := attrs["shipper"]; sent && !shipperEnabled(attrs["config_yaml"]) {
		attrs["shipper"] = nil
	}
	if (typ == typeES || typ == typeRemoteES) && attrs["preset"] == nil && c.hasPresets() {
		attrs["preset"] = defaultPreset(attrs["config_yaml"])
	}
	if typ == typeKafka {
		applyKafkaDefaults(attrs)
		attrs["proxy_id"] = nil
	}
	if resp := c.checkSyncLicence(body); resp != nil {
		return resp
	}
	c.storeSecrets(attrs)
	if _, exists := c.st.Outputs[soID]; exists {
		return kerr(http.StatusConflict, "Saved object [ingest-outputs/%s] conflict", soID)
	}
	o := &output{SOID: soID, Attrs: attrs}
	c.st.putOutput(o, now)
	if o.flag("is_default") || o.flag("is_default_monitoring") {
		c.bumpAllPolicies(now)
	}
	return ok(map[string]any{"item": o.view()})
}

func (c *Cluster) updateOutput(r *kreq) *kresp {
	pathID := r.params["outputId"]
	o := c.st.outputByID(pathID)
	if o == nil {
		return kerr(http.StatusNotFound, "Output %s not found", pathID)
	}
	body := r.body
	if resp := checkDuplicateSecrets(body); resp != nil {
		return resp
	}
	if resp := checkEditable(o, body, pathID); resp != nil {
		return resp
	}
	if (o.flag("is_default") && body["is_default"] == false) || (o.flag("is_default_monitoring") && body["is_default_monitoring"] == false) {
		return badRequest("Default output %s cannot be set to is_default=false or is_default_monitoring=false manually. Make another output the default first.", pathID)
	}
	if resp := checkPreset(body); resp != nil {
		return resp
	}
	now := c.now()
	oldType := o.typ()
	newType, typeSent := body["type"].(string)
	mergedType := oldType
	if typeSent {
		mergedType = newType
	}
	typeChanged := typeSent && newType != oldType
	isDefault, defaultSent := body["is_default"].(bool)
	if typeChanged || (defaultSent && isDefault != o.flag("is_default")) {
		mergedDefault := o.flag("is_default")
		if defaultSent {
			mergedDefault = isDefault
		}
		if mergedType == typeLogstash || oldType == typeLogstash {
			for _, p := range c.policiesUsingOutput(o.id(), mergedDefault) {
				if c.policyHasPackage(p, "apm") {
					return kerrType(http.StatusBadRequest, "OutputInvalidError", "Logstash output cannot be used with APM integration.")
				}
			}
		}
		if typeChanged && oldType == typeES && mergedType != typeES {
			users := c.policiesUsingOutput(o.id(), mergedDefault)
			for _, kind := range []string{"Fleet Server", "Synthetics", "agentless"} {
				for _, p := range users {
					if restrictedKind(c, p) == kind {
						return kerrType(http.StatusBadRequest, "OutputInvalidError", "%s output cannot be used with %s integration in %s. Please create a new Elasticsearch output.", capitalize(mergedType), kind, p.str("name"))
					}
				}
			}
		}
		if mergedDefault && mergedType != typeES && !o.flag("is_default") {
			if prev := c.st.defaultOutput(false); prev != nil {
				c.pinPoliciesToOutput(prev.id(), o.id(), true, now)
			}
		}
	}
	update := cloneMap(body)
	if typeChanged {
		if newType == typeES && c.hasPresets() {
			update["preset"] = nil
		}
		if oldType == typeRemoteES {
			update["service_token"] = nil
			update["kibana_api_key"] = nil
		}
		if (oldType == typeES || oldType == typeRemoteES) && newType != typeES && newType != typeRemoteES {
			update["write_to_logs_streams"] = nil
		}
		if oldType == typeKafka {
			for _, k := range []string{"version", "key", "compression", "compression_level", "client_id", "auth_type", "connection_type", "username", "password", "sasl", "partition", "random", "round_robin", "hash", "topic", "headers", "timeout", "broker_timeout", "required_acks", "ssl"} {
				update[k] = nil
			}
		}
		if newType == typeLogstash || newType == typeKafka {
			update["ca_trusted_fingerprint"] = nil
			update["ca_sha256"] = nil
		}
		if newType == typeKafka {
			applyKafkaDefaults(update)
		}
	}
	if newType == typeKafka {
		for _, k := range []string{"password", "username", "sasl", "ssl"} {
			if v, _ := update[k]; v == nil || v == "" {
				update[k] = nil
			}
		}
	}
	if mergedType == typeKafka {
		update["proxy_id"] = nil
	}
	if isDefault && defaultSent {
		if prev := c.st.defaultOutput(false); prev != nil && prev.SOID != o.SOID {
			if resp := c.unsetDefault(prev, "is_default", now); resp != nil {
				return resp
			}
		}
	}
	if mon, _ := body["is_default_monitoring"].(bool); mon {
		if prev := c.st.defaultOutput(true); prev != nil && prev.SOID != o.SOID {
			if resp := c.unsetDefault(prev, "is_default_monitoring", now); resp != nil {
				return resp
			}
		}
	}
	if _, sent := update["hosts"]; sent && (mergedType == typeES || mergedType == typeRemoteES) {
		update["hosts"] = normalizeHosts(update["hosts"])
	}
	if newType == typeRemoteES {
		if s, _ := update["service_token"].(string); s == "" {
			update["service_token"] = nil
		}
		if s, _ := update["kibana_api_key"].(string); s == "" {
			update["kibana_api_key"] = nil
		}
	}
	if typeChanged && (newType == typeES || newType == typeRemoteES) && update["preset"] == nil && c.hasPresets() {
		cy, sent := update["config_yaml"]
		if !sent {
			cy = o.Attrs["config_yaml"]
		}
		update["preset"] = defaultPreset(cy)
	}
	// The shipper rule looks at the body's config_yaml only.
	if sh, sent := update["shipper"]; sent && sh != nil && !shipperEnabled(update["config_yaml"]) {
		update["shipper"] = nil
	}
	if resp := c.checkSyncLicence(body); resp != nil {
		return resp
	}
	// Secret diff (2.7): strings become new secrets, {id} keeps, absent deletes.
	var obsolete []string
	for _, sp := range secretPaths {
		old, hadOld := secretRefID(getPath(o.Attrs, sp.secret))
		nv, sent := getPathOK(update, sp.secret)
		switch {
		case !sent:
			if hadOld {
				obsolete = append(obsolete, old)
			}
		case isString(nv):
			if hadOld {
				obsolete = append(obsolete, old)
			}
		}
		if typeChanged && hadOld && sent && !isString(nv) && !pathAllowed(newType, sp.secret) {
			obsolete = append(obsolete, old)
		}
	}
	c.storeSecrets(update)
	for k, v := range update {
		o.Attrs[k] = v
	}
	c.st.putOutput(o, now)
	for _, id := range obsolete {
		c.node.DeleteFleetSecret(id)
	}
	if o.flag("is_default") || o.flag("is_default_monitoring") {
		c.bumpAllPolicies(now)
	} else {
		c.bumpPoliciesUsing(o.id(), now)
	}
	return ok(map[string]any{"item": o.view()})
}

func (c *Cluster) deleteOutput(r *kreq) *kresp {
	pathID := r.params["outputId"]
	o := c.st.outputByID(pathID)
	if o == nil {
		return kerr(http.StatusNotFound, "Output %s not found", pathID)
	}
	if o.flag("is_preconfigured") {
		return badRequest("Preconfigured output %s cannot be deleted outside of kibana config file.", pathID)
	}
	if o.flag("is_default") {
		return badRequest("Default output %s cannot be deleted.", pathID)
	}
	if o.flag("is_default_monitoring") {
		return badRequest("Default monitoring output %s cannot be deleted.", pathID)
	}
	now := c.now()
	id := o.id()
	// Validate every affected agent policy first: all or nothing (trap 13).
	var affected []*agentPolicy
	for _, p := range c.sortedPolicies() {
		if p.Attrs["data_output_id"] == id || p.Attrs["monitoring_output_id"] == id {
			affected = append(affected, p)
		}
	}
	for _, p := range affected {
		dataOut := p.Attrs["data_output_id"]
		if dataOut == id {
			dataOut = nil
		}
		if resp := c.validateOutputForPolicy(p, dataOut); resp != nil {
			return resp
		}
	}
	for _, pp := range c.st.PackagePolicies {
		if pp.OutputID != nil && *pp.OutputID == id {
			pp.OutputID = nil
			pp.UpdatedAt = now
		}
	}
	for _, p := range affected {
		for _, k := range []string{"data_output_id", "monitoring_output_id"} {
			if p.Attrs[k] == id {
				p.Attrs[k] = nil
			}
		}
		c.bumpPolicy(p, now)
	}
	delete(c.st.Outputs, o.SOID)
	for _, sp := range secretPaths {
		if sid, ok := secretRefID(getPath(o.Attrs, sp.secret)); ok {
			c.node.DeleteFleetSecret(sid)
		}
	}
	return ok(map[string]any{"id": pathID})
}

func (c *Cluster) outputHealth(r *kreq) *kresp {
	o := c.st.outputByID(r.params["outputId"])
	if o == nil {
		// getOutputLastUpdateTime reads the saved object directly: the core not-found error.
		return kerr(http.StatusNotFound, "Saved object [ingest-outputs/%s] not found", outputIDToUUID(r.params["outputId"]))
	}
	docs, _ := c.node.SearchDocs("logs-fleet_server.output_health-default", true)
	var latest map[string]any
	var latestAt time.Time
	for _, d := range docs {
		var src map[string]any
		if decodeJSON(d.Source, &src) != nil || src["output"] != o.id() {
			continue
		}
		ts, _ := src["@timestamp"].(string)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			continue
		}
		if latest == nil || at.After(latestAt) {
			latest, latestAt = src, at
		}
	}
	if latest == nil || latestAt.Before(o.UpdatedAt.Truncate(time.Millisecond)) {
		return ok(map[string]any{"state": "UNKNOWN", "message": "", "timestamp": ""})
	}
	msg, _ := latest["message"].(string)
	return ok(map[string]any{"state": latest["state"], "message": msg, "timestamp": latest["@timestamp"]})
}

// unsetDefault is _updateDefaultOutput: flipping the old default is itself an
// edit of that output, refused on a preconfigured one (trap 33).
func (c *Cluster) unsetDefault(prev *output, key string, now time.Time) *kresp {
	if prev.flag("is_preconfigured") && !slices.Contains(stringList(prev.Attrs["allow_edit"]), key) {
		return badRequest("Preconfigured output %s %s cannot be updated outside of kibana config file.", prev.id(), key)
	}
	prev.Attrs[key] = false
	c.st.putOutput(prev, now)
	return nil
}

// applyKafkaDefaults is the Kafka block of output.ts create/update.
func applyKafkaDefaults(a map[string]any) {
	setIfEmpty := func(k string, v any) {
		if cur, ok := a[k]; !ok || cur == nil || cur == "" || cur == 0.0 {
			a[k] = v
		}
	}
	setIfEmpty("version", "1.0.0")
	setIfEmpty("compression", "gzip")
	if a["compression"] == "gzip" {
		setIfEmpty("compression_level", 4.0)
	} else {
		a["compression_level"] = nil
	}
	setIfEmpty("client_id", "Elastic")
	if u, _ := a["username"].(string); u != "" {
		if pw, _ := a["password"].(string); pw != "" && getPath(a, []string{"sasl", "mechanism"}) == nil {
			a["sasl"] = map[string]any{"mechanism": "PLAIN"}
		}
	}
	setIfEmpty("partition", "hash")
	switch a["partition"] {
	case "random":
		if getPath(a, []string{"random", "group_events"}) == nil {
			a["random"] = map[string]any{"group_events": 1.0}
		}
	case "round_robin":
		if getPath(a, []string{"round_robin", "group_events"}) == nil {
			a["round_robin"] = map[string]any{"group_events": 1.0}
		}
	}
	setIfEmpty("timeout", 30.0)
	setIfEmpty("broker_timeout", 10.0)
	if a["required_acks"] == nil {
		a["required_acks"] = 1.0
	}
	if a["auth_type"] != "none" {
		delete(a, "connection_type")
	}
	if a["auth_type"] != "user_pass" {
		delete(a, "username")
		delete(a, "password")
	}
}

// checkEditable is _validateFieldsAreEditable (2.8 step 2, trap 10): a key
// may be sent unchanged; a key that is falsy on both sides also passes.
func checkEditable(o *output, body map[string]any, id string) *kresp {
	if !o.flag("is_preconfigured") {
		return nil
	}
	allow := stringList(o.Attrs["allow_edit"])
	view := o.view()
	for _, k := range sortedKeys(body) {
		old, has := view[k]
		if (!has || !truthy(old)) && !truthy(body[k]) {
			continue
		}
		if slices.Contains(allow, k) || reflect.DeepEqual(body[k], old) {
			continue
		}
		if k == "ssl" && !has && reflect.DeepEqual(body[k], map[string]any{"certificate": "", "certificate_authorities": []any{}}) {
			continue
		}
		return badRequest("Preconfigured output %s %s cannot be updated outside of kibana config file.", id, k)
	}
	return nil
}

// truthy is JavaScript's !!v for decoded JSON.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case float64:
		return t != 0
	}
	return true
}

func checkDuplicateSecrets(body map[string]any) *kresp {
	for _, sp := range []struct{ plain, secret []string }{
		{[]string{"password"}, []string{"secrets", "password"}},
		{[]string{"ssl", "key"}, []string{"secrets", "ssl", "key"}},
		{[]string{"service_token"}, []string{"secrets", "service_token"}},
	} {
		p, _ := getPathOK(body, sp.plain)
		s, _ := getPathOK(body, sp.secret)
		if p != nil && s != nil {
			return badRequest("Cannot specify both %s and %s", strings.Join(sp.plain, "."), strings.Join(sp.secret, "."))
		}
	}
	return nil
}

func checkPreset(body map[string]any) *kresp {
	if body["preset"] == "balanced" && yamlHasReservedKey(body["config_yaml"]) {
		return kerrType(http.StatusBadRequest, "OutputInvalidError", "preset cannot be balanced when config_yaml contains one of %s", strings.Join(reservedPresetKeys, ", "))
	}
	return nil
}

// checkSyncLicence is remoteSyncIntegrationsCheck on the body; when allowed it
// creates the leader index right away.
func (c *Cluster) checkSyncLicence(body map[string]any) *kresp {
	if body["type"] != typeRemoteES || body["sync_integrations"] != true {
		return nil
	}
	if !c.canEnableSyncIntegrations() {
		return badRequest("Remote sync integrations require at least an Enterprise license.")
	}
	c.ensureLeaderIndex()
	return nil
}
