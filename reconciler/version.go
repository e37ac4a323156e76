package reconciler

import (
	"context"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/internal/kversion"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// VersionReader reads the Kibana version of the cluster (GET /api/status,
// version.number); *kibana.Client implements it. When Config.Fleet
// implements it, the plan blocks every declared feature the cluster's
// Kibana is too old for, instead of letting Kibana answer 400 mid-apply.
type VersionReader interface {
	KibanaVersion(ctx context.Context) (string, error)
}

// feature is a versioned part of Fleet's output API a declaration can use.
type feature struct {
	name string // as the plan names it
	// since is the first Kibana version, per release line, that accepts
	// it (a plain version: from then on; kversion.Gate).
	since kversion.Gate
	// source is where that is established.
	source string
}

// The versioned output features fleetform can send. An older Kibana's
// config-schema refuses an unknown type or key with 400.
var (
	featRemoteES = feature{"type remote_elasticsearch", "8.12.0",
		"outputType.RemoteElasticsearch, released in 8.12.0 (elastic/ingest-docs#824)"}
	// The kafka output type: elastic/kibana#159110 "[Fleet] Kafka integration
	// API" (v8.10.0, backport:skip) adds outputType.Kafka and its schema to
	// the outputs API; before it the type is not one the request schema
	// knows (400).
	featKafka = feature{"type kafka", "8.10.0",
		"elastic/kibana#159110 \"[Fleet] Kafka integration API\" (v8.10.0)"}
	featSecrets = feature{"output secrets", "8.12.0",
		"output secrets, 8.12 (OUTPUT_SECRETS_MINIMUM_FLEET_SERVER_VERSION = '8.12.0' in server/services/secrets.ts)"}
	// sync_integrations, kibana_url, kibana_api_key: kibana PR #208516 (9.1);
	// sync_uninstalled_integrations: kibana PR #217144, merged April 2025
	// before the 9.1 branch; all in types/models/output.ts of 9.1.
	featSyncIntegrations = feature{"sync_integrations", "9.1.0", "kibana PR #208516, types/models/output.ts (9.1)"}
	featKibanaURL        = feature{"kibana_url", "9.1.0", "kibana PR #208516, types/models/output.ts (9.1)"}
	featKibanaAPIKey     = feature{"kibana_api_key", "9.1.0", "kibana PR #208516, types/models/output.ts (9.1)"}
	featSyncUninstalled  = feature{"sync_uninstalled_integrations", "9.1.0", "kibana PR #217144, types/models/output.ts (9.1)"}
)

// outputFeatures lists the versioned features a declared output uses.
func outputFeatures(o *schema.Output) []feature {
	var out []feature
	switch o.Type {
	case "remote_elasticsearch":
		out = append(out, featRemoteES)
	case "kafka":
		out = append(out, featKafka)
	}
	if o.Secrets != nil && (o.Secrets.ServiceToken != nil || o.Secrets.Password != nil || o.Secrets.SSL != nil && o.Secrets.SSL.Key != nil) {
		out = append(out, featSecrets)
	}
	if o.SyncIntegrations != nil {
		out = append(out, featSyncIntegrations)
	}
	if o.KibanaURL != "" {
		out = append(out, featKibanaURL)
	}
	if o.KibanaAPIKey != nil {
		out = append(out, featKibanaAPIKey)
	}
	if o.SyncUninstalledIntegrations != nil {
		out = append(out, featSyncUninstalled)
	}
	if o.WriteToLogsStreams != nil {
		out = append(out, featWriteToLogsStreams)
	}
	if o.ProxyID != nil {
		out = append(out, featOutputProxy)
	}
	return append(out, outputMoreFeatures(o)...)
}

// kibanaAtLeast reports whether Kibana version v has what came in since
// (on v's release line: kversion.Gate). A snapshot or pre-release of a
// version has that version's features.
func kibanaAtLeast(v string, since kversion.Gate) bool { return since.Has(v) }

// missingFeatures returns the features of fs that Kibana version v lacks.
func missingFeatures(v string, fs []feature) []feature {
	var out []feature
	for _, f := range fs {
		if v != "" && !kibanaAtLeast(v, f.since) {
			out = append(out, f)
		}
	}
	return out
}

// featureNotes add what "needs Kibana X" alone would mislead about.
var featureNotes = map[string]string{
	// The key exists from 9.0.0, but 9.0.x refuses any list while its
	// automatic upgrades flag is off by default (requiredVersionsRefusal):
	// an 8.18 cluster upgraded to 9.0 would be blocked again.
	featRequiredVersions.name: fmt.Sprintf(" (and automatic agent upgrades on, which 9.0.x keeps off by default: Kibana %s)", gateAutomaticUpgrades),
}

// blockUnsupported turns every create or update (of an output, agent
// policy or integration policy: stepFeatures) that needs a feature the
// cluster's Kibana lacks into a blocked change naming the version it needs.
// An object that is already as declared is left alone. Each kind's plan
// calls it once its steps are added; a step already blocked stays as is.
func (r *Reconciler) blockUnsupported(c *computed) {
	v := c.obs.kibanaVersion
	if v == "" {
		return
	}
	for _, st := range c.steps {
		s := st
		if os, ok := st.data.(*objectStep); ok {
			os.versionLacks = versionLacks(v, st.change.Kind)
		}
		if s.change.Action != plan.Create && s.change.Action != plan.Update {
			continue
		}
		missing := missingFeatures(v, stepFeatures(st))
		if len(missing) == 0 {
			continue
		}
		parts := make([]string, len(missing))
		for i, f := range missing {
			parts[i] = fmt.Sprintf("%s needs Kibana %s%s", f.name, f.since, featureNotes[f.name])
		}
		s.change.Action = plan.Blocked
		s.change.Reason = fmt.Sprintf("cluster %s runs Kibana %s: %s; upgrade Kibana or remove %s from the declaration",
			r.cfg.Cluster, v, strings.Join(parts, ", "), pick(len(missing), "it", "them"))
	}
}
