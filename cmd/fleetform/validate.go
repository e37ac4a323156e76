package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/fleetform/fleetform/schema"
)

// validateResult is the outcome for one PATH.
type validateResult struct {
	Path    string         `json:"path"`
	Valid   bool           `json:"valid"`
	Issues  []schema.Issue `json:"issues,omitempty"`
	Error   string         `json:"error,omitempty"` // not a document problem: unreadable path, no YAML files
	Summary *docSummary    `json:"summary,omitempty"`
}

type docSummary struct {
	Outputs          int `json:"outputs"`
	AgentPolicies    int `json:"agent_policies"`
	Packages         int `json:"packages"`
	Remotes          int `json:"remotes"`
	PackagePolicies  int `json:"package_policies,omitempty"`
	FleetServerHosts int `json:"fleet_server_hosts,omitempty"`
	Proxies          int `json:"proxies,omitempty"`
	DownloadSources  int `json:"download_sources,omitempty"`
}

// runValidate implements "fleetform validate [--format text|json|github] [-c DIR] [--pre-commit] [PATH…]".
// Each PATH (default ".") is a directory of YAML files merged into one
// document, or a single file; -c DIR is one more PATH. Nothing is contacted
// and no secret is read. Exit 0 when every PATH is valid, else 1.
func setupValidate(fs *pflag.FlagSet) runFunc {
	var format, dir string
	bindFormat(fs, &format, "output `format`: text, json or github (GitHub Actions annotations)")
	preCommit := fs.Bool("pre-commit", false, "PATHs are the changed files a pre-commit hook passes: validate the -c directory once when one of them is part of it")
	bindConfigDir(fs, &dir)
	return func(ctx context.Context, paths []string, stdout, stderr io.Writer) error {
		return runValidate(ctx, validateOptions{format: format, dir: dir, dirSet: fs.Changed("config"), preCommit: *preCommit}, paths, stdout, stderr)
	}
}

// validateOptions are validate's flags.
type validateOptions struct {
	format, dir string
	dirSet      bool // -c was given
	preCommit   bool
}

func runValidate(ctx context.Context, o validateOptions, paths []string, stdout, stderr io.Writer) error {
	format, dir := &o.format, o.dir
	var err error
	if o.preCommit {
		if paths, err = preCommitPaths(dir, paths); err != nil {
			return err
		}
		if len(paths) == 0 {
			fmt.Fprintf(stdout, "%s: no fleetform file among the changed files\n", dir)
			return nil
		}
	} else if o.dirSet {
		paths = append(paths, dir) // -c DIR, as for plan and apply
	}
	switch *format {
	case "text", "json", "github":
	default:
		return fmt.Errorf("unknown --format %q (want text, json or github)", *format)
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	results := make([]validateResult, 0, len(paths))
	valid := true
	for _, p := range paths {
		r := validatePath(ctx, p)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		valid = valid && r.Valid
		results = append(results, r)
	}
	switch *format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Valid   bool             `json:"valid"`
			Results []validateResult `json:"results"`
		}{valid, results}); err != nil {
			return err
		}
	case "github":
		writeGitHub(stdout, results)
	default:
		writeText(stdout, stderr, results)
	}
	if !valid {
		return fmt.Errorf("%w: invalid desired state", errReported)
	}
	return nil
}

// preCommitPaths turns the file list a pre-commit hook passes into the
// paths to validate: the repository directory dir, once, when one of the
// changed files is among the files it loads; nothing otherwise. A split
// repository is only valid as a whole (a policy in one file names an output
// in another), so the files are never validated one by one.
func preCommitPaths(dir string, changed []string) ([]string, error) {
	files, err := schema.Files(dir)
	if err != nil {
		return nil, err
	}
	ours := map[string]bool{}
	for _, f := range files {
		ours[filepath.Clean(f)] = true
	}
	for _, c := range changed {
		if ours[filepath.Clean(c)] {
			return []string{dir}, nil
		}
	}
	return nil, nil
}

func validatePath(ctx context.Context, p string) validateResult {
	r := validateResult{Path: p}
	st, err := os.Stat(p)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	var doc *schema.Document
	if st.IsDir() {
		doc, err = schema.LoadDir(ctx, p)
	} else {
		doc, err = schema.LoadPaths(ctx, p)
	}
	var issues schema.Issues
	switch {
	case errors.As(err, &issues):
		r.Issues = withoutCascades(issues) // a misspelt key is one problem, not two
	case err != nil:
		r.Error = err.Error()
	default:
		r.Valid = true
		r.Summary = &docSummary{
			Outputs:       len(doc.Outputs),
			AgentPolicies: len(doc.AgentPolicies),
			Packages:      len(doc.Packages),
			Remotes:       len(doc.Clusters.Remotes),

			PackagePolicies:  len(doc.PackagePolicies),
			FleetServerHosts: len(doc.FleetServerHosts),
			Proxies:          len(doc.Proxies),
			DownloadSources:  len(doc.DownloadSources),
		}
	}
	return r
}

func writeText(stdout, stderr io.Writer, results []validateResult) {
	for _, r := range results {
		switch {
		case r.Error != "":
			fmt.Fprintf(stderr, "fleetform validate: %s\n", r.Error)
		case !r.Valid:
			for _, i := range r.Issues {
				// As plan and apply print them: with the near miss of
				// an enum value and the hint of the common mistakes.
				fmt.Fprintln(stdout, withHint(i, "  "))
			}
			fmt.Fprintf(stdout, "%s: %d %s\n", r.Path, len(r.Issues), plural(len(r.Issues), "problem", "problems"))
		default:
			s := r.Summary
			counts := []string{
				count(s.Outputs, "output", "outputs"),
				count(s.AgentPolicies, "agent policy", "agent policies"),
				count(s.Packages, "package", "packages"),
				count(s.Remotes, "remote", "remotes"),
			}
			// The newer kinds are named only when the document has them.
			for _, c := range []struct {
				n         int
				one, many string
			}{
				{s.PackagePolicies, "integration policy", "integration policies"},
				{s.FleetServerHosts, "Fleet Server host", "Fleet Server hosts"},
				{s.Proxies, "proxy", "proxies"},
				{s.DownloadSources, "download source", "download sources"},
			} {
				if c.n > 0 {
					counts = append(counts, count(c.n, c.one, c.many))
				}
			}
			fmt.Fprintf(stdout, "%s: valid (%s)\n", r.Path, strings.Join(counts, ", "))
		}
	}
}

func count(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, plural(n, one, many))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// writeGitHub prints GitHub Actions workflow commands, one ::error per issue.
func writeGitHub(w io.Writer, results []validateResult) {
	for _, r := range results {
		switch {
		case r.Error != "":
			fmt.Fprintf(w, "::error title=fleetform validate::%s\n", escapeData(r.Error))
		case !r.Valid:
			for _, i := range r.Issues {
				fmt.Fprintf(w, "::error file=%s,line=%d,col=%d,title=fleetform validate::%s\n",
					escapeProperty(annotationPath(i.File)), i.Line, i.Col, escapeData(pointerOrRoot(i.Pointer)+": "+i.Message))
			}
		default:
			fmt.Fprintf(w, "%s: valid\n", r.Path)
		}
	}
}

// annotationPath is file as GitHub places annotations: relative to the
// repository root ($GITHUB_WORKSPACE) with forward slashes, so that an
// annotation lands on the pull request's diff even when validate runs in a
// subdirectory (working-directory:) or is given an absolute path.
func annotationPath(file string) string {
	if ws := os.Getenv("GITHUB_WORKSPACE"); ws != "" {
		if abs, err := filepath.Abs(file); err == nil {
			if rel, err := filepath.Rel(ws, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				return filepath.ToSlash(rel)
			}
		}
	}
	return filepath.ToSlash(file)
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// escapeData and escapeProperty follow the GitHub Actions toolkit's
// escaping of workflow command messages and properties.
func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
