package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/secret"
)

// A remote output made by hand (its token minted on west by someone else),
// imported with --adopt into a two-cluster repository: the plan lists the
// adopted token as not compared, as for any adopted secret, and does not
// ask for its value to try it against west — apply never writes an adopted
// secret, so a value there would prove nothing (a different valid token
// would pass while Fleet keeps the old one). Found by the new-user trial:
// the plan was blocked by the remote's token check.
func TestImport_AdoptedRemoteTokenIsNotProbed(t *testing.T) {
	dir, sim := twoClusterRepo(t, "")
	west := sim.Cluster("west")
	req, _ := http.NewRequest("POST", west.ESURL()+"/_security/service/elastic/fleet-server-remote/credential/token/by-hand", nil)
	req.SetBasicAuth("elastic", "changeme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var minted struct {
		Token struct{ Value string } `json:"token"`
	}
	err = json.NewDecoder(resp.Body).Decode(&minted)
	resp.Body.Close()
	if err != nil || minted.Token.Value == "" {
		t.Fatalf("mint on west: %v (%s)", err, resp.Status)
	}
	mainKB, err := kibana.New(sim.Cluster("main").KibanaURL(), kibana.Auth{Username: "elastic", Password: secret.New("changeme")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mainKB.CreateOutput(t.Context(), map[string]any{"id": "by-hand", "name": "by-hand", "type": "remote_elasticsearch",
		"hosts": []any{west.ESURL()}, "secrets": map[string]any{"service_token": minted.Token.Value}}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "fleet.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	clusters, _, _ := strings.Cut(string(b), "outputs:")
	repo := t.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "clusters.yaml"), []byte(clusters), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(t.Context(), []string{"import", "-c", repo, "--kinds", "outputs", "--select", "by-hand", "--adopt"}, &stdout, &stderr); err != nil {
		t.Fatalf("import: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	outputs, _ := os.ReadFile(filepath.Join(repo, "outputs.yaml"))
	if !strings.Contains(string(outputs), "remote: west") || !strings.Contains(string(outputs), "env: OUTPUT_BY_HAND_SERVICE_TOKEN") {
		t.Fatalf("outputs.yaml:\n%s\n%s", outputs, stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	err = run(t.Context(), []string{"plan", "-c", repo, "--detailed-exitcode"}, &stdout, &stderr)
	if code := exitCode(err); code != 0 && code != 2 {
		t.Fatalf("plan after import: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if want := `output "by-hand" secrets.service_token (env:OUTPUT_BY_HAND_SERVICE_TOKEN): adopted by fleetform import`; !strings.Contains(stdout.String(), want) {
		t.Errorf("plan lacks %q:\n%s", want, stdout.String())
	}
	if strings.Contains(stdout.String()+stderr.String(), "preflight") {
		t.Errorf("the adopted token was checked against west:\n%s%s", stdout.String(), stderr.String())
	}
	stdout.Reset()
	stderr.Reset()
	// Apply reads every reference before its first write, adopted ones too
	// (the README's import walkthrough exports them for apply): without the
	// variable it writes nothing and names it; with it, it leaves the
	// adopted token as Fleet holds it.
	sim.ClearRequests()
	err = run(t.Context(), []string{"apply", "-c", repo}, &stdout, &stderr)
	if exitCode(err) != 1 || !strings.Contains(stderr.String(), "OUTPUT_BY_HAND_SERVICE_TOKEN is not set") || len(writesOf(sim)) != 0 {
		t.Errorf("apply without the variable: exit %d, writes %v\n%s%s", exitCode(err), writesOf(sim), stdout.String(), stderr.String())
	}
	t.Setenv("OUTPUT_BY_HAND_SERVICE_TOKEN", "some-other-token")
	stdout.Reset()
	stderr.Reset()
	if err := run(t.Context(), []string{"apply", "-c", repo}, &stdout, &stderr); err != nil {
		t.Fatalf("apply: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, w := range writesOf(sim) {
		if strings.Contains(w, "/api/fleet/outputs") {
			t.Errorf("apply wrote the adopted output: %s", w)
		}
	}
}
