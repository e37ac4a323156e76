package main

import (
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/fleetform/fleetform/schema"
)

// configLocation returns "file:line" of the YAML node at path in the
// repository dir, or "" when no file has it. Each path element is a mapping
// key, or "name=west" for the element of a list whose name is west. Runtime
// errors name it so the reader goes straight to the line to fix.
func configLocation(dir string, path ...string) string {
	files, err := schema.Files(dir)
	if err != nil {
		return ""
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var root yaml.Node
		if yaml.Unmarshal(b, &root) != nil || len(root.Content) == 0 {
			continue
		}
		if line := findLine(root.Content[0], path); line > 0 {
			return fmt.Sprintf("%s:%d", f, line)
		}
	}
	return ""
}

// findLine walks n along path and returns the line of the key (or list
// element) the path ends at, or 0.
func findLine(n *yaml.Node, path []string) int {
	line := 0
	for _, seg := range path {
		switch {
		case n.Kind == yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					line, next = n.Content[i].Line, n.Content[i+1]
					break
				}
			}
			if next == nil {
				return 0
			}
			n = next
		case n.Kind == yaml.SequenceNode && strings.Contains(seg, "="):
			key, want, _ := strings.Cut(seg, "=")
			var next *yaml.Node
			for _, el := range n.Content {
				if el.Kind != yaml.MappingNode {
					continue
				}
				for i := 0; i+1 < len(el.Content); i += 2 {
					if el.Content[i].Value == key && el.Content[i+1].Value == want {
						next = el
					}
				}
				if next != nil {
					break
				}
			}
			if next == nil {
				return 0
			}
			line, n = next.Line, next
		default:
			return 0
		}
	}
	return line
}
