package schema

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/secret"
)

func TestSecretRef_Resolve(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv("FLEETFORM_TEST_TOKEN", "tok-from-env")
	t.Setenv("FLEETFORM_TEST_EMPTY", "")
	tests := []struct {
		name    string
		ref     SecretRef
		want    string
		wantErr string // substring
		is      error
	}{
		{"env", SecretRef{Env: "FLEETFORM_TEST_TOKEN"}, "tok-from-env", "", nil},
		{"env unset", SecretRef{Env: "FLEETFORM_TEST_UNSET_VAR"}, "", "env:FLEETFORM_TEST_UNSET_VAR: environment variable FLEETFORM_TEST_UNSET_VAR is not set", nil},
		{"env empty", SecretRef{Env: "FLEETFORM_TEST_EMPTY"}, "", "is empty", nil},
		{"file trailing newline trimmed", SecretRef{File: write("a", "tok-from-file\n")}, "tok-from-file", "", nil},
		{"file CRLF trimmed", SecretRef{File: write("b", "tok\r\n")}, "tok", "", nil},
		{"file inner newlines kept", SecretRef{File: write("c", "line1\nline2\n\n")}, "line1\nline2\n", "", nil},
		{"file missing", SecretRef{File: filepath.Join(dir, "missing")}, "", "no such file", os.ErrNotExist},
		{"file empty", SecretRef{File: write("d", "\n")}, "", "file is empty", nil},
		{"generate", SecretRef{Generate: true}, "", "generate", ErrGenerated},
		{"empty ref", SecretRef{}, "", "empty secret reference", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.ref.Resolve(t.Context())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("err = %v, want errors.Is %v", err, tt.is)
				}
				if !v.IsZero() {
					t.Error("value must be zero on error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.Reveal() != tt.want {
				t.Errorf("value = %q, want %q", v.Reveal(), tt.want)
			}
		})
	}
}

func TestSecretRef_ResolveErrorsNeverHoldTheValue(t *testing.T) {
	// A file that exists but is unreadable as a file (a directory) must not
	// leak anything; an empty env var names only the variable.
	t.Setenv("FLEETFORM_TEST_SECRET", "hunter2")
	ref := SecretRef{Env: "FLEETFORM_TEST_SECRET"}
	v, err := ref.Resolve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := ref.Describe(); strings.Contains(got, "hunter2") {
		t.Errorf("Describe leaks: %s", got)
	}
	if _, err := (SecretRef{File: t.TempDir()}).Resolve(t.Context()); err == nil {
		t.Error("reading a directory must fail")
	}
	var _ secret.Value = v
}

func TestSecretRef_ResolveCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := (SecretRef{Env: "PATH"}).Resolve(ctx); err == nil {
		t.Fatal("want the context error")
	}
}

func TestSecretRef_DescribeAndIsGenerate(t *testing.T) {
	tests := []struct {
		ref      *SecretRef
		describe string
		generate bool
	}{
		{&SecretRef{Env: "A"}, "env:A", false},
		{&SecretRef{File: "/run/secrets/x"}, "file:/run/secrets/x", false},
		{&SecretRef{Generate: true}, "generate", true},
		{&SecretRef{}, "(none)", false},
	}
	for _, tt := range tests {
		if got := tt.ref.Describe(); got != tt.describe {
			t.Errorf("Describe = %q, want %q", got, tt.describe)
		}
		if got := tt.ref.IsGenerate(); got != tt.generate {
			t.Errorf("%s: IsGenerate = %v", tt.describe, got)
		}
	}
	var nilRef *SecretRef
	if nilRef.IsGenerate() {
		t.Error("nil ref must not be generate")
	}
}

func TestDocument_SecretFields(t *testing.T) {
	doc, err := LoadDir(t.Context(), "../examples/two-cluster")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range doc.SecretFields() {
		got = append(got, f.Pointer+"="+f.Ref.Describe())
	}
	want := []string{
		"/clusters/main/kibana/auth/basic/password=env:MAIN_ELASTIC_PASSWORD",
		"/clusters/main/elasticsearch/auth/basic/password=env:MAIN_ELASTIC_PASSWORD",
		"/clusters/remotes/0/kibana/auth/basic/password=env:WEST_ELASTIC_PASSWORD",
		"/clusters/remotes/0/elasticsearch/auth/basic/password=env:WEST_ELASTIC_PASSWORD",
		"/outputs/0/kibana_api_key=generate",
		"/outputs/0/secrets/service_token=generate",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("SecretFields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
