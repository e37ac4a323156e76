package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/elastic"
	"github.com/fleetform/fleetform/fleetsim"
	"github.com/fleetform/fleetform/schema"
)

// The ten mistakes of issue 11 ("Done when"): each gets ONE message that
// says what is wrong, where (file:line, cluster, endpoint) and what to do.
// The whole stderr is compared, with the temporary directory, the
// simulator's addresses and the lock holder's host, pid and time replaced
// by placeholders.
func TestMistakes_OneMessageEach(t *testing.T) {
	sim := fleetsim.StartTest(t, fleetsim.Options{})
	kb, es := sim.Cluster("main").KibanaURL(), sim.Cluster("main").ESURL()
	down := closedPortURL(t)

	clusters := func(kibanaURL string) string {
		return fmt.Sprintf(`clusters:
  main:
    kibana:
      url: %s
      auth: {basic: {username: elastic, password: {env: MISTAKES_PW}}}
    elasticsearch:
      url: %s
      auth: {basic: {username: elastic, password: {env: MISTAKES_PW}}}
`, kibanaURL, es)
	}
	fleet := func(typ, hostsKey, outputID string) string {
		return fmt.Sprintf(`outputs:
  - id: logs
    name: logs
    type: %s
    %s: [%s]
agent_policies:
  - id: web
    name: web
    namespace: default
    data_output_id: %s
`, typ, hostsKey, es, outputID)
	}
	good := fleet("elasticsearch", "hosts", "logs")

	tests := []struct {
		name          string
		files         map[string]string
		password      *string // nil: the right one
		unsetPassword bool
		args          []string
		lockHeld      bool
		want          string
	}{
		{
			name:  "a typo in a field name",
			files: map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": fleet("elasticsearch", "hostz", "logs")},
			want: `fleetform plan: DIR/fleet.yaml:5:5: /outputs/0/hostz: unknown key "hostz" (did you mean "hosts"?)
`,
		},
		{
			name:  "a wrong output type",
			files: map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": fleet("elasticsearh", "hosts", "logs")},
			want: `fleetform plan: DIR/fleet.yaml:4:11: /outputs/0/type: value must be one of 'elasticsearch', 'remote_elasticsearch', 'logstash', 'kafka', got "elasticsearh" (did you mean "elasticsearch"?)
`,
		},
		{
			name:          "a missing env var for a secret",
			files:         map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": good},
			unsetPassword: true,
			want: `fleetform plan: cluster main: Kibana KIBANA (DIR/clusters.yaml:5) and Elasticsearch ES (DIR/clusters.yaml:8): its credentials cannot be read: environment variable MISTAKES_PW is not set
  hint: export MISTAKES_PW with the password of user "elastic" before running fleetform (or point auth.basic.password at another reference)
`,
		},
		{
			name:  "a wrong Kibana port (Elasticsearch's)",
			files: map[string]string{"clusters.yaml": clusters(es), "fleet.yaml": good},
			want: `fleetform plan: cluster main: Kibana ES (DIR/clusters.yaml:3): Elasticsearch answers there, not Kibana
  hint: the url points at Elasticsearch; set it to Kibana's address (Kibana listens on port 5601 by default)
`,
		},
		{
			name:     "a wrong password",
			files:    map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": good},
			password: ptr("wrong"),
			want: `fleetform plan: cluster main: Kibana KIBANA (DIR/clusters.yaml:3) and Elasticsearch ES (DIR/clusters.yaml:6): the credentials were rejected (401 Unauthorized)
  hint: check the password of user "elastic" (env:MISTAKES_PW)
`,
		},
		{
			name:  "Kibana down",
			files: map[string]string{"clusters.yaml": clusters(down), "fleet.yaml": good},
			want: `fleetform plan: cluster main: Kibana DOWN (DIR/clusters.yaml:3): connection refused: nothing listens at DOWNHOST
  hint: start Kibana, or fix the url (Kibana listens on port 5601 by default)
`,
		},
		{
			name:  "a policy pointing at a missing output",
			files: map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": fleet("elasticsearch", "hosts", "logz")},
			want: `fleetform plan: DIR/fleet.yaml:10:21: /agent_policies/0/data_output_id: output "logz" is not declared in outputs (nor a Kibana well-known output such as fleet-default-output) (did you mean "logs"?)
  hint: declare an output with id: logz under outputs, or use the id of a declared output
`,
		},
		{
			name: "a duplicate id across two files",
			files: map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": good,
				"more.yaml": "outputs:\n  - id: logs\n    name: logs-2\n    type: elasticsearch\n    hosts: [" + es + "]\n"},
			want: `fleetform plan: DIR/more.yaml:2:9: /outputs/0/id: duplicate output id "logs" (also at DIR/fleet.yaml:2)
  hint: ids are unique across all the files of the repository: rename one of the two, or delete the copy
`,
		},
		{
			name: "a remote output without its remote declared",
			files: map[string]string{"clusters.yaml": clusters(kb),
				"fleet.yaml": "outputs:\n  - id: west\n    name: west\n    type: remote_elasticsearch\n    remote: west\n    hosts: [https://west.example:9200]\n    secrets:\n      service_token: {generate: true}\n"},
			want: `fleetform plan: DIR/fleet.yaml:5:13: /outputs/0/remote: remote "west" is not declared in clusters.remotes
  hint: declare it under clusters.remotes (name: west, with its elasticsearch url and auth), or remove remote: from the output
`,
		},
		{
			name:     "two applies at once",
			files:    map[string]string{"clusters.yaml": clusters(kb), "fleet.yaml": good},
			args:     []string{"apply", "--auto-approve"},
			lockHeld: true,
			want: `fleetform apply: Error acquiring the apply lock fleetform-lease/default.apply-lock: held by HOST pid PID (fleetform apply) since TIME (last renewed TIME); pass --lock-timeout to wait for it
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("MISTAKES_PW", cmpOrStr(deref(tt.password), "changeme"))
			if tt.unsetPassword {
				os.Unsetenv("MISTAKES_PW") // t.Setenv above restores it afterwards
			}
			if tt.lockHeld {
				ec, err := elastic.NewFromEndpoint(t.Context(), schema.Endpoint{URL: es,
					Auth: schema.Auth{Basic: &schema.BasicAuth{Username: "elastic", Password: schema.SecretRef{Env: "MISTAKES_PW"}}}})
				if err != nil {
					t.Fatal(err)
				}
				_, release, err := takeApplyLock(t.Context(), ec, "default", "apply", 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(release)
			}
			args := tt.args
			if args == nil {
				args = []string{"plan"}
			}
			_, stderr, code := runCLI(t, append(args, "-c", dir)...)
			got := normalizeMistake(stderr, dir, kb, es, down)
			if code != 1 || got != tt.want {
				t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", code, got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

var lockHolderRE = regexp.MustCompile(`held by \S+ pid \d+ \(fleetform apply\) since [^\s,;)]+`)

var renewedRE = regexp.MustCompile(`last renewed [^\s,;)]+`)

func normalizeMistake(s, dir, kb, es, down string) string {
	s = strings.ReplaceAll(s, dir, "DIR")
	s = strings.ReplaceAll(s, kb, "KIBANA")
	s = strings.ReplaceAll(s, es, "ES")
	s = strings.ReplaceAll(s, down, "DOWN")
	s = strings.ReplaceAll(s, strings.TrimPrefix(down, "http://"), "DOWNHOST")
	s = lockHolderRE.ReplaceAllString(s, "held by HOST pid PID (fleetform apply) since TIME")
	return renewedRE.ReplaceAllString(s, "last renewed TIME")
}

// closedPortURL is the URL of a loopback port nothing listens on.
func closedPortURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}
