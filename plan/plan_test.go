package plan

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/internal/golden"

	"github.com/google/go-cmp/cmp"
)

// samplePlan has one change of each action, including sensitive fields, a
// generated secret, a drift note and a multi-line reason.
func samplePlan() *Plan {
	p := &Plan{
		Revision:    "3f2a9c1",
		Fingerprint: "sha256:0123abcd",
		Changes: []Change{
			{Cluster: "main", Kind: KindAgentPolicy, ID: "prod-linux", Name: "Prod Linux", Action: Update,
				Fields:    []FieldDiff{{Path: "data_output_id", Before: "fleet-default-output", After: "remote-west"}},
				DependsOn: []string{"main/output/remote-west"}},
			{Cluster: "main", Kind: KindOutput, ID: "legacy-logstash", Name: "legacy", Action: Delete, Reason: "owned by fleetform and no longer declared (--prune)"},
			{Cluster: "main", Kind: KindOutput, ID: "remote-west", Name: "remote-west", Action: Create, Fields: []FieldDiff{
				{Path: "type", After: "remote_elasticsearch"},
				{Path: "name", After: "remote-west"},
				{Path: "hosts", After: []any{"https://es.west.example:9200"}},
				{Path: "secrets.service_token", After: Sensitive, Sensitive: true},
				{Path: "kibana_api_key", After: ToBeGenerated, Sensitive: true},
				{Path: "sync_integrations", After: true},
			}},
			{Cluster: "main", Kind: KindOutput, ID: "fleet-default-output", Action: Update, Fields: []FieldDiff{
				{Path: "hosts", Before: []any{"http://localhost:9200"}, After: []any{"https://es.main.example:443"}},
				{Path: "secrets.ssl.key", Before: Sensitive, After: Sensitive, Sensitive: true, Note: "drift: secret id changed outside fleetform"},
				{Path: "ca_trusted_fingerprint", Before: "aa", After: nil},
			}},
			{Cluster: "main", Kind: KindOutput, ID: "kibana-yml-output", Action: Blocked,
				Reason: "preconfigured output kibana-yml-output: hosts cannot be updated outside of kibana config file (allow_edit: [ca_sha256])\nedit kibana.yml instead",
				Fields: []FieldDiff{{Path: "hosts", Before: []any{"https://a:443"}, After: []any{"https://b:443"}}}},
			{Cluster: "main", Kind: KindPackage, ID: "nginx", Action: Update, Fields: []FieldDiff{{Path: "version", Before: "1.20.0", After: "2.0.0"}}},
			{Cluster: "main", Kind: KindPackage, ID: "system", Action: Create, Fields: []FieldDiff{{Path: "version", After: "1.60.0"}}},
			{Cluster: "main", Kind: KindOutput, ID: "adopted", Action: NoOp, Reason: "already matches; apply records it as owned"},
		},
		Warnings: []string{`agent_policy "old" is owned by fleetform but no longer declared; run apply with --prune to delete it`},
	}
	p.Sort()
	return p
}

func TestWriters_Golden(t *testing.T) {
	writers := map[string]func(io.Writer, *Plan) error{
		"txt": WriteText, "json": WriteJSON, "md": WriteMarkdown, "github": WriteGitHub,
	}
	plans := map[string]*Plan{"sample": samplePlan(), "empty": {Revision: "3f2a9c1", Fingerprint: "sha256:0123abcd"},
		"unverified": unverifiedPlan()}
	for pname, p := range plans {
		for ext, write := range writers {
			t.Run(pname+"."+ext, func(t *testing.T) {
				var buf bytes.Buffer
				if err := write(&buf, p); err != nil {
					t.Fatal(err)
				}
				golden.Check(t, filepath.Join("testdata", pname+"."+ext+".golden"), buf.Bytes())
			})
		}
	}
}

func TestSort_TotalOrder(t *testing.T) {
	p := samplePlan()
	var got []string
	for _, c := range p.Changes {
		got = append(got, string(c.Action)+" "+c.Kind+"/"+c.ID)
	}
	want := []string{
		"update package/nginx",
		"create package/system",
		"no-op output/adopted",
		"update output/fleet-default-output",
		"blocked output/kibana-yml-output",
		"create output/remote-west",
		"update agent_policy/prod-linux",
		"delete output/legacy-logstash",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	// Any permutation sorts to the same order.
	q := samplePlan()
	for i, j := 0, len(q.Changes)-1; i < j; i, j = i+1, j-1 {
		q.Changes[i], q.Changes[j] = q.Changes[j], q.Changes[i]
	}
	q.Sort()
	if d := cmp.Diff(p.Changes, q.Changes); d != "" {
		t.Errorf("sort not total (-first +reversed):\n%s", d)
	}
}

func TestSort_DeletesChildrenFirst(t *testing.T) {
	p := &Plan{Changes: []Change{
		{Cluster: "main", Kind: KindOutput, ID: "a", Action: Delete},
		{Cluster: "main", Kind: KindPackage, ID: "a", Action: Delete},
		{Cluster: "main", Kind: KindAgentPolicy, ID: "a", Action: Delete},
		{Cluster: "west", Kind: KindOutput, ID: "a", Action: Create},
		{Cluster: "main", Kind: KindAgentPolicy, ID: "b", Action: Create},
	}}
	p.Sort()
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Cluster+" "+string(c.Action)+" "+c.Kind)
	}
	want := []string{"main create agent_policy", "main delete agent_policy", "main delete output", "main delete package", "west create output"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
}

func TestJSON_RoundTrip(t *testing.T) {
	p := samplePlan()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p.FormatVersion = FormatVersion
	if d := cmp.Diff(p, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestReadJSON_RefusesOtherVersion(t *testing.T) {
	_, err := ReadJSON(strings.NewReader(`{"format_version":"0","fingerprint":"x","changes":[]}`))
	if err == nil || !strings.Contains(err.Error(), `format_version "0" is not supported`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSummary(t *testing.T) {
	s := samplePlan().Summary()
	want := Summary{Create: 2, Update: 3, Delete: 1, Blocked: 1, NoOp: 1}
	if s != want {
		t.Errorf("summary = %+v, want %+v", s, want)
	}
	if got := s.String(); got != "2 to create, 3 to update, 1 to delete, 1 blocked, 1 to adopt" {
		t.Errorf("String() = %q", got)
	}
}

func TestGitHub_EscapesData(t *testing.T) {
	p := &Plan{Changes: []Change{{Cluster: "main", Kind: KindOutput, ID: "x", Action: Blocked, Reason: "100% blocked\nsecond line"}}}
	var buf bytes.Buffer
	if err := WriteGitHub(&buf, p); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(buf.String(), "\n", 2)[0]
	want := `::error title=fleetform plan::output "x" is blocked: 100%25 blocked%0Asecond line`
	if first != want {
		t.Errorf("got  %s\nwant %s", first, want)
	}
}

// unverifiedPlan has no change, but two secret references the plan could
// not read (issue 10 item 7).
func unverifiedPlan() *Plan {
	p := &Plan{Revision: "3f2a9c1", Fingerprint: "sha256:0123abcd", Unverified: []UnverifiedSecret{
		{Cluster: "main", Kind: KindOutput, ID: "kafka", Path: "secrets.password", Ref: "env:KPW", Reason: "environment variable KPW is not set"},
		{Cluster: "main", Kind: KindOutput, ID: "ls", Path: "secrets.ssl.key", Ref: "file:/run/secrets/ls.key", Reason: "open /run/secrets/ls.key: no such file or directory"},
	}}
	p.Sort()
	return p
}

// TestWriters_NeverNoChangesWhileUnsure: a plan that could not compare a
// secret never says "No changes" in any view, and names every reference.
func TestWriters_NeverNoChangesWhileUnsure(t *testing.T) {
	for name, write := range map[string]func(io.Writer, *Plan) error{
		"text": WriteText, "json": WriteJSON, "markdown": WriteMarkdown, "github": WriteGitHub,
	} {
		var buf bytes.Buffer
		if err := write(&buf, unverifiedPlan()); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if strings.Contains(out, "No changes.") {
			t.Errorf("%s says No changes while two secrets were not compared:\n%s", name, out)
		}
		for _, want := range []string{"secrets.password", "env:KPW", "file:/run/secrets/ls.key"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not name %s:\n%s", name, want, out)
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, unverifiedPlan()); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(unverifiedPlan().Unverified, back.Unverified); d != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", d)
	}
}
