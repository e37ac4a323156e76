package reconciler

import (
	"strings"
	"testing"
)

func TestSpaceWarning(t *testing.T) {
	for _, c := range []struct {
		space, version string
		warn           bool
	}{
		{"", "9.0.0", false},
		{"team-a", "", false},
		{"team-a", "9.0.3", true},
		{"team-a", "8.19.0", true},
		{"team-a", "9.1.0", false},
		{"team-a", "9.1.0-SNAPSHOT", false},
		{"team-a", "9.3.0", false},
	} {
		w := spaceWarning(c.space, c.version)
		if got := w != ""; got != c.warn || c.warn && !strings.Contains(w, `"team-a"`) {
			t.Errorf("spaceWarning(%q, %q) = %q", c.space, c.version, w)
		}
	}
}
