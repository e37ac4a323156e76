package kversion

import "testing"

func TestGate_HasByReleaseLine(t *testing.T) {
	tests := []struct {
		gate Gate
		v    string
		want bool
	}{
		// A one-line gate is the plain comparison it always was.
		{"9.1.0", "9.0.3", false},
		{"9.1.0", "9.1.0", true},
		{"9.1.0", "9.2.4", true},
		{"9.1.0", "10.0.0", true},
		{"9.1.0", "8.19.5", false},
		{"8.16.0", "8.19.0", true},
		{"8.16.0", "8.15.9", false},
		// Backported to 8.19 from 8.19.0, new on the 9 line in 9.1.0.
		{"8.19.0 9.1.0", "8.18.8", false},
		{"8.19.0 9.1.0", "8.19.0", true},
		{"8.19.0 9.1.0", "8.19.5", true},
		{"8.19.0 9.1.0", "9.0.0", false},
		{"8.19.0 9.1.0", "9.0.3", false},
		{"8.19.0 9.1.0", "9.1.0", true},
		{"8.19.0 9.1.0", "9.3.2", true},
		// A backport from a later patch of its line.
		{"8.19.1 9.1.0", "8.19.0", false},
		{"8.19.1 9.1.0", "8.19.1", true},
		// 9.0 had it from 9.0.0; 8.19 got it backported, 8.18 did not.
		{"8.19.0 9.0.0", "8.18.3", false},
		{"8.19.0 9.0.0", "8.19.2", true},
		{"8.19.0 9.0.0", "9.0.0", true},
		// Several backported lines.
		{"8.18.4 8.19.0 9.0.4 9.1.0", "8.17.9", false},
		{"8.18.4 8.19.0 9.0.4 9.1.0", "8.18.3", false},
		{"8.18.4 8.19.0 9.0.4 9.1.0", "8.18.4", true},
		{"8.18.4 8.19.0 9.0.4 9.1.0", "9.0.3", false},
		{"8.18.4 8.19.0 9.0.4 9.1.0", "9.0.4", true},
		// A snapshot has its version's features; garbage has none.
		{"8.19.0 9.1.0", "8.19.0-SNAPSHOT", true},
		{"9.1.0", "9.1.0-SNAPSHOT", true},
		{"9.1.0", "9.0.0-SNAPSHOT", false},
		{"9.1.0", "", false},
		{"9.1.0", "nine", false},
	}
	for _, tt := range tests {
		if got := tt.gate.Has(tt.v); got != tt.want {
			t.Errorf("Gate(%q).Has(%q) = %v, want %v", tt.gate, tt.v, got, tt.want)
		}
	}
}

func TestGate_StringAndSince(t *testing.T) {
	tests := []struct {
		gate       Gate
		str, since string
	}{
		{"9.1.0", "9.1.0", "9.1.0"},
		{"8.19.0 9.1.0", "9.1.0, or 8.19.0+ on 8.19", "9.1.0"},
		{"8.19.1 9.1.0", "9.1.0, or 8.19.1+ on 8.19", "9.1.0"},
		{"8.18.4 8.19.0 9.0.4 9.1.0", "9.1.0, or 9.0.4+ on 9.0, or 8.19.0+ on 8.19, or 8.18.4+ on 8.18", "9.1.0"},
	}
	for _, tt := range tests {
		if got := tt.gate.String(); got != tt.str {
			t.Errorf("Gate(%q).String() = %q, want %q", tt.gate, got, tt.str)
		}
		if got := tt.gate.Since(); got != tt.since {
			t.Errorf("Gate(%q).Since() = %q, want %q", tt.gate, got, tt.since)
		}
	}
}

func TestGate_Validate(t *testing.T) {
	for _, g := range []Gate{"9.1.0", "8.19.0 9.1.0", "8.18.4 8.19.0 9.0.4 9.1.0"} {
		if err := g.Validate(); err != nil {
			t.Errorf("Validate(%q) = %v", g, err)
		}
	}
	for _, g := range []Gate{"", "9.1", "9.1.0 8.19.0", "8.19.0 8.19.2", "9.1.0-SNAPSHOT", "v9.1.0"} {
		if err := g.Validate(); err == nil {
			t.Errorf("Validate(%q) = nil, want an error", g)
		}
	}
}
