package main

import (
	"strings"
)

// formatError is the line run prints for a command's error: the command
// once, then the error. A message that already starts with the command's
// name (an "apply: …" from deeper down) does not repeat it.
func formatError(cmdPath string, err error) string {
	msg := err.Error()
	name := cmdPath[strings.LastIndex(cmdPath, " ")+1:]
	for strings.HasPrefix(msg, name+": ") {
		msg = strings.TrimPrefix(msg, name+": ")
	}
	return cmdPath + ": " + msg
}
