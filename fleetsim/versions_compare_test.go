package fleetsim

import "testing"

// compareVersions orders release versions field by field, a missing field
// as 0, and a pre-release below its release.
func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"8.19.0", "8.19.0", 0},
		{"8.19", "8.19.0", 0},
		{"8.9.0", "8.10.0", -1},
		{"9.0.0", "8.19.9", 1},
		{"9.1.0-SNAPSHOT", "9.1.0", -1},
		{"9.1.0", "9.1.0-SNAPSHOT", 1},
		{"9.1.0-alpha", "9.1.0-beta", -1},
		{"10.0.0", "9.99.99", 1},
		{"1.60.0", "1.6.0", 1},
	} {
		if got := compareVersions(c.a, c.b); got != c.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func BenchmarkCompareVersions(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		compareVersions("8.19.5", "9.1.0")
	}
}
