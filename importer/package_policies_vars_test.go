package importer

import "testing"

// An integration policy variable is imported as a reference when Kibana
// holds it as a secret, and when its name says it is one but Kibana answers
// its value in clear text (a package version that does not mark it
// secret: true): such a value must not be written to Git, and validate
// refuses it there (schema.SecretVarName).
func TestVarIsSecret(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    any
		want bool
	}{
		{"password", map[string]any{"isSecretRef": true, "id": "s1"}, true},
		{"url", map[string]any{"isSecretRef": true, "id": "s1"}, true},
		{"password", "hunter2", true},
		{"client_secret", "abc", true},
		{"api_key", []any{"k1"}, true},
		{"password", "", false},
		{"api_key", []any{}, false},
		{"username", "elastic", false},
		{"ssl.verification_mode", "full", false},
		{"headers", map[string]any{"a": "b"}, false},
		{"token_url", "https://idp.example/token", false},
		{"use_api_key", true, false},
	} {
		if got := varIsSecret(tc.name, tc.v); got != tc.want {
			t.Errorf("varIsSecret(%q, %v) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
}
