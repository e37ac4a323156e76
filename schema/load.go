package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"
)

// ErrNoFiles is returned (wrapped) when a directory holds no YAML file.
var ErrNoFiles = errors.New("no *.yaml or *.yml files")

// MaxFileSize is the largest YAML file Load reads.
const MaxFileSize = 4 << 20

// MaxFiles is the most YAML files a directory of Load may hold; past it the
// directory is not taken for a fleetform repository (ErrNotRepository).
const MaxFiles = 2000

// Load reads every *.yaml and *.yml file under root in fsys (directories whose
// name starts with "." are skipped), merges them into one Document and
// validates it: strict decoding (unknown keys are errors), fleet.schema.json,
// then fleetform's semantic rules. outputs, agent_policies and packages of
// all files are concatenated in file-name order; clusters must be defined in
// exactly one file.
//
// When the document is invalid, Load returns a nil Document and an error of
// type Issues that lists every problem, sorted; Issue.File is the file's path
// in fsys. Other errors (unreadable files, no YAML at all) are returned as
// they are.
//
// Load fills one default: sync_via of a remote_elasticsearch output is "ccr"
// when not given. It never resolves secret references.
func Load(ctx context.Context, fsys fs.FS, root string) (*Document, error) {
	files, err := yamlFiles(fsys, root)
	if err != nil {
		return nil, err
	}
	return loadFiles(ctx, fsys, files, root, func(name string) string { return name })
}

// LoadDir is Load over a directory of the local file system. Issue.File is
// the file's path joined to dir as given (e.g. "fleet/outputs.yaml").
func LoadDir(ctx context.Context, dir string) (*Document, error) {
	fsys := os.DirFS(dir)
	files, err := yamlFiles(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return loadFiles(ctx, fsys, files, dir, func(name string) string { return filepath.Join(dir, filepath.FromSlash(name)) })
}

// Files lists the files LoadDir(dir) reads, each joined to dir as given.
func Files(dir string) ([]string, error) {
	files, err := yamlFiles(os.DirFS(dir), ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	for i, f := range files {
		files[i] = filepath.Join(dir, filepath.FromSlash(f))
	}
	return files, nil
}

// LoadFiles loads exactly the named files of fsys as one document, with the
// rules of Load.
func LoadFiles(ctx context.Context, fsys fs.FS, names ...string) (*Document, error) {
	return loadFiles(ctx, fsys, names, "", func(name string) string { return name })
}

// LoadPaths loads the named local files as one document; Issue.File is the
// path as given.
func LoadPaths(ctx context.Context, paths ...string) (*Document, error) {
	byName := map[string]string{}
	names := make([]string, 0, len(paths))
	for i, p := range paths {
		// A synthetic fs.FS name per path keeps the given spelling for messages.
		name := strconv.Itoa(i)
		byName[name] = p
		names = append(names, name)
	}
	return loadFiles(ctx, osPathFS(byName), names, "", func(name string) string { return byName[name] })
}

type osPathFS map[string]string

func (f osPathFS) Open(name string) (fs.File, error) {
	p, ok := f[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return os.Open(p)
}

func isYAMLName(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// yamlFiles lists the YAML files under root, sorted, skipping dot-directories.
func yamlFiles(fsys fs.FS, root string) ([]string, error) {
	root = path.Clean(root)
	var files []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if isYAMLName(p) && !strings.HasPrefix(d.Name(), ".") {
			files = append(files, p)
			if len(files) > MaxFiles {
				return fs.SkipAll
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) > MaxFiles {
		// A home directory or a source tree: stop before reading them all.
		return nil, fmt.Errorf("%w: more than %d YAML files under %s; run fleetform in the directory that holds your fleet's YAML, or name it with -c DIR", ErrNotRepository, MaxFiles, root)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w under %s", ErrNoFiles, root)
	}
	slices.Sort(files)
	return files, nil
}

// loadFiles parses, merges and validates; display maps an fs name to Issue.File.
// dirName is the directory as the caller named it when the files are a
// directory's listing (Load, LoadDir), and "" for an explicit list of files.
func loadFiles(ctx context.Context, fsys fs.FS, names []string, dirName string, display func(string) string) (*Document, error) {
	isDir := dirName != ""
	cs, err := compiled()
	if err != nil {
		return nil, err
	}
	var units []*unit
	var issues Issues   // problems reading and parsing
	incomplete := false // some file, or part of one, could not be read
	var repo []repoFile
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := readLimited(fsys, name)
		if err != nil {
			if errors.Is(err, errTooLarge) {
				issues = append(issues, Issue{File: display(name), Line: 1, Col: 1, Message: fmt.Sprintf("file larger than %d bytes", MaxFileSize)})
				incomplete = true
				repo = append(repo, repoFile{name: display(name), ours: true})
				continue
			}
			return nil, err
		}
		us, is, lost := parseFile(display(name), data)
		units = append(units, us...)
		issues = append(issues, is...)
		incomplete = incomplete || lost != lostNothing
		repo = append(repo, classify(display(name), data, us, lost))
	}
	if isDir {
		if err := checkRepository(dirName, repo); err != nil {
			return nil, err
		}
	}
	parseIssues := slices.Clone(issues)
	var schemaIssues []Issue
	for _, u := range units {
		schemaIssues = append(schemaIssues, cs.validate(u)...)
	}
	// A value the parser already refused (a merge key, .inf) is not
	// reported again as a schema problem.
	issues = append(issues, withoutDuplicates(schemaIssues, parseIssues)...)

	m := merge(units)
	m.firstFile = display(names[0])
	// When a file could not be parsed, clusters and the objects that
	// references point at may well be in it: say nothing about them.
	m.incomplete = incomplete
	m.unsure = unsureKinds(append(slices.Clone(parseIssues), schemaIssues...))
	if len(m.issues) > 0 {
		// clusters is defined twice: which remotes are meant is unknown.
		m.unsure["remotes"] = true
	}
	issues = append(issues, m.issues...)

	doc, decodeErr := m.decode()
	if decodeErr != nil && len(issues) == 0 {
		// The schema and the Go types disagree: a bug, but say where.
		issues = append(issues, Issue{File: display(names[0]), Line: 1, Col: 1, Message: "decoding: " + decodeErr.Error()})
	}
	if doc != nil {
		sem := checkDocument(doc, m)
		issues = append(issues, withoutDuplicates(sem, schemaIssues)...)
	}
	if len(issues) > 0 {
		return nil, issues.sorted()
	}
	applyDefaults(doc)
	return doc, nil
}

var errTooLarge = errors.New("file too large")

func readLimited(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, errTooLarge
	}
	return data, nil
}

// How much of a file parseFile could read.
type loss int

const (
	lostNothing loss = iota
	lostSyntax       // a syntax error: the rest of the file is unread
	lostBudget       // a document over the size budget: its content is unknown
)

// parseFile splits a file into its YAML documents and converts each, and
// says whether some of the file was lost.
func parseFile(file string, data []byte) (units []*unit, issues []Issue, lost loss) {
	utf16 := bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) // the parser reads UTF-16 with its BOM
	if p, b, bad := firstInvalidUTF8(data); bad && !utf16 {
		// The YAML parser would take a Latin-1 "é" as is and Kibana would
		// get U+FFFD: refuse the file instead of sending mangled text.
		issues = append(issues, Issue{File: file, Line: p.line, Col: p.col, Message: fmt.Sprintf("the file is not valid UTF-8 (byte 0x%02X here): save it as UTF-8", b)})
		return nil, issues, lostSyntax
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p, msg := syntaxError(err, data)
			issues = append(issues, Issue{File: file, Line: p.line, Col: p.col, Message: "invalid YAML: " + msg})
			lost = max(lost, lostSyntax)
			break
		}
		u := &unit{file: file, vals: map[string]position{}, keys: map[string]position{}}
		c := &converter{u: u}
		v := c.convert(&n, "", 0)
		issues = append(issues, c.issues...)
		if c.failed {
			lost = lostBudget
			continue
		}
		switch v := v.(type) {
		case nil:
			// An empty document (only comments) contributes nothing.
		case map[string]any:
			u.value = v
			units = append(units, u)
		default:
			p := u.pos("")
			issues = append(issues, u.issue("", p, "a fleetform document is a mapping with clusters, outputs, agent_policies and packages"))
			lost = max(lost, lostSyntax)
		}
	}
	return units, issues, lost
}

// firstInvalidUTF8 finds the first byte of data that is not UTF-8, with its
// 1-based line and column (in characters).
func firstInvalidUTF8(data []byte) (position, byte, bool) {
	if utf8.Valid(data) {
		return position{}, 0, false
	}
	p := position{1, 1}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return p, data[i], true
		}
		if r == '\n' {
			p.line, p.col = p.line+1, 1
		} else {
			p.col++
		}
		i += size
	}
	return p, 0, false
}

// origin says where an item of the merged document came from.
type origin struct {
	u     *unit
	index int // index in the unit's own list
}

// merged is the union of all units, with the way back to each item's file.
type merged struct {
	value    map[string]any
	clusters *unit
	lists    map[string][]origin // "outputs" -> origins by merged index
	issues   []Issue

	firstFile  string // where a document-wide problem (no clusters) is reported
	incomplete bool   // some file could not be parsed
	// unsure are the kinds ("proxies", "remotes", …) whose ids are not
	// all known: the list, an item or an item's id has a problem already
	// reported. A reference to such a kind is not checked, so that one
	// mistake (proxies written as a mapping, a numeric id) reads as one
	// issue and not as one more at every object that names it.
	unsure map[string]bool
}

// listKeys are the top-level lists; every file may add items to them.
var listKeys = []string{"outputs", "agent_policies", "packages", "package_policies", "fleet_server_hosts", "proxies", "download_sources"}

func merge(units []*unit) *merged {
	m := &merged{value: map[string]any{}, lists: map[string][]origin{}}
	for _, u := range units {
		if c, ok := u.value["clusters"]; ok {
			if m.clusters != nil {
				p := u.keyPos("/clusters")
				m.issues = append(m.issues, u.issue("/clusters", p,
					"clusters is defined in both %s and %s: define it in exactly one file", m.clusters.file, u.file))
			} else {
				m.clusters = u
				m.value["clusters"] = c
			}
		}
		for _, k := range listKeys {
			items, ok := u.value[k].([]any)
			if !ok {
				continue
			}
			all, _ := m.value[k].([]any)
			for i, item := range items {
				all = append(all, item)
				m.lists[k] = append(m.lists[k], origin{u: u, index: i})
			}
			m.value[k] = all
		}
	}
	return m
}

// decode turns the merged JSON into a Document, refusing unknown fields.
func (m *merged) decode() (*Document, error) {
	b, err := json.Marshal(m.value)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc Document
	if err := dec.Decode(&doc); err != nil {
		return &doc, err
	}
	return &doc, nil
}

// locate maps a pointer into the merged document to its unit and the
// pointer within that unit's file.
func (m *merged) locate(ptr string) (*unit, string) {
	parts := strings.SplitN(strings.TrimPrefix(ptr, "/"), "/", 3)
	switch {
	case parts[0] == "clusters":
		return m.clusters, ptr
	case len(parts) >= 2:
		i, err := strconv.Atoi(parts[1])
		origins := m.lists[parts[0]]
		if err != nil || i < 0 || i >= len(origins) {
			return nil, ptr
		}
		o := origins[i]
		local := "/" + parts[0] + "/" + strconv.Itoa(o.index)
		if len(parts) == 3 {
			local += "/" + parts[2]
		}
		return o.u, local
	}
	return nil, ptr
}

// idKeys are the key that identifies an item of each referenced kind.
var idKeys = map[string]string{
	"outputs": "id", "agent_policies": "id", "fleet_server_hosts": "id", "proxies": "id",
	"download_sources": "id", "packages": "name", "package_policies": "id",
}

// unsureKinds lists the kinds whose set of ids the issues put in doubt:
// an issue at the list itself, at one of its items, or at an item's id.
func unsureKinds(issues []Issue) map[string]bool {
	out := map[string]bool{}
	for _, is := range issues {
		t := strings.Split(strings.TrimPrefix(is.Pointer, "/"), "/")
		if t[0] == "clusters" {
			// clusters, clusters/remotes, …/remotes/N, …/remotes/N/name
			if len(t) == 3 && strings.HasPrefix(is.Message, "missing required key") && is.Message != `missing required key "name"` {
				continue
			}
			if len(t) == 1 || (t[1] == "remotes" && (len(t) <= 3 || t[3] == "name")) {
				out["remotes"] = true
			}
			continue
		}
		key, ok := idKeys[t[0]]
		if !ok || (len(t) > 2 && t[2] != key) {
			continue
		}
		if len(t) == 2 && strings.HasPrefix(is.Message, "missing required key") && is.Message != `missing required key "`+key+`"` {
			continue // an item without, say, its hosts still has its id
		}
		out[t[0]] = true
	}
	return out
}

// cannotTell reports whether a reference to kind cannot be checked: a
// file could not be parsed, or kind's ids are in doubt (merged.unsure).
func (c *checker) cannotTell(kind string) bool {
	return c.m.incomplete || c.m.unsure[kind]
}

// withoutDuplicates drops the issues reported at a file and pointer where an
// earlier stage already found a problem, so one mistake reads as one issue.
func withoutDuplicates(later, earlier []Issue) []Issue {
	seen := map[[2]string]bool{}
	for _, s := range earlier {
		// A missing key says nothing about the object's other problems.
		if !strings.HasPrefix(s.Message, "missing required key") {
			seen[[2]string{s.File, s.Pointer}] = true
		}
	}
	out := later[:0:0]
	for _, s := range later {
		if !seen[[2]string{s.File, s.Pointer}] {
			out = append(out, s)
		}
	}
	return out
}

// applyDefaults fills the defaults Load documents.
func applyDefaults(doc *Document) {
	for i := range doc.Outputs {
		o := &doc.Outputs[i]
		if o.Type == OutputTypeRemoteElasticsearch && o.SyncVia == "" {
			o.SyncVia = SyncViaCCR
		}
	}
}
