package schema

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// secretMarkerRE finds the values the corpus writes where a secret does not
// belong: every such value starts with Hunter2 or Secret.
var secretMarkerRE = regexp.MustCompile(`(?:Hunter2|Secret)[A-Za-z0-9=]*`)

// A secret written in the wrong place (in a URL, as a reference's variable
// name or key, as a variable in clear text) is named by its field, never
// repeated: issues are printed, logged and posted as CI annotations.
func TestIssuesNeverRepeatSecrets(t *testing.T) {
	for _, name := range []string{"url-credentials.bad.yaml", "secret-ref-values.bad.yaml", "vars.bad.yaml"} {
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join(corpusDir, name))
			if err != nil {
				t.Fatal(err)
			}
			secrets := secretMarkerRE.FindAllString(string(src), -1)
			if len(secrets) < 3 {
				t.Fatalf("only %d secret markers in %s", len(secrets), name)
			}
			_, err = LoadFiles(t.Context(), os.DirFS(corpusDir), name)
			var issues Issues
			if !errors.As(err, &issues) {
				t.Fatalf("want Issues, got %v", err)
			}
			flagged := map[string]bool{} // every secret is reported at its place
			for _, is := range issues {
				text := is.String()
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("issue repeats the secret %q:\n%s", s, text)
					}
				}
				flagged[is.Pointer] = true
			}
			if len(flagged) < len(secrets)-1 { // two secrets may share an object
				t.Errorf("%d secrets, issues at %d places:\n%v", len(secrets), len(flagged), issues)
			}
		})
	}
}

func TestRedactCredentials(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://elastic:pw@es:9200/x?y", "https://elastic:***@es:9200/x?y"},
		{"https://token@es:9200", "https://***@es:9200"},
		{"htp://u:p:q@[::1", "htp://u:***@[::1"},
		{"u:p@host:9092", "u:***@host:9092"},
		{"https://es:9200/a@b", "https://es:9200/a@b"},
		{"https://es:9200", "https://es:9200"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redactCredentials(tt.in); got != tt.want {
			t.Errorf("redactCredentials(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Variables whose name says they are secret; the rest are left alone (a
// token_url is a URL, enabled_token a switch).
func TestSecretVarName(t *testing.T) {
	for name, want := range map[string]bool{
		"password": true, "api_key": true, "client_secret": true, "access_token": true,
		"secret_access_key": true, "ssl.private_key": true, "apikey": true, "Password": true,
		"token_url": false, "username": false, "password_file_path": false, "period": false,
		"hosts": false, "secret_name": false, "": false,
	} {
		if got := SecretVarName(name); got != want {
			t.Errorf("SecretVarName(%q) = %v, want %v", name, got, want)
		}
	}
}

// Near misses: one edit, a swap counting as one; two edits only for longer
// words.
func TestSuggest(t *testing.T) {
	keys := []string{"id", "name", "hosts", "host_urls", "env", "file", "generate", "proxy_headers"}
	for in, want := range map[string]string{
		"hostz": "hosts", "evn": "env", "nme": "name", "bad": "", "hosts_urls": "host_urls",
		"proxy_header": "proxy_headers", "proxy_headrs": "proxy_headers", "generat": "generate", "x": "",
	} {
		if got := suggest(in, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
	if got := editDistance("evn", "env"); got != 1 {
		t.Errorf("editDistance(evn, env) = %d, want 1 (a swap)", got)
	}
}

// A UTF-16 file with its byte order mark is YAML the parser reads; only
// other bytes that are not UTF-8 are refused.
func TestLoad_UTF16WithBOMIsRead(t *testing.T) {
	text := "proxies:\n  - {id: p, name: p, url: \"http://proxy.example:3128\"}\n"
	b := []byte{0xFF, 0xFE}
	for _, r := range text {
		b = append(b, byte(r), 0)
	}
	_, err := LoadFiles(t.Context(), fstest.MapFS{"u.yaml": {Data: b}}, "u.yaml")
	var issues Issues
	if !errors.As(err, &issues) || len(issues) != 1 || !strings.Contains(issues[0].Message, "clusters is not defined") {
		t.Fatalf("want only the missing clusters, got %v", err)
	}
}
