package plan

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes p as indented JSON with its format_version.
func WriteJSON(w io.Writer, p *Plan) error {
	cp := *p
	cp.FormatVersion = FormatVersion
	if cp.Changes == nil {
		cp.Changes = []Change{}
	}
	out := struct {
		*Plan
		Summary Summary `json:"summary"`
	}{&cp, p.Summary()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write plan json: %w", err)
	}
	return nil
}

// ReadJSON decodes a plan written by WriteJSON. It refuses another format
// version.
func ReadJSON(r io.Reader) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read plan: format_version %q is not supported (want %q)", p.FormatVersion, FormatVersion)
	}
	return &p, nil
}

// symbol is the Terraform-style marker of an action.
func symbol(a Action) string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Delete:
		return "-"
	case Blocked:
		return "!"
	default:
		return "="
	}
}

func headline(c Change) string {
	obj := fmt.Sprintf("%s %q", c.Kind, c.ID)
	if c.Cluster != "" && c.Cluster != "main" {
		obj = c.Cluster + ": " + obj
	}
	switch c.Action {
	case Create:
		return obj + " will be created"
	case Update:
		return obj + " will be updated in-place"
	case Delete:
		return obj + " will be deleted"
	case Blocked:
		return obj + " is blocked"
	default:
		return obj + " will be adopted (no changes)"
	}
}

// fieldSymbol is the marker of one field: + added, - removed, ~ changed.
func fieldSymbol(f FieldDiff) string {
	switch {
	case f.Before == nil && f.After != nil:
		return "+"
	case f.Before != nil && f.After == nil:
		return "-"
	default:
		return "~"
	}
}

// FormatValue renders a field value the way the text and Markdown views
// show it: JSON, with secrets as their markers.
func FormatValue(v any) string {
	if s, ok := v.(string); ok && (s == Sensitive || s == ToBeGenerated) {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// fieldLine renders a field without its marker: `path = value`, `path = a -> b`.
func fieldLine(f FieldDiff, width int) string {
	name := fmt.Sprintf("%-*s", width, f.Path)
	var val string
	switch {
	case f.Sensitive:
		switch {
		case f.After == ToBeGenerated:
			val = "(sensitive, to be generated)"
		case f.Before != nil && f.After != nil:
			val = "(sensitive, changed)"
		default:
			val = Sensitive
		}
	case f.Before == nil:
		val = FormatValue(f.After)
	case f.After == nil:
		val = FormatValue(f.Before) + " -> null"
	default:
		val = FormatValue(f.Before) + " -> " + FormatValue(f.After)
	}
	line := name + " = " + val
	if f.Note != "" {
		line += " # " + f.Note
	}
	return line
}

func writeFields(w *bufio.Writer, c Change, indent string) {
	width := 0
	for _, f := range c.Fields {
		width = max(width, len(f.Path))
	}
	for _, f := range c.Fields {
		fmt.Fprintf(w, "%s%s %s\n", indent, fieldSymbol(f), fieldLine(f, width))
	}
}

// WriteText renders p like Terraform: one block per object with `+ ~ - !`
// markers, field-level diffs and a summary line.
func WriteText(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	if p.Space != "" {
		fmt.Fprintf(bw, "Kibana space: %s (Fleet objects of other spaces are neither read nor changed)\n\n", p.Space)
	}
	if p.Empty() {
		fmt.Fprintln(bw, noChanges(p))
		writeUnverified(bw, p)
		writeWarnings(bw, p)
		writeUnmanaged(bw, p)
		return flush(bw)
	}
	fmt.Fprintln(bw, "fleetform will perform the following actions:")
	for _, c := range p.Changes {
		fmt.Fprintln(bw)
		fmt.Fprintf(bw, "  # %s\n", headline(c))
		if c.Reason != "" {
			for _, l := range strings.Split(c.Reason, "\n") {
				fmt.Fprintf(bw, "  # (%s)\n", l)
			}
		}
		name := fmt.Sprintf("%s %q", c.Kind, c.ID)
		if len(c.Fields) == 0 {
			fmt.Fprintf(bw, "  %s %s\n", symbol(c.Action), name)
			continue
		}
		fmt.Fprintf(bw, "  %s %s {\n", symbol(c.Action), name)
		writeFields(bw, c, "      ")
		fmt.Fprintln(bw, "    }")
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "Plan: %s.\n", p.Summary())
	writeUnverified(bw, p)
	writeWarnings(bw, p)
	writeUnmanaged(bw, p)
	return flush(bw)
}

// noChanges is the line of an empty plan: "No changes" only when every
// secret reference was compared.
func noChanges(p *Plan) string {
	if p.Certain() {
		return "No changes. Fleet matches the configuration."
	}
	return fmt.Sprintf("No changes to the fields fleetform compared; %s not compared.", secretCount(len(p.Unverified)))
}

func secretCount(n int) string {
	if n == 1 {
		return "1 secret value was"
	}
	return fmt.Sprintf("%d secret values were", n)
}

// unverifiedHeader and unverifiedFooter frame the list of secret
// references a plan could not read.
func unverifiedHeader(p *Plan) string {
	n := len(p.Unverified)
	if adopted, _ := unverifiedKinds(p); adopted > 0 {
		return fmt.Sprintf("Not compared with Fleet: %d secret value%s:", n, pick(n, "", "s"))
	}
	return fmt.Sprintf("Not compared with Fleet: %d secret value%s, whose reference%s cannot be read here:",
		n, pick(n, "", "s"), pick(n, "", "s"))
}

// unverifiedKinds counts the adopted and the unreadable entries.
func unverifiedKinds(p *Plan) (adopted, unreadable int) {
	for _, u := range p.Unverified {
		if u.Adopted {
			adopted++
		} else {
			unreadable++
		}
	}
	return adopted, unreadable
}

const (
	unverifiedFooter = "Apply reads every reference (and writes nothing if one cannot be read), then updates a value that changed; it refuses a saved plan when one of these values changed."
	adoptedFooter    = "Apply leaves an adopted secret as Fleet holds it until its reference changes; then it writes the new value."
)

// unverifiedFooters are the closing lines for the kinds of entries p has.
func unverifiedFooters(p *Plan) []string {
	adopted, unreadable := unverifiedKinds(p)
	var out []string
	if unreadable > 0 {
		out = append(out, unverifiedFooter)
	}
	if adopted > 0 {
		out = append(out, adoptedFooter)
	}
	return out
}

func unverifiedLine(u UnverifiedSecret) string {
	obj := fmt.Sprintf("%s %q", u.Kind, u.ID)
	if u.Cluster != "" && u.Cluster != "main" {
		obj = u.Cluster + ": " + obj
	}
	return fmt.Sprintf("%s %s (%s): %s", obj, u.Path, u.Ref, u.Reason)
}

func writeUnverified(bw *bufio.Writer, p *Plan) {
	if p.Certain() {
		return
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, unverifiedHeader(p))
	for _, u := range p.Unverified {
		fmt.Fprintf(bw, "  %s\n", unverifiedLine(u))
	}
	for _, f := range unverifiedFooters(p) {
		fmt.Fprintln(bw, f)
	}
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func writeWarnings(bw *bufio.Writer, p *Plan) {
	for _, warn := range p.Warnings {
		fmt.Fprintf(bw, "Warning: %s\n", warn)
	}
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// WriteMarkdown renders p as a pull-request comment: a summary line, a table
// of changes and the field-level diff in a collapsible diff block.
func WriteMarkdown(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	title := "### fleetform plan"
	if p.Revision != "" {
		title += " for `" + p.Revision + "`"
	}
	if p.Space != "" {
		title += " in Kibana space `" + p.Space + "`"
	}
	fmt.Fprintln(bw, title)
	fmt.Fprintln(bw)
	if p.Empty() {
		if p.Certain() {
			fmt.Fprintln(bw, "**No changes.** Fleet matches the configuration.")
		} else {
			fmt.Fprintln(bw, noChanges(p))
		}
		writeMarkdownUnverified(bw, p)
		writeMarkdownWarnings(bw, p)
		writeMarkdownUnmanaged(bw, p)
		return flush(bw)
	}
	fmt.Fprintf(bw, "**Plan:** %s.\n\n", p.Summary())
	fmt.Fprintln(bw, "| | Cluster | Kind | ID | Action | Reason |")
	fmt.Fprintln(bw, "|---|---|---|---|---|---|")
	for _, c := range p.Changes {
		fmt.Fprintf(bw, "| `%s` | %s | %s | `%s` | %s | %s |\n", symbol(c.Action), c.Cluster, c.Kind, mdCell(c.ID), c.Action, mdCell(c.Reason))
	}
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "<details><summary>Field-level changes</summary>")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "```diff")
	for i, c := range p.Changes {
		if i > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintf(bw, "%s %s %q (%s)\n", diffMarker(c.Action), c.Kind, c.ID, c.Action)
		width := 0
		for _, f := range c.Fields {
			width = max(width, len(f.Path))
		}
		for _, f := range c.Fields {
			fmt.Fprintf(bw, "%s   %s\n", diffMarker(c.Action), fieldLine(f, width))
		}
	}
	fmt.Fprintln(bw, "```")
	fmt.Fprintln(bw)
	fmt.Fprintln(bw, "</details>")
	writeMarkdownUnverified(bw, p)
	writeMarkdownWarnings(bw, p)
	writeMarkdownUnmanaged(bw, p)
	return flush(bw)
}

func writeMarkdownUnverified(bw *bufio.Writer, p *Plan) {
	if p.Certain() {
		return
	}
	fmt.Fprintln(bw)
	fmt.Fprintf(bw, "> **%s**\n", mdCell(unverifiedHeader(p)))
	for _, u := range p.Unverified {
		fmt.Fprintf(bw, "> - %s\n", mdCell(unverifiedLine(u)))
	}
	fmt.Fprintln(bw, ">")
	for _, f := range unverifiedFooters(p) {
		fmt.Fprintf(bw, "> %s\n", f)
	}
}

// diffMarker maps an action to the first column of a ```diff block, which
// GitHub colours: + green, - red, ! orange, ~ plain.
func diffMarker(a Action) string {
	switch a {
	case Create:
		return "+"
	case Delete:
		return "-"
	case Blocked:
		return "!"
	default:
		return "~"
	}
}

func writeMarkdownWarnings(bw *bufio.Writer, p *Plan) {
	if len(p.Warnings) == 0 {
		return
	}
	fmt.Fprintln(bw)
	for _, warn := range p.Warnings {
		fmt.Fprintf(bw, "> **Warning:** %s\n", mdCell(warn))
	}
}

func mdCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", "<br>")
}

// WriteGitHub renders p as GitHub Actions workflow commands: a notice per
// create or update, a warning per delete and an error per blocked change,
// then a notice with the summary.
func WriteGitHub(w io.Writer, p *Plan) error {
	bw := bufio.NewWriter(w)
	for _, c := range p.Changes {
		level := "notice"
		switch c.Action {
		case Delete:
			level = "warning"
		case Blocked:
			level = "error"
		}
		msg := headline(c)
		if c.Reason != "" {
			msg += ": " + c.Reason
		}
		if len(c.Fields) > 0 {
			paths := make([]string, len(c.Fields))
			for i, f := range c.Fields {
				paths[i] = f.Path
			}
			msg += " (" + strings.Join(paths, ", ") + ")"
		}
		fmt.Fprintf(bw, "::%s title=%s::%s\n", level, ghProperty("fleetform plan"), ghData(msg))
	}
	for _, u := range p.Unverified {
		fmt.Fprintf(bw, "::warning title=%s::%s\n", ghProperty("fleetform plan"), ghData("secret not compared: "+unverifiedLine(u)))
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(bw, "::warning title=%s::%s\n", ghProperty("fleetform plan"), ghData(warn))
	}
	writeGitHubUnmanaged(bw, p)
	if p.Empty() {
		fmt.Fprintf(bw, "::notice title=%s::%s\n", ghProperty("fleetform plan"), ghData(noChanges(p)))
	} else {
		fmt.Fprintf(bw, "::notice title=%s::%s\n", ghProperty("fleetform plan"), ghData("Plan: "+p.Summary().String()+"."))
	}
	return flush(bw)
}

// ghData escapes a workflow command's message (actions/toolkit escapeData).
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property (actions/toolkit escapeProperty).
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
