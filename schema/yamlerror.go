package schema

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// syntaxError locates a YAML syntax error and says it in words an operator
// can act on. The parser reports two marks: where it gave up (Mark) and the
// construct it was reading (ContextMark). For an unclosed [ { or quote the
// mistake is at the construct — the parser only gives up lines later, at
// whatever follows — so the issue points there; for everything else (a key
// indented wrongly, a tab) it points where the parser gave up.
func syntaxError(err error, src []byte) (position, string) {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		return position{1, 1}, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	at := position{le.Mark.Line, le.Mark.Column}
	ctx := position{le.ContextMark.Line, le.ContextMark.Column}
	gaveUp := fmt.Sprintf("line %d, column %d", at.line, at.col)
	var p position
	var msg string
	switch {
	case ctx.line > 0 && le.ContextMsg == "while parsing a flow sequence":
		p, msg = ctx, fmt.Sprintf("this [ is not closed: %s (at %s)", le.Message, gaveUp)
	case ctx.line > 0 && le.ContextMsg == "while parsing a flow mapping":
		p, msg = ctx, fmt.Sprintf("this { is not closed: %s (at %s)", le.Message, gaveUp)
	case ctx.line > 0 && le.ContextMsg == "while scanning a quoted scalar":
		p, msg = ctx, fmt.Sprintf("this quoted string is not closed: %s (at %s)", le.Message, gaveUp)
	case ctx.line > 0 && le.ContextMsg == "while scanning a simple key" && noSpaceAfterColon(src, ctx.line).line > 0:
		// "url:http://x" among keys: a string where a key belongs.
		p = noSpaceAfterColon(src, ctx.line)
		msg = fmt.Sprintf("%s (the parser found: %s, at %s)", gluedMessage(src, p), le.Message, gaveUp)
	case ctx.line > 0 && le.ContextMsg == "while scanning a simple key":
		p, msg = ctx, fmt.Sprintf("%s after this key (at %s)", le.Message, gaveUp)
	case le.ContextMsg == "while parsing a flow node" && unclosedFlow(src, at).line > 0:
		// The file (or document) ends inside a [ or {.
		p = unclosedFlow(src, at)
		msg = fmt.Sprintf("this %c is not closed: %s (at line %d, column %d)", charAt(src, p), le.Message, at.line, at.col)
	case charAt(src, at) == ']' || charAt(src, at) == '}':
		c := string(charAt(src, at))
		p, msg = at, fmt.Sprintf("unexpected %s: nothing open here to close (%s)", c, le.Message)
	case le.Message == "did not find expected key" || le.Message == "did not find expected '-' indicator":
		// A block mapping or sequence met a line it cannot belong to.
		p, msg = at, le.Message+": check the indentation of this line"
		if ctx.line > 0 {
			msg += fmt.Sprintf(" (the enclosing block starts at line %d, column %d)", ctx.line, ctx.col)
		}
	case le.Message == "found character that cannot start any token" && charAt(src, at) == '\t':
		// A tab where the parser wanted indentation or a value: YAML
		// indents with spaces only, and the parser does not say "tab".
		p, msg = at, "found a tab character: YAML indents with spaces only; replace the tab with spaces"
	case strings.HasPrefix(le.Message, "unknown anchor"):
		p, msg = at, le.Message+": an alias (*name) needs an anchor (&name) earlier in the same file and document; anchors do not reach into other files or past ---"
	case le.Message == "mapping values are not allowed in this context" && noSpaceAfterColon(src, at.line-1).line > 0:
		// "- id:p" is a string, so the keys under it belong to nothing.
		p = noSpaceAfterColon(src, at.line-1)
		msg = fmt.Sprintf("%s (the parser found: %s, at %s)", gluedMessage(src, p), le.Message, gaveUp)
	case le.Message == "mapping values are not allowed in this context":
		p, msg = at, le.Message+": a key is indented deeper than its siblings, or a value holding ': ' needs quotes"
	default:
		p, msg = at, le.Message
	}
	if p.line < 1 {
		p = position{1, 1}
	}
	if p.col < 1 {
		p.col = 1
	}
	return p, msg
}

// keyNoSpaceRE is a line that is a key glued to its value ("id:p",
// "- url:http://x"), which YAML reads as one string.
var keyNoSpaceRE = regexp.MustCompile(`^\s*(?:-\s+)?([A-Za-z_][\w.-]*:[^\s:/][^\s]*)\s*$`)

// noSpaceAfterColon returns where a key glued to its value starts on a
// 1-based line, or the zero position.
func noSpaceAfterColon(src []byte, line int) position {
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) {
		return position{}
	}
	text := strings.TrimRight(lines[line-1], "\r")
	if m := keyNoSpaceRE.FindStringSubmatchIndex(text); m != nil {
		return position{line, len([]rune(text[:m[2]])) + 1}
	}
	return position{}
}

// gluedMessage says what is wrong with the glued key and value at p.
func gluedMessage(src []byte, p position) string {
	line := strings.TrimRight(strings.Split(string(src), "\n")[p.line-1], "\r")
	glued := strings.TrimSpace(string([]rune(line)[p.col-1:]))
	key, _, _ := strings.Cut(glued, ":")
	return fmt.Sprintf("%q is one string, not a key and a value: a key needs a space after its colon (%s: …)", glued, key)
}

// charAt returns the character at a 1-based line and column, or 0.
func charAt(src []byte, p position) rune {
	lines := strings.Split(string(src), "\n")
	if p.line < 1 || p.line > len(lines) {
		return 0
	}
	runes := []rune(lines[p.line-1])
	if p.col < 1 || p.col > len(runes) {
		return 0
	}
	return runes[p.col-1]
}

// unclosedFlow returns the innermost [ or { still open before position end,
// skipping quoted strings and comments; the zero position when none is.
func unclosedFlow(src []byte, end position) position {
	var open []position
	line, col := 1, 0
	var quote rune
	prev := ' '
	comment := false
	for _, r := range string(src) {
		col++
		if line > end.line || (line == end.line && col >= end.col) {
			break
		}
		switch {
		case r == '\n':
			line, col, comment, prev = line+1, 0, false, ' '
			continue
		case comment:
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '#' && (prev == ' ' || prev == '\t' || col == 1):
			comment = true
		case (r == '"' || r == '\'') && (prev == ' ' || prev == '[' || prev == '{' || prev == ',' || prev == ':'):
			quote = r
		case r == '[' || r == '{':
			open = append(open, position{line, col})
		case (r == ']' || r == '}') && len(open) > 0:
			open = open[:len(open)-1]
		}
		prev = r
	}
	if len(open) == 0 {
		return position{}
	}
	return open[len(open)-1]
}
