package reconciler

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/schema"
)

// TestApply_UnresolvableSecretsWriteNothing is issue 10 item 5: with secret
// references that cannot be read (an unset variable, a missing file), apply
// used to write the other changes — a new default output among them — and
// fail only on the output that needed the value. Every reference an apply
// needs is now read before its first write; on failure nothing is written
// and one error names every output, field and reference, never a value.
func TestApply_UnresolvableSecretsWriteNothing(t *testing.T) {
	h := newHarness(t)
	doc := fullDoc()
	h.apply(doc)
	missing := filepath.Join(t.TempDir(), "no-such-key.pem")
	t.Setenv("WEST_TOKEN", "")
	doc.Outputs[1].SSL.Key = &schema.SecretRef{File: missing}
	// A change that needs no secret, and one that flips the default.
	doc.Outputs = append(doc.Outputs, schema.Output{ID: "es-new", Name: "es-new", Type: "elasticsearch",
		Hosts: []string{"https://new.example:9200"}, IsDefault: ptr(true)})
	doc.AgentPolicies[0].Description = ptr("changed")
	n := len(h.f.writes())
	_, err := h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
	if w := h.f.writes()[n:]; len(w) != 0 {
		t.Errorf("apply wrote before failing on unreadable secrets: %v", w)
	}
	if !errors.Is(err, ErrSecretsUnresolved) {
		t.Fatalf("err = %v, want ErrSecretsUnresolved", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"output remote-west: secrets.service_token: resolve secret: env:WEST_TOKEN: environment variable WEST_TOKEN is empty",
		"output ls: ssl.key: resolve secret: file:" + missing,
		"nothing was written",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, v := range []string{tokenValue, apiKeyValue, sslKeyValue} {
		if strings.Contains(msg, v) {
			t.Error("the error holds a secret value")
		}
	}
	// A blocked output's secrets are not needed: it is not written.
	t.Setenv("WEST_TOKEN", tokenValue)
	doc.Outputs[1].SSL.Key = env("LS_KEY")
	doc.Outputs[0].Secrets.ServiceToken = &schema.SecretRef{Generate: true} // blocked without a Minter
	doc.Outputs[0].KibanaAPIKey = env("UNSET_KIBANA_KEY")
	_, err = h.r.Apply(context.Background(), doc, nil, ApplyOptions{})
	if errors.Is(err, ErrSecretsUnresolved) {
		t.Errorf("a blocked output's unreadable secret stopped the apply: %v", err)
	}
}
