package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v4"
)

// position is a 1-based line and column in a YAML file.
type position struct{ line, col int }

// unit is one YAML document of one file, converted to the JSON data model
// (map[string]any, []any, string, json.Number, bool, nil), with the source
// position of every value and every mapping key, keyed by JSON pointer.
type unit struct {
	file  string
	value map[string]any
	vals  map[string]position // pointer -> position of the value node
	keys  map[string]position // pointer -> position of the mapping key naming it
}

// pos returns the position of the value at ptr, or of its nearest ancestor
// that has one (a missing key is reported at the object that lacks it).
func (u *unit) pos(ptr string) position {
	for {
		if p, ok := u.vals[ptr]; ok {
			return p
		}
		if ptr == "" {
			return position{1, 1}
		}
		ptr = ptr[:strings.LastIndexByte(ptr, '/')]
	}
}

// valueAt returns the value at ptr, or nil.
func (u *unit) valueAt(ptr string) any {
	var v any = u.value
	if ptr == "" {
		return v
	}
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// keyPos returns the position of the key naming ptr, falling back to pos.
func (u *unit) keyPos(ptr string) position {
	if p, ok := u.keys[ptr]; ok {
		return p
	}
	return u.pos(ptr)
}

func (u *unit) issue(ptr string, p position, format string, args ...any) Issue {
	return Issue{File: u.file, Line: p.line, Col: p.col, Pointer: ptr, Message: fmt.Sprintf(format, args...)}
}

// Limits that keep a hostile document (alias bombs, deep nesting) cheap.
const (
	maxNodes = 200_000
	maxDepth = 64
)

// converter turns a yaml.Node tree into the JSON data model, recording
// positions and reporting what JSON cannot hold.
type converter struct {
	u      *unit
	issues []Issue
	nodes  int
	failed bool // budget exhausted; stop converting
}

func escapePointerToken(s string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func (c *converter) convert(n *yaml.Node, ptr string, depth int) any {
	if c.failed {
		return nil
	}
	c.nodes++
	if c.nodes > maxNodes || depth > maxDepth {
		c.failed = true
		c.issues = append(c.issues, c.u.issue(ptr, position{n.Line, n.Column},
			"document too large or too deeply nested (more than %d values or %d levels, aliases expanded)", maxNodes, maxDepth))
		return nil
	}
	if _, seen := c.u.vals[ptr]; !seen {
		c.u.vals[ptr] = position{n.Line, n.Column}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.convert(n.Content[0], ptr, depth)
	case yaml.AliasNode:
		return c.convert(n.Alias, ptr, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, item := range n.Content {
			out = append(out, c.convert(item, ptr+"/"+strconv.Itoa(i), depth+1))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, ptr, depth)
	case yaml.ScalarNode:
		return c.scalar(n, ptr)
	}
	c.issues = append(c.issues, c.u.issue(ptr, position{n.Line, n.Column}, "unsupported YAML node"))
	return nil
}

func (c *converter) mapping(n *yaml.Node, ptr string, depth int) any {
	out := make(map[string]any, len(n.Content)/2)
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		kp := position{n.Content[i].Line, n.Content[i].Column}
		if k.Kind != yaml.ScalarNode {
			c.issues = append(c.issues, c.u.issue(ptr, kp, "mapping keys must be strings"))
			continue
		}
		if k.ShortTag() == "!!merge" {
			c.issues = append(c.issues, c.u.issue(ptr, kp, "YAML merge keys (<<) are not supported: write the keys out"))
			continue
		}
		child := ptr + "/" + escapePointerToken(k.Value)
		if line, dup := first[k.Value]; dup {
			c.issues = append(c.issues, c.u.issue(child, kp, "duplicate key %q (first at line %d)", k.Value, line))
			continue
		}
		first[k.Value] = kp.line
		c.u.keys[child] = kp
		out[k.Value] = c.convert(v, child, depth+1)
	}
	return out
}

func (c *converter) scalar(n *yaml.Node, ptr string) any {
	p := position{n.Line, n.Column}
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.issues = append(c.issues, c.u.issue(ptr, p, "invalid boolean %q", n.Value))
			return nil
		}
		return b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err == nil {
			if i > maxExactInt || i < -maxExactInt {
				return c.tooLarge(n, ptr)
			}
			return json.Number(strconv.FormatInt(i, 10))
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			c.issues = append(c.issues, c.u.issue(ptr, p, "invalid integer %q", n.Value))
			return nil
		}
		return c.number(f, n, ptr)
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			c.issues = append(c.issues, c.u.issue(ptr, p, "invalid number %q", n.Value))
			return nil
		}
		return c.number(f, n, ptr)
	}
	// !!str, !!binary, !!timestamp and unknown local tags keep their text.
	return n.Value
}

// maxExactInt is the largest integer a JSON number holds exactly in
// Kibana (JavaScript's Number.MAX_SAFE_INTEGER) and fleetform (float64).
const maxExactInt = 1<<53 - 1

// tooLarge reports a number no field can hold. Left to the decoder it
// would fail there, without a line ("cannot unmarshal number 1e+23 into
// Go struct field …").
func (c *converter) tooLarge(n *yaml.Node, ptr string) any {
	c.issues = append(c.issues, c.u.issue(ptr, position{n.Line, n.Column}, "%s is too large: numbers are at most %d", n.Value, int64(maxExactInt)))
	return nil
}

func (c *converter) number(f float64, n *yaml.Node, ptr string) any {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		c.issues = append(c.issues, c.u.issue(ptr, position{n.Line, n.Column}, "%s is not a finite number", n.Value))
		return nil
	}
	if math.Abs(f) > maxExactInt {
		return c.tooLarge(n, ptr)
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
}
