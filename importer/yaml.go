package importer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// entry is one object of a kind's file: its fields in writing order and an
// optional comment written above it.
type entry struct {
	comment string
	fields  []field
}

// field is one key of an entry. Values are JSON-shaped (maps, slices,
// strings, float64, bool); maps are written with sorted keys.
type field struct {
	key   string
	value any
}

// set appends a field, or replaces it when the key is already there.
func (e *entry) set(key string, v any) {
	for i := range e.fields {
		if e.fields[i].key == key {
			e.fields[i].value = v
			return
		}
	}
	e.fields = append(e.fields, field{key, v})
}

// setAfter inserts a field right after the field named after (at the end
// when there is none).
func (e *entry) setAfter(after, key string, v any) {
	for i, f := range e.fields {
		if f.key == after {
			e.fields = slices.Insert(e.fields, i+1, field{key, v})
			return
		}
	}
	e.set(key, v)
}

// joinComment adds a line to a comment.
func joinComment(c, line string) string {
	if c == "" {
		return line
	}
	return c + "\n" + line
}

// drop removes a field.
func (e *entry) drop(key string) {
	e.fields = slices.DeleteFunc(e.fields, func(f field) bool { return f.key == key })
}

// fileHeader opens every file import writes.
const fileHeader = `# Written by "fleetform import" from the live Fleet. Review it, fill in the
# secret references it lists, commit it, and check that "fleetform plan" says
# "No changes". Editors check it against fleet.schema.json with a first line
# "# yaml-language-server: $schema=<path to fleet.schema.json>".`

// render writes the kind's document: the entries under key, then the
// skipped objects as comments.
func (b *builder) render(key string) ([]byte, error) {
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, e := range b.entries {
		m := &yaml.Node{Kind: yaml.MappingNode, HeadComment: e.comment}
		for _, f := range e.fields {
			var v yaml.Node
			if err := v.Encode(f.value); err != nil {
				return nil, fmt.Errorf("%s: %w", f.key, err)
			}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, &v)
		}
		seq.Content = append(seq.Content, m)
	}
	if len(seq.Content) == 0 {
		seq.Style = yaml.FlowStyle
	}
	top := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, seq}}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: fileHeader, Content: []*yaml.Node{top}}
	if len(b.skipped) > 0 {
		var lines []string
		skipped := slices.Clone(b.skipped)
		slices.SortFunc(skipped, func(a, b Skip) int { return strings.Compare(a.ID, b.ID) })
		for _, s := range skipped {
			lines = append(lines, fmt.Sprintf("not imported: %s %s: %s", strings.ReplaceAll(s.Kind, "_", " "), s.ID, s.Reason))
		}
		doc.FootComment = strings.Join(lines, "\n")
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
