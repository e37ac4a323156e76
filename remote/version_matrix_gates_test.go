package remote

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/fleetform/fleetform/internal/kversion"
)

// matrixGateSources are the files whose version gates the matrix reads:
// fleetsim's (what the simulated Kibana accepts), the reconciler's (what
// the main cluster's plan blocks) and this package's (what the remote
// side's plan blocks).
var matrixGateSources = []string{
	"../fleetsim/*.go",
	"../reconciler/version*.go",
	"../reconciler/licence.go",
	"version*.go",
}

// semverLit matches a release version, or a kversion.Gate's versions, in a
// Go string literal (as reconciler/version_matrix_test.go reads them).
var semverLit = regexp.MustCompile(`^"\d+\.\d+\.\d+( \d+\.\d+\.\d+)*"$`)

// matrixGates reads the named version gates of the sources: a constant or
// variable whose value is a version literal, or a composite literal
// holding one (a reconciler feature{…}: its since), by name. It is the
// gate reader of reconciler/version_matrix_test.go keyed by name, so that
// the matrix picks the gates of the remote side by name and fails when one
// of them is no longer found.
func matrixGates(t *testing.T) map[string]kversion.Gate {
	t.Helper()
	var files []string
	for _, pat := range matrixGateSources {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	gates := map[string]kversion.Gate{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		version := func(e ast.Expr) (kversion.Gate, bool) {
			if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING && semverLit.MatchString(lit.Value) {
				v, _ := strconv.Unquote(lit.Value)
				return kversion.Gate(v), true
			}
			return "", false
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range spec.Names {
				if i >= len(spec.Values) {
					continue
				}
				if g, ok := version(spec.Values[i]); ok {
					gates[id.Name] = g
					continue
				}
				if cl, ok := spec.Values[i].(*ast.CompositeLit); ok {
					for _, e := range cl.Elts {
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							e = kv.Value
						}
						if g, ok := version(e); ok {
							gates[id.Name] = g
							break
						}
					}
				}
			}
			return true
		})
	}
	return gates
}

// remoteSideGates are the gates that matter to a remote_elasticsearch
// output and its remote, by the name the code gives them, and on which
// cluster the matrix straddles each.
var remoteSideGates = []struct {
	name         string
	main, remote bool
}{
	// The output type (reconciler featRemoteES, fleetsim versionRemoteES).
	{"featRemoteES", true, false},
	{"versionRemoteES", true, false},
	// secrets.service_token (featSecrets, versionOutputSecrets).
	{"featSecrets", true, false},
	{"versionOutputSecrets", true, false},
	// The sync fields of the main output, refused below an Enterprise
	// licence from then on (output.ts canEnableSyncIntegrations).
	{"featSyncIntegrations", true, false},
	{"featSyncUninstalled", true, false},
	{"featKibanaURL", true, false},
	{"featKibanaAPIKey", true, false},
	{"versionRemoteSync", true, true},
	// The remote's sync task (version.go).
	{"SyncTaskSince", false, true},
	// The remote's Elasticsearch: elastic/fleet-server-remote, whose tokens
	// fleetform mints for a generated service token (version.go).
	{"ServiceTokenESSince", false, true},
	// The newest version.
	{"DefaultVersion", true, true},
}

// lastMinor is the last minor release of a major line.
var lastMinor = map[int]int{7: 17, 8: 19}

// belowGate returns the releases just below version g: the previous patch,
// the last patch (taken as .9) of the previous minor, or, below x.0.0, the
// last two minors of the previous major; and, for a gate on a 9.x line
// that did not reach 8.19 (docs/fleetsim-inferred.md 58), the 8.19 line,
// which is numerically below it and lacks it as well.
func belowGate(g kversion.Gate, v string) []string {
	var x, y, z int
	if _, err := fmt.Sscanf(v, "%d.%d.%d", &x, &y, &z); err != nil {
		return nil
	}
	var out []string
	switch {
	case z > 0:
		out = []string{fmt.Sprintf("%d.%d.%d", x, y, z-1)}
	case y > 0:
		out = []string{fmt.Sprintf("%d.%d.9", x, y-1)}
	default:
		last := lastMinor[x-1]
		out = []string{fmt.Sprintf("%d.%d.9", x-1, last-1), fmt.Sprintf("%d.%d.9", x-1, last)}
	}
	if x >= 9 && !g.Has("8.19.9") {
		out = append(out, "8.19.9")
	}
	return out
}

// matrixSides are the main and the remote versions of the matrix: every
// gate of remoteSideGates on its side and the versions just below it (not
// below the newest version, which is no gate).
func matrixSides(t *testing.T) (mainVersions, remoteVersions []string) {
	gates := matrixGates(t)
	add := func(vs *[]string, v string) {
		if !slices.Contains(*vs, v) {
			*vs = append(*vs, v)
		}
	}
	for _, want := range remoteSideGates {
		g, ok := gates[want.name]
		if !ok {
			t.Fatalf("gate %s is not found in %v (moved or renamed? the matrix picks its rows by it)", want.name, matrixGateSources)
		}
		var vs []string
		for _, v := range g.Versions() {
			if want.name != "DefaultVersion" {
				vs = append(vs, belowGate(g, v)...)
			}
			vs = append(vs, v)
		}
		for _, v := range vs {
			if want.main {
				add(&mainVersions, v)
			}
			if want.remote {
				add(&remoteVersions, v)
			}
		}
	}
	slices.SortFunc(mainVersions, compareVersions)
	slices.SortFunc(remoteVersions, compareVersions)
	return mainVersions, remoteVersions
}
