package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"html"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fleetform/fleetform/daemon"
	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/source"
)

// chromium finds Debian's chromium (installed by .ci/run). Without it the
// test skips locally and fails under CI=true, where .ci/run must have
// installed it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; .ci/run installs Debian's chromium package (apt-get install chromium)")
	}
	t.Skip("chromium is not installed: the status page is not rendered in a browser (apt-get install chromium; under CI=true this fails)")
	return ""
}

// runChromium runs headless chromium with args and the URL, bounded.
func runChromium(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	home := t.TempDir() // chromium writes its profile and crash dumps here
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + filepath.Join(home, "profile"), "--hide-scrollbars"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// pageLoop is a loop after three turns: a change applied (with its
// field-level diff), an idle turn, and a remote output whose integrations
// sync.
func pageLoop(t *testing.T) *daemon.Loop {
	t.Helper()
	rec := &scripted{}
	src := source.NewStatic(validFS("o1"), "fleet")
	l := newLoop(t, daemon.DefaultConfig(), src, rec)
	p := &plan.Plan{FormatVersion: plan.FormatVersion, Changes: []plan.Change{
		{Cluster: "main", Kind: "output", ID: "es-west", Action: plan.Update, Fields: []plan.FieldDiff{
			{Path: "hosts", Before: []any{"https://west-old.example:9200"}, After: []any{"https://west.example:9200"}},
			{Path: "secrets.service_token", Before: plan.Sensitive, After: plan.Sensitive, Sensitive: true},
		}},
		{Cluster: "main", Kind: "agent_policy", ID: "edge", Action: plan.Create, Fields: []plan.FieldDiff{
			{Path: "name", After: "Edge hosts"}, {Path: "data_output_id", After: "es-west"},
		}},
	}}
	outputs := []daemon.OutputState{
		{ID: "es-west", Type: "remote_elasticsearch", Remote: "west", State: "synchronizing", SyncVia: "ccr",
			Integrations: []daemon.IntegrationSync{
				{PackageName: "nginx", PackageVersion: "1.25.1", SyncStatus: "completed", InstallStatus: daemon.InstallState{Main: "installed", Remote: "installed"}, UpdatedAt: "2026-12-07T03:50:00Z"},
				{PackageName: "system", PackageVersion: "1.60.0", SyncStatus: "synchronizing", InstallStatus: daemon.InstallState{Main: "installed", Remote: "installing"}},
				{PackageName: "apache", PackageVersion: "2.0.0", SyncStatus: "failed", InstallStatus: daemon.InstallState{Main: "installed", Remote: "install_failed"}, Error: "Failed to install apache on the remote"},
			}},
		{ID: "default", Type: "elasticsearch", State: "in-sync"},
	}
	rec.set(daemon.Outcome{Drift: true, Plan: p, Outputs: outputs,
		Planned: []daemon.ChangeCount{{Kind: "agent_policy", Action: "create", Count: 1}, {Kind: "output", Action: "update", Count: 1}},
		Applied: []daemon.ChangeCount{{Kind: "agent_policy", Action: "create", Count: 1}, {Kind: "output", Action: "update", Count: 1}}}, nil)
	if err := l.Once(t.Context(), "webhook"); err != nil {
		t.Fatal(err)
	}
	rec.set(daemon.Outcome{Plan: &plan.Plan{FormatVersion: plan.FormatVersion, Changes: []plan.Change{}}, Outputs: outputs}, nil)
	_ = l.Once(t.Context(), "interval")
	rec.set(daemon.Outcome{}, errors.New("kibana main: GET /api/fleet/outputs: 503 Service Unavailable"))
	_ = l.Once(t.Context(), "interval")
	rec.set(daemon.Outcome{Plan: &plan.Plan{FormatVersion: plan.FormatVersion, Changes: []plan.Change{}}, Outputs: outputs}, nil)
	_ = l.Once(t.Context(), "interval")
	return l
}

var tags = regexp.MustCompile(`<[^>]*>`)

// Issue 11 #6: the status page, rendered by a real browser, shows the
// field-level diff of the last change, the history of turns and the
// integration sync table. Set FLEETFORM_SCREENSHOT=file.png to keep the
// screenshot.
func TestStatusPageInHeadlessChromium(t *testing.T) {
	bin := chromium(t)
	srv := httptest.NewServer(pageLoop(t).Handler(daemon.HandlerOptions{}))
	defer srv.Close()

	dom := string(runChromium(t, bin, "--dump-dom", srv.URL+"/"))
	text := html.UnescapeString(tags.ReplaceAllString(dom, ""))
	for _, want := range []string{
		// the diff, in the plan's own text view
		`output "es-west" will be updated in-place`,
		`~ hosts                 = ["https://west-old.example:9200"] -> ["https://west.example:9200"]`,
		`~ secrets.service_token = (sensitive, changed)`,
		`+ agent_policy "edge" {`,
		`+ name           = "Edge hosts"`,
		`Plan: 1 to create, 1 to update, 0 to delete.`,
		"Fleet matches revision",
		// the history: newest first
		"History",
		"kibana main: GET /api/fleet/outputs: 503 Service Unavailable",
		"+1 ~1 -0",
		// the integration sync table, Kibana's vocabulary
		"Integration sync: output es-west → remote west (sync via ccr)",
		"Failed to install apache on the remote",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	rows := regexp.MustCompile(`(?s)<table id="history">.*?</table>`).FindString(dom)
	if n := strings.Count(rows, "<tr>") - 1; n != 4 {
		t.Errorf("history has %d rows, want 4 (applied, in-sync, failed, in-sync)", n)
	}
	for i, want := range []string{"in-sync", "failed", "in-sync", "applied"} {
		cells := regexp.MustCompile(`<td class="[a-z]*">(applied|in-sync|failed|reported|blocked)`).FindAllStringSubmatch(rows, -1)
		if len(cells) != 4 || cells[i][1] != want {
			t.Errorf("history results %v, want newest first: in-sync failed in-sync applied", cells)
			break
		}
	}
	if !strings.Contains(dom, `<span class="chg">      ~ hosts`) || !strings.Contains(dom, `<span class="add">  + agent_policy "edge" {</span>`) {
		t.Errorf("diff lines are not coloured by their marker")
	}

	png := filepath.Join(t.TempDir(), "status.png")
	if keep := os.Getenv("FLEETFORM_SCREENSHOT"); keep != "" {
		png = keep
	}
	runChromium(t, bin, "--screenshot="+png, "--window-size=1280,1500", srv.URL+"/")
	b, err := os.ReadFile(png)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 20_000 {
		t.Errorf("screenshot %s: %d bytes, not a rendered PNG", png, len(b))
	}
}
