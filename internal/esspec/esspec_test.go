package esspec

import (
	"net/url"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	s := Load(t)
	for _, tc := range []struct {
		method, target string
		wantErr        string // "" for valid
	}{
		{"GET", "/", ""},
		{"POST", "/fleetform-state/_pit?keep_alive=1m", ""},
		{"POST", "/fleetform-state/_pit", `required query parameter "keep_alive"`},
		{"DELETE", "/_pit", ""},
		{"POST", "/_search?seq_no_primary_term=true", ""},
		{"POST", "/_search?seq_no_primary_term=yes", "is not a boolean"},
		{"POST", "/x/_search?bogus=1", `unknown query parameter "bogus"`},
		{"PUT", "/x/_doc/1?refresh=wait_for&if_seq_no=1&if_primary_term=1", ""},
		{"PUT", "/x/_doc/1?refresh=soon", `is not one of`},
		{"PATCH", "/x/_doc/1", "the spec allows only"},
		{"GET", "/x/_nothing/here/at/all", "no API"},
		{"GET", "/x?expand_wildcards=all", ""},
		{"DELETE", "/_security/api_key", ""}, // literal segments win over /{index}/{…}
	} {
		u, err := url.Parse(tc.target)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Check(tc.method, u.EscapedPath(), u.Query())
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s %s: %v", tc.method, tc.target, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s %s: err = %v, want %q", tc.method, tc.target, err, tc.wantErr)
		}
	}
}

// stopTB records how a test would have stopped.
type stopTB struct {
	testing.TB
	fatal, skip string
}

func (s *stopTB) Helper()           {}
func (s *stopTB) Fatal(args ...any) { s.fatal = args[0].(string) }
func (s *stopTB) Skip(args ...any)  { s.skip = args[0].(string) }

// TestLoad_MissingSpecsFailUnderCI: a moved spec folder must not turn the
// contract tests off in CI; locally they skip and say how to restore it.
func TestLoad_MissingSpecsFailUnderCI(t *testing.T) {
	empty := t.TempDir()
	for _, ci := range []string{"true", ""} {
		t.Setenv("CI", ci)
		tb := &stopTB{TB: t}
		if s := load(tb, empty); s != nil {
			t.Fatalf("CI=%q: specs loaded from an empty folder", ci)
		}
		got := tb.skip
		if ci == "true" {
			got = tb.fatal
			if tb.skip != "" {
				t.Errorf("CI=true skipped: %s", tb.skip)
			}
		} else if tb.fatal != "" {
			t.Errorf("CI unset failed: %s", tb.fatal)
		}
		if !strings.Contains(got, "git checkout -- testdata/es-rest-api-spec") {
			t.Errorf("CI=%q: message %q does not say how to restore the specs", ci, got)
		}
	}
}
