// Package secret holds credential values in a type that redacts itself on
// every generic print path (fmt verbs, slog, encoding/json), so a token can
// travel through fleetform without ever reaching a log, plan or file by
// accident. Only Reveal returns the value; only code that sends it over the
// wire may call it.
package secret

import (
	"fmt"
	"log/slog"
)

// Redacted is what every print path shows instead of a secret value.
const Redacted = "(sensitive)"

// Value is a credential. The zero Value is empty.
type Value struct {
	v string
}

// New wraps s as a secret Value.
func New(s string) Value { return Value{v: s} }

// Reveal returns the plain value. Call it only where the value is sent to an API.
func (s Value) Reveal() string { return s.v }

// IsZero reports whether the value is empty.
func (s Value) IsZero() bool { return s.v == "" }

// Equal compares two values in constant time with respect to their contents.
func (s Value) Equal(o Value) bool { return constantTimeEqual(s.v, o.v) }

func (Value) String() string   { return Redacted }
func (Value) GoString() string { return Redacted }

// Format makes every fmt verb (%v %s %q %x %X %d …) print the mask.
func (Value) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", Redacted)
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

func (Value) LogValue() slog.Value         { return slog.StringValue(Redacted) }
func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }
func (Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := 0; i < len(a); i++ {
		d |= a[i] ^ b[i]
	}
	return d == 0
}
