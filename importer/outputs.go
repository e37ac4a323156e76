package importer

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// outputKeys are the Kibana fields of an output the document can declare:
// the json names of schema.Output (kafka fields included) less fleetform's
// own keys and the secret-valued ones, which secretFields handles.
var outputKeys = func() []string {
	skip := map[string]bool{"remote": true, "sync_via": true, "allow_edit": true, "secrets": true,
		"service_token": true, "kibana_api_key": true, "password": true}
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				walk(f.Type)
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && name != "-" && !skip[name] {
				keys = append(keys, name)
			}
		}
	}
	walk(reflect.TypeFor[schema.Output]())
	return keys
}()

// remoteSyncOutputPrefix starts the id of the output fleetform creates on a
// remote cluster for Kibana's sync task (remote.Desired: fleetform-sync-<id>).
const remoteSyncOutputPrefix = "fleetform-sync-"

// outputLeadKeys come first in an exported output, in this order; the
// other fields follow by name and the secret references last.
var outputLeadKeys = []string{"id", "name", "type", "is_default", "is_default_monitoring", "hosts"}

// outputDefaults are values Kibana gives a field that the document leaves
// out (output.ts create, applyKafkaDefaults in fleetsim/outputs.go, which
// follows it). An exported field holding its default is left out.
var outputDefaults = map[string]map[string]any{
	"*": {"is_default": false, "is_default_monitoring": false, "is_internal": false,
		"write_to_logs_streams": false, "sync_integrations": false, "sync_uninstalled_integrations": false},
	"kafka": {"version": "1.0.0", "compression": "gzip", "client_id": "Elastic", "partition": "hash",
		"timeout": 30.0, "broker_timeout": 10.0, "required_acks": 1.0},
}

// secretField is a secret-valued field of an output: where Kibana puts it
// and where the document declares a reference to it.
type secretField struct {
	observed string // path in Kibana's output, e.g. "secrets.service_token"
	stored   bool   // Kibana returns {id: …} there (Fleet secret storage)
}

// outputSecretFields are every secret path of an output, stored forms first.
var outputSecretFields = []secretField{
	{"secrets.service_token", true}, {"secrets.password", true}, {"secrets.ssl.key", true},
	{"service_token", false}, {"kibana_api_key", false}, {"password", false}, {"ssl.key", false},
}

func exportOutputs(ctx context.Context, f Fleet, b *builder) error {
	outs, err := f.ListOutputs(ctx)
	if err != nil {
		return err
	}
	sort.Slice(outs, func(i, j int) bool { return outs[i].ID() < outs[j].ID() })
	for _, o := range outs {
		id := o.ID()
		if !b.wanted(id) {
			continue
		}
		if strings.HasPrefix(id, remoteSyncOutputPrefix) {
			b.skip(id, "the elasticsearch output fleetform's remote provisioning creates on a remote for Kibana's sync task; the repository that declares the remote output manages it")
			continue
		}
		if o.IsPreconfigured() {
			if allowed := stringList(o["allow_edit"]); len(allowed) > 0 {
				b.skip(id, fmt.Sprintf("preconfigured in kibana.yml (xpack.fleet.outputs); Kibana lets only %s be edited outside kibana.yml, so manage it there", strings.Join(allowed, ", ")))
			} else {
				b.skip(id, "preconfigured in kibana.yml (xpack.fleet.outputs); manage it there")
			}
			continue
		}
		var side remoteSide
		if o.Type() == "remote_elasticsearch" {
			hosts := stringList(o["hosts"])
			if side, err = matchRemote(ctx, b.opts.Remotes, id, hosts); err != nil {
				return fmt.Errorf("output %s: %w", id, err)
			}
		}
		e, secrets := exportOutput(b, o, side)
		b.add(Object{ID: id, Name: o.Name(), Secrets: secrets, Raw: o}, e)
	}
	return nil
}

// exportOutput writes one output's declared fields and secret references.
// side says which declared remote a remote_elasticsearch output ships to and
// which of its credentials fleetform minted.
func exportOutput(b *builder, o kibana.Output, side remoteSide) (entry, []EnvVar) {
	remotesDeclared := len(b.opts.Remotes) > 0
	typ := o.Type()
	var e entry
	var rest []string
	for _, k := range outputKeys {
		if !slices.Contains(outputLeadKeys, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range append(slices.Clone(outputLeadKeys), rest...) {
		v := exportValue(k, o[k], typ, o)
		if v == nil {
			continue
		}
		e.set(k, v)
	}
	// A kept field keeps the field that governs it, even at its default
	// (fleetform's validator, like Kibana's, reads compression_level only
	// with compression gzip).
	if typ == "kafka" && fieldValue(e, "compression_level") != nil && fieldValue(e, "compression") == nil {
		e.set("compression", o["compression"])
	}
	// Kibana accepts sync_integrations without kibana_api_key, but cannot
	// sync then; fleetform refuses that combination, so it is left out.
	if fieldValue(e, "sync_integrations") == true && o["kibana_api_key"] == nil && o.Field("secrets.kibana_api_key") == nil {
		e.drop("sync_integrations")
		e.comment = joinComment(e.comment, "sync_integrations is on in Fleet, but without kibana_api_key Kibana cannot sync; declare both to manage it")
	}
	// The remote side: remote: ties the output to a declared remote. With
	// sync on and nothing fleetform minted there, the sync objects on the
	// remote were set up outside fleetform; declaring remote: would have
	// fleetform take them over, which is the operator's call.
	syncOn := o["sync_integrations"] == true
	remoteSet := false // generate: is valid only with remote:
	switch {
	case typ != "remote_elasticsearch":
	case side.remote != "" && (side.mintedToken || side.mintedAPIKey || !syncOn):
		e.setAfter("type", "remote", side.remote)
		remoteSet = true
	case side.remote != "":
		e.comment = joinComment(e.comment, fmt.Sprintf("ships to clusters.remotes %s, whose sync objects (remote-cluster link, follower index, the remote's elasticsearch output) were not made by fleetform; add remote: %s to let fleetform manage them (plan shows what it would change there first)", side.remote, side.remote))
	case remotesDeclared:
		e.comment = joinComment(e.comment, "no remote in clusters.remotes has these hosts; declare its cluster there to let fleetform manage its remote side")
	}
	// Secret references, one per secret Kibana holds for the output. A
	// stored secret ({id}) and its plain fallback are one secret: the
	// stored form wins.
	var envs []EnvVar
	secrets := map[string]any{}
	seen := map[string]bool{}
	for _, sf := range outputSecretFields {
		plain := strings.TrimPrefix(sf.observed, "secrets.")
		if seen[plain] {
			continue
		}
		present := false
		if sf.stored {
			ref, _ := o.Field(sf.observed).(map[string]any)
			present = ref != nil && ref["id"] != nil
		} else {
			s, _ := o.Field(sf.observed).(string)
			present = s != ""
		}
		if !present {
			continue
		}
		seen[plain] = true
		ref, ev, recorded := b.recordedRef(o.ID(), sf.observed, remoteSet)
		switch {
		case recorded:
			envs = append(envs, ev)
		case plain == "service_token" && side.mintedToken, plain == "kibana_api_key" && side.mintedAPIKey:
			ref = map[string]any{"generate": true} // fleetform minted it on the remote and keeps doing so
		default:
			ref, ev = b.newRef(o.ID(), sf.observed)
			envs = append(envs, ev)
		}
		switch {
		case sf.stored:
			setPath(secrets, strings.Split(plain, "."), ref)
		case sf.observed == "ssl.key":
			ssl, _ := fieldValue(e, "ssl").(map[string]any)
			if ssl == nil {
				ssl = map[string]any{}
			}
			ssl["key"] = ref
			e.set("ssl", ssl)
		default:
			e.set(sf.observed, ref)
		}
	}
	if len(secrets) > 0 {
		e.set("secrets", secrets)
	}
	return e, envs
}

// exportValue is the value to write for key, or nil when the field is
// absent, empty or Kibana's default.
func exportValue(key string, v any, typ string, o kibana.Output) any {
	v = prune(v)
	if v == nil {
		return nil
	}
	for _, scope := range []string{"*", typ} {
		if d, ok := outputDefaults[scope][key]; ok && reflect.DeepEqual(d, v) {
			return nil
		}
	}
	switch key {
	case "preset":
		// Kibana defaults the preset of elasticsearch and remote outputs to
		// balanced unless config_yaml holds a reserved key.
		if v == "balanced" && o["config_yaml"] == nil || v == "balanced" && o["config_yaml"] == "" {
			return nil
		}
	case "compression_level":
		if typ == "kafka" && o["compression"] == "gzip" && v == 4.0 {
			return nil
		}
	case "random", "round_robin":
		if typ == "kafka" && reflect.DeepEqual(v, map[string]any{"group_events": 1.0}) {
			return nil
		}
	case "ssl":
		m, _ := v.(map[string]any)
		delete(m, "key") // a secret: exported as a reference
		if len(m) == 0 {
			return nil
		}
	}
	return v
}

// prune drops nulls and empty strings, maps and lists, recursively; it
// returns nil when nothing is left.
func prune(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			if p := prune(e); p != nil {
				out[k] = p
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		if len(x) == 0 {
			return nil
		}
	}
	return v
}

func fieldValue(e entry, key string) any {
	for _, f := range e.fields {
		if f.key == key {
			return f.value
		}
	}
	return nil
}

func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, _ := m[p].(map[string]any)
		if next == nil {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func stringList(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
