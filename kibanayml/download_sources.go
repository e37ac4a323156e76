package kibanayml

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/fleetform/fleetform/schema"
)

// downloadSourcesKey is the kibana.yml key of preconfigured agent binary
// download sources: server/config.ts binaryDownloadSource, added by
// elastic/kibana#283454 ("[Fleet] Support preconfigured agent binary
// download sources", merged 2026-08-06).
const downloadSourcesKey = "xpack.fleet.binaryDownloadSource"

const downloadSourcesNote = "Needs a Kibana with elastic/kibana#283454 (xpack.fleet.binaryDownloadSource, merged 2026-08-06): an older Kibana refuses to start on this key."

// downloadSources renders xpack.fleet.binaryDownloadSource with the fields
// Kibana's preconfiguration of download sources takes
// (services/preconfiguration/download_source.ts: hasChanged compares name,
// host, is_default, proxy_id and ssl; its test passes exactly those with
// id): id, name, host, is_default, proxy_id and ssl, a declared ssl.key
// becoming a ${VAR} placeholder. What it does not take — auth, secrets
// (secrets.ssl.key included: written as ssl.key it would be stored
// unencrypted), security_artifacts_proxy_id, security_artifacts_url — is
// left out and named in the header.
func (r *renderer) downloadSources(srcs []schema.DownloadSource) (*yaml.Node, error) {
	seq := sequence()
	for _, d := range srcs {
		var dropped []string
		if d.Auth != nil {
			dropped = append(dropped, "auth")
		}
		if d.Secrets != nil {
			dropped = append(dropped, "secrets")
		}
		if d.SecurityArtifactsProxyID != nil {
			dropped = append(dropped, "security_artifacts_proxy_id")
		}
		if d.SecurityArtifactsURL != nil {
			dropped = append(dropped, "security_artifacts_url")
		}
		if len(dropped) > 0 {
			r.leftOut = append(r.leftOut, strings.Join(dropped, ", ")+" of download source "+d.ID+
				" (Kibana's xpack.fleet.binaryDownloadSource takes id, name, host, is_default, proxy_id and ssl)")
		}
		d.Auth, d.Secrets, d.SecurityArtifactsProxyID, d.SecurityArtifactsURL = nil, nil, nil, nil
		n, err := toNode(d)
		if err != nil {
			return nil, fmt.Errorf("kibanayml: download source %s: %w", d.ID, err)
		}
		r.placeholder("download source "+d.ID, "download_source_"+d.ID, n, []string{"ssl", "key"})
		seq.Content = append(seq.Content, n)
	}
	return seq, nil
}
