package main

import (
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The deployment examples start fleetform with flags it has: the
// Kubernetes container's args and the systemd unit's ExecStart parse with
// the real flag sets (-h after them: parsing fails on an unknown flag
// before help is printed).
func TestDeployExamples_FlagsExist(t *testing.T) {
	b, err := os.ReadFile("../../examples/deploy/kubernetes/fleetform.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var found int
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	for {
		var doc map[string]any
		if dec.Decode(&doc) != nil {
			break
		}
		walkContainers(doc, func(args []string) {
			found++
			checkParses(t, "kubernetes", args)
		})
	}
	if found == 0 {
		t.Error("no container args found in the Kubernetes example")
	}

	unit, err := os.ReadFile("../../examples/deploy/systemd/fleetform.service")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(unit), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		if cmd, ok := strings.CutPrefix(line, "ExecStart=/usr/local/bin/fleetform "); ok {
			checkParses(t, "systemd", strings.Fields(cmd))
			return
		}
	}
	t.Error("no ExecStart in the systemd unit")
}

func checkParses(t *testing.T, where string, args []string) {
	t.Helper()
	_, errOut, code := runCLI(t, append(args, "-h")...)
	if code != 0 || errOut != "" {
		t.Errorf("%s: fleetform %s: exit %d\n%s", where, strings.Join(args, " "), code, errOut)
	}
}

// walkContainers calls fn with the args of every container (and init
// container) in a Kubernetes object.
func walkContainers(n any, fn func(args []string)) {
	switch v := n.(type) {
	case map[string]any:
		if _, ok := v["image"]; ok {
			if raw, ok := v["args"].([]any); ok {
				var args []string
				for _, a := range raw {
					args = append(args, a.(string))
				}
				fn(args)
			}
		}
		for _, c := range v {
			walkContainers(c, fn)
		}
	case []any:
		for _, c := range v {
			walkContainers(c, fn)
		}
	}
}
