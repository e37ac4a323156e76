package secret

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const plain = "s3cr3t-t0ken-VALUE"

// Every generic print path shows the mask and never the value: fmt verbs on
// the value, on a pointer, inside structs (by value and by pointer), maps and
// slices, slog's JSON and text handlers, and encoding/json.
func TestValue_NeverPrintsTheSecret(t *testing.T) {
	v := New(plain)
	type holder struct {
		Name  string
		Token Value
		Ptr   *Value
	}
	h := holder{Name: "out", Token: v, Ptr: &v}
	type jsonHolder struct {
		Token Value            `json:"token"`
		Ptr   *Value           `json:"ptr"`
		Map   map[string]Value `json:"map"`
	}

	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%T"} {
		outputs = append(outputs,
			fmt.Sprintf(verb, v),
			fmt.Sprintf(verb, &v),
			fmt.Sprintf(verb, h),
			fmt.Sprintf(verb, &h),
			fmt.Sprintf(verb, []Value{v}),
			fmt.Sprintf(verb, map[string]Value{"k": v}),
		)
	}
	outputs = append(outputs, fmt.Sprint(v), fmt.Sprintln(v, h), v.String(), v.GoString())

	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(newHandler(&buf))
		log.Info("token", "token", v, "ptr", &v, "holder", h, "any", any(v))
		log.With("token", v).Info("with")
		log.Info("group", slog.Group("g", "token", v))
		outputs = append(outputs, buf.String())
		if !strings.Contains(buf.String(), Redacted) {
			t.Errorf("slog output lacks the mask: %s", buf.String())
		}
	}

	for _, x := range []any{v, &v, h, jsonHolder{Token: v, Ptr: &v, Map: map[string]Value{"k": v}}} {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatalf("json.Marshal(%T): %v", x, err)
		}
		outputs = append(outputs, string(b))
		if !strings.Contains(string(b), Redacted) {
			t.Errorf("json of %T lacks the mask: %s", x, b)
		}
	}
	b, err := v.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(b))

	hexPlain := fmt.Sprintf("%x", plain)
	for _, out := range outputs {
		if strings.Contains(out, plain) || strings.Contains(strings.ToLower(out), hexPlain) {
			t.Errorf("secret leaked: %s", out)
		}
	}
	for _, verb := range []string{"%v", "%s", "%#v", "%x"} {
		if got := fmt.Sprintf(verb, v); got != Redacted {
			t.Errorf("Sprintf(%q) = %q, want %q", verb, got, Redacted)
		}
	}
	if got := fmt.Sprintf("%q", v); got != `"`+Redacted+`"` {
		t.Errorf(`Sprintf("%%q") = %s`, got)
	}
}

func TestValue_RevealEqualIsZero(t *testing.T) {
	v := New(plain)
	if v.Reveal() != plain {
		t.Errorf("Reveal = %q", v.Reveal())
	}
	if v.IsZero() || !(Value{}).IsZero() || !New("").IsZero() {
		t.Error("IsZero wrong")
	}
	tests := []struct {
		a, b Value
		want bool
	}{
		{New("a"), New("a"), true},
		{New("a"), New("b"), false},
		{New("a"), New("ab"), false},
		{Value{}, New(""), true},
	}
	for _, tt := range tests {
		if got := tt.a.Equal(tt.b); got != tt.want {
			t.Errorf("Equal(%d bytes, %d bytes) = %v, want %v", len(tt.a.Reveal()), len(tt.b.Reveal()), got, tt.want)
		}
	}
}
