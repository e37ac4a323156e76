package esim

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Doc is a stored document with its concurrency-control metadata.
type Doc struct {
	Index       string          `json:"_index"`
	ID          string          `json:"_id"`
	SeqNo       int64           `json:"_seq_no"`
	PrimaryTerm int64           `json:"_primary_term"`
	Version     int64           `json:"_version"`
	Source      json.RawMessage `json:"_source"`
}

type storedDoc struct {
	SeqNo       int64           `json:"seq_no"`
	PrimaryTerm int64           `json:"primary_term"`
	Version     int64           `json:"version"`
	Source      json.RawMessage `json:"source"`
	// src is Source decoded once at write time for searches. A storedDoc is
	// never modified after it is stored, so followers share it safely.
	src map[string]any
}

type index struct {
	Name        string                `json:"name"`
	UUID        string                `json:"uuid"`
	Created     time.Time             `json:"created"`
	Hidden      bool                  `json:"hidden"`
	Closed      bool                  `json:"closed"`
	Settings    map[string]any        `json:"settings,omitempty"` // extra index.* settings as given (flat, without "index.")
	Mappings    json.RawMessage       `json:"mappings,omitempty"`
	MaxSeqNo    int64                 `json:"max_seq_no"` // -1 when empty
	PrimaryTerm int64                 `json:"primary_term"`
	Docs        map[string]*storedDoc `json:"docs"`
	Follow      *follow               `json:"follow,omitempty"`
	// versions remembers the last version of deleted ids, as ES does for a while.
	Tombstones map[string]int64 `json:"tombstones,omitempty"`
}

func (ix *index) doc(id string) Doc {
	d := ix.Docs[id]
	return Doc{Index: ix.Name, ID: id, SeqNo: d.SeqNo, PrimaryTerm: d.PrimaryTerm, Version: d.Version, Source: d.Source}
}

// validateIndexName applies ES's index-name rules (MetadataCreateIndexService.validateIndexOrAliasName).
func validateIndexName(name string) *Error {
	invalid := func(msg string) *Error {
		return newErr(http.StatusBadRequest, "invalid_index_name_exception", "Invalid index name [%s], %s", name, msg).
			with("index_uuid", "_na_", "index", name)
	}
	switch {
	case name == "":
		return invalid("must not be empty")
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return invalid(`must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?]`)
	case strings.ToLower(name) != name:
		return invalid("must be lowercase")
	case name == "." || name == "..":
		return invalid("must not be '.' or '..'")
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "+"):
		return invalid("must not start with '_', '-', or '+'")
	case len(name) > 255:
		return invalid("index name is too long, (" + strconv.Itoa(len(name)) + " > 255)")
	}
	return nil
}

// newIndex builds an index from a create-index body ({settings, mappings, aliases}).
func (n *Node) newIndex(name string, body json.RawMessage) (*index, *Error) {
	if e := validateIndexName(name); e != nil {
		return nil, e
	}
	ix := &index{Name: name, UUID: n.randomID(22), Created: n.now().UTC().Truncate(time.Millisecond),
		MaxSeqNo: -1, PrimaryTerm: 1, Docs: map[string]*storedDoc{}, Settings: map[string]any{}}
	if len(body) == 0 || string(body) == "null" {
		return ix, nil
	}
	var req struct {
		Settings map[string]any  `json:"settings"`
		Mappings json.RawMessage `json:"mappings"`
		Aliases  map[string]any  `json:"aliases"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, newErr(http.StatusBadRequest, "x_content_parse_exception", "failed to parse create index request: %v", err)
	}
	flat := map[string]any{}
	flatten("", req.Settings, flat)
	for k, v := range flat {
		k = strings.TrimPrefix(k, "index.")
		if k == "hidden" {
			h, ok := boolSetting(v)
			if !ok {
				return nil, errIllegalArgument("Failed to parse value [%v] as only [true] or [false] are allowed.", v)
			}
			ix.Hidden = h
			continue
		}
		ix.Settings[k] = settingString(v)
	}
	if len(req.Mappings) > 0 && string(req.Mappings) != "null" {
		ix.Mappings = slices.Clone(req.Mappings)
	}
	return ix, nil
}

func boolSetting(v any) (bool, bool) {
	switch t := v.(type) {
	case bool:
		return t, true
	case string:
		if t == "true" || t == "false" {
			return t == "true", true
		}
	}
	return false, false
}

// CreateIndex creates an index from a create-index body (settings incl.
// index.hidden, mappings). It fails with resource_already_exists_exception
// or invalid_index_name_exception (*Error).
func (n *Node) CreateIndex(name string, body json.RawMessage) error {
	ix, e := n.newIndex(name, body)
	if e != nil {
		return e
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.st.Indices[name]; ok {
		return errIndexExists(name, old.UUID)
	}
	n.st.Indices[name] = ix
	return nil
}

// DeleteIndex deletes one concrete index; false when it did not exist.
func (n *Node) DeleteIndex(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.st.Indices[name]
	delete(n.st.Indices, name)
	return ok
}

// IndexExists reports whether a concrete index exists.
func (n *Node) IndexExists(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.st.Indices[name]
	return ok
}

// WriteOptions are the concurrency controls of an index request.
type WriteOptions struct {
	IfSeqNo       *int64
	IfPrimaryTerm *int64
	OpType        string // "index" (default) or "create"
}

// IndexDoc stores a document (creating the index if missing) and returns it
// with its new seq_no and version.
func (n *Node) IndexDoc(index, id string, src json.RawMessage) (Doc, error) {
	d, _, err := n.writeDoc(index, id, src, WriteOptions{})
	if err != nil {
		return Doc{}, err
	}
	return d, nil
}

// IndexDocWith is IndexDoc with optimistic concurrency control; created
// reports whether the document was new. A failed check is a 409
// version_conflict_engine_exception (*Error).
func (n *Node) IndexDocWith(index, id string, src json.RawMessage, opts WriteOptions) (d Doc, created bool, err error) {
	d, created, e := n.writeDoc(index, id, src, opts)
	if e != nil {
		return Doc{}, false, e
	}
	return d, created, nil
}

func (n *Node) writeDoc(name, id string, src json.RawMessage, opts WriteOptions) (Doc, bool, *Error) {
	var decoded map[string]any
	if len(src) == 0 || src[0] != '{' || json.Unmarshal(src, &decoded) != nil {
		return Doc{}, false, newErr(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse")
	}
	if id == "" {
		id = n.randomID(20)
	}
	if len(id) > 512 {
		return Doc{}, false, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: id [%s] is too long, must be no longer than 512 bytes but was: %d;", id, len(id))
	}
	if (opts.IfSeqNo == nil) != (opts.IfPrimaryTerm == nil) {
		if opts.IfSeqNo == nil {
			return Doc{}, false, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: ifSeqNo is unassigned, but primary term is [%d];", *opts.IfPrimaryTerm)
		}
		return Doc{}, false, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: ifSeqNo is set, but primary term is [0];")
	}
	if opts.OpType == "create" && opts.IfSeqNo != nil {
		return Doc{}, false, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: create operations do not support compare and set. use index instead;")
	}
	var fresh *index
	n.mu.Lock()
	ix := n.st.Indices[name]
	n.mu.Unlock()
	if ix == nil {
		var e *Error
		if fresh, e = n.newIndex(name, nil); e != nil {
			return Doc{}, false, e
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	ix = n.st.Indices[name]
	if ix == nil {
		if n.autoCreateDisabled() {
			return Doc{}, false, newErr(http.StatusNotFound, "index_not_found_exception",
				"no such index [%s] and [action.auto_create_index] is [false]", name).
				with("resource.type", "index_expression", "resource.id", name, "index_uuid", "_na_", "index", name)
		}
		ix = fresh
		n.st.Indices[name] = ix
	}
	if ix.Closed {
		return Doc{}, false, errIndexClosed(ix.Name, ix.UUID)
	}
	if ix.Follow != nil {
		return Doc{}, false, errFollowerWrite()
	}
	cur := ix.Docs[id]
	if opts.IfSeqNo != nil {
		if cur == nil {
			return Doc{}, false, errVersionConflict(ix, id, "version conflict, required seqNo ["+strconv.FormatInt(*opts.IfSeqNo, 10)+
				"], primary term ["+strconv.FormatInt(*opts.IfPrimaryTerm, 10)+"]. but no document was found")
		}
		if cur.SeqNo != *opts.IfSeqNo || cur.PrimaryTerm != *opts.IfPrimaryTerm {
			return Doc{}, false, errVersionConflict(ix, id, "version conflict, required seqNo ["+strconv.FormatInt(*opts.IfSeqNo, 10)+
				"], primary term ["+strconv.FormatInt(*opts.IfPrimaryTerm, 10)+"]. current document has seqNo ["+
				strconv.FormatInt(cur.SeqNo, 10)+"] and primary term ["+strconv.FormatInt(cur.PrimaryTerm, 10)+"]")
		}
	}
	if opts.OpType == "create" && cur != nil {
		return Doc{}, false, errVersionConflict(ix, id, "version conflict, document already exists (current version ["+strconv.FormatInt(cur.Version, 10)+"])")
	}
	version := int64(1)
	if cur != nil {
		version = cur.Version + 1
	} else if v, ok := ix.Tombstones[id]; ok {
		version = v + 1
		delete(ix.Tombstones, id)
	}
	ix.MaxSeqNo++
	ix.Docs[id] = &storedDoc{SeqNo: ix.MaxSeqNo, PrimaryTerm: ix.PrimaryTerm, Version: version, Source: slices.Clone(src), src: decoded}
	return ix.doc(id), cur == nil, nil
}

// GetDoc returns a document by id (a follower index is caught up first).
func (n *Node) GetDoc(index, id string) (Doc, bool) {
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[index]
	if ix == nil || ix.Closed || ix.Docs[id] == nil {
		return Doc{}, false
	}
	return ix.doc(id), true
}

// DeleteDoc deletes a document and reports whether it existed.
func (n *Node) DeleteDoc(index, id string) bool {
	_, e := n.deleteDoc(index, id, WriteOptions{})
	return e == nil
}

func (n *Node) deleteDoc(name, id string, opts WriteOptions) (Doc, *Error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	ix := n.st.Indices[name]
	if ix == nil {
		return Doc{}, errIndexNotFound(name)
	}
	if ix.Closed {
		return Doc{}, errIndexClosed(ix.Name, ix.UUID)
	}
	if ix.Follow != nil {
		return Doc{}, errFollowerWrite()
	}
	cur := ix.Docs[id]
	if opts.IfSeqNo != nil && opts.IfPrimaryTerm != nil {
		if cur == nil {
			return Doc{}, errVersionConflict(ix, id, "version conflict, required seqNo ["+strconv.FormatInt(*opts.IfSeqNo, 10)+
				"], primary term ["+strconv.FormatInt(*opts.IfPrimaryTerm, 10)+"]. but no document was found")
		}
		if cur.SeqNo != *opts.IfSeqNo || cur.PrimaryTerm != *opts.IfPrimaryTerm {
			return Doc{}, errVersionConflict(ix, id, "version conflict, required seqNo ["+strconv.FormatInt(*opts.IfSeqNo, 10)+
				"], primary term ["+strconv.FormatInt(*opts.IfPrimaryTerm, 10)+"]. current document has seqNo ["+
				strconv.FormatInt(cur.SeqNo, 10)+"] and primary term ["+strconv.FormatInt(cur.PrimaryTerm, 10)+"]")
		}
	}
	ix.MaxSeqNo++
	if cur == nil {
		version := ix.Tombstones[id] + 1
		return Doc{Index: name, ID: id, SeqNo: ix.MaxSeqNo, PrimaryTerm: ix.PrimaryTerm, Version: version},
			&Error{Status: http.StatusNotFound, Type: "not_found"}
	}
	delete(ix.Docs, id)
	if ix.Tombstones == nil {
		ix.Tombstones = map[string]int64{}
	}
	ix.Tombstones[id] = cur.Version + 1
	return Doc{Index: name, ID: id, SeqNo: ix.MaxSeqNo, PrimaryTerm: ix.PrimaryTerm, Version: cur.Version + 1}, nil
}

// expandWildcards is the parsed expand_wildcards parameter.
type expandWildcards struct{ open, closed, hidden bool }

func parseExpandWildcards(v string) (expandWildcards, *Error) {
	if v == "" {
		return expandWildcards{open: true}, nil
	}
	var ew expandWildcards
	for _, s := range strings.Split(v, ",") {
		switch strings.TrimSpace(s) {
		case "open":
			ew.open = true
		case "closed":
			ew.closed = true
		case "hidden":
			ew.hidden = true
		case "all":
			ew = expandWildcards{true, true, true}
		case "none":
		default:
			return ew, errIllegalArgument("No enum constant org.elasticsearch.action.support.IndicesOptions.WildcardStates.%s", strings.ToUpper(strings.TrimSpace(s)))
		}
	}
	return ew, nil
}

// resolve expands a comma-separated index expression against the current
// indices, as ES's IndexNameExpressionResolver does: concrete names must exist
// (unless ignoreUnavailable), wildcards match open non-hidden indices unless
// expand_wildcards widens them, a pattern starting with "." also matches
// hidden dot-indices, and "-name" excludes. Callers hold n.mu.
func (n *Node) resolve(expr string, ew expandWildcards, ignoreUnavailable bool) ([]string, *Error) {
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	seen := map[string]bool{}
	var out []string
	for i, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		if part == "_all" {
			part = "*"
		}
		if strings.HasPrefix(part, "-") && i > 0 {
			pat := part[1:]
			out = slices.DeleteFunc(out, func(s string) bool { return globMatch(pat, s) })
			for k := range seen {
				if globMatch(pat, k) {
					delete(seen, k)
				}
			}
			continue
		}
		if !strings.Contains(part, "*") {
			ix := n.st.Indices[part]
			if ix == nil {
				if ignoreUnavailable {
					continue
				}
				return nil, errIndexNotFound(part)
			}
			if !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
			continue
		}
		for _, name := range sortedKeys(n.st.Indices) {
			ix := n.st.Indices[name]
			if seen[name] || !globMatch(part, name) {
				continue
			}
			if ix.Closed && !ew.closed || !ix.Closed && !ew.open {
				continue
			}
			if ix.Hidden && !ew.hidden && !(strings.HasPrefix(part, ".") && strings.HasPrefix(name, ".")) {
				continue
			}
			seen[name] = true
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ResolveIndices expands an index pattern (comma-separated, with wildcards)
// to the existing index names, sorted. Hidden indices are included when
// expandHidden is set (expand_wildcards=all). Missing concrete names are skipped.
func (n *Node) ResolveIndices(pattern string, expandHidden bool) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	names, _ := n.resolve(pattern, expandWildcards{open: true, hidden: expandHidden}, true)
	return names
}

// SearchDocs returns every document of the indices the pattern resolves to,
// ordered by index then id. A missing concrete index is an
// index_not_found_exception (*Error).
func (n *Node) SearchDocs(indexPattern string, expandHidden bool) ([]Doc, error) {
	n.syncFollowers()
	n.mu.Lock()
	defer n.mu.Unlock()
	names, e := n.resolve(indexPattern, expandWildcards{open: true, hidden: expandHidden}, false)
	if e != nil {
		return nil, e
	}
	var docs []Doc
	for _, name := range names {
		ix := n.st.Indices[name]
		if ix.Closed {
			return nil, errIndexClosed(ix.Name, ix.UUID)
		}
		for _, id := range sortedKeys(ix.Docs) {
			docs = append(docs, ix.doc(id))
		}
	}
	return docs, nil
}

// errFollowerWrite is what ES's FollowingEngine throws for a write that did
// not come from the leader: an IllegalStateException, so HTTP 500.
func errFollowerWrite() *Error {
	return newErr(http.StatusInternalServerError, "illegal_state_exception",
		"a following engine does not accept operations without an assigned sequence number")
}

// autoCreateDisabled reports whether action.auto_create_index is false
// (transient over persistent). Pattern values are treated as allowing it.
// Callers hold n.mu.
func (n *Node) autoCreateDisabled() bool {
	v, ok := n.st.Transient["action.auto_create_index"]
	if !ok {
		v = n.st.Persistent["action.auto_create_index"]
	}
	return v == "false"
}
