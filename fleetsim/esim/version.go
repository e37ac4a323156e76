package esim

import (
	"strconv"
	"strings"
)

// versionAtLeast reports whether stack version v is min or later. A
// pre-release or snapshot of a version (8.12.0-SNAPSHOT) has that
// version's features, as the build it comes from does.
func versionAtLeast(v, min string) bool {
	a, _, _ := strings.Cut(v, "-")
	b, _, _ := strings.Cut(min, "-")
	for a != "" || b != "" {
		var fa, fb string
		fa, a, _ = strings.Cut(a, ".")
		fb, b, _ = strings.Cut(b, ".")
		x, _ := strconv.Atoi(fa)
		y, _ := strconv.Atoi(fb)
		if x != y {
			return x > y
		}
	}
	return true
}
