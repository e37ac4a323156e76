package daemon

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/fleetform/fleetform/notify"
	"github.com/fleetform/fleetform/plan"
)

// The HTML status page (GET /): the state of the loop, the field-level
// diff of the last plan and of the last change, the remote outputs'
// integration sync tables, and the history of turns. It is rendered on the
// server from Status alone (no script: the CSP forbids it) and refreshes
// itself every 10 seconds.

// page is what the template renders.
type page struct {
	Status
	// Now is when the page was rendered ("3m ago" is relative to it).
	Now time.Time
}

func newPage(s Status) page { return page{Status: s, Now: time.Now()} }

// diffLine is one line of a plan's text view with its CSS class.
type diffLine struct {
	Class, Text string
}

// planLines renders p with the plan's own text view (the one `fleetform
// plan` prints) and classes each line by its marker: add, del, chg, blk,
// comment.
func planLines(p *plan.Plan) []diffLine {
	if p == nil {
		return nil
	}
	var b bytes.Buffer
	if err := plan.WriteText(&b, p); err != nil {
		return []diffLine{{Class: "del", Text: err.Error()}}
	}
	var out []diffLine
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		class := ""
		switch t := strings.TrimLeft(l, " "); {
		case strings.HasPrefix(t, "+ "):
			class = "add"
		case strings.HasPrefix(t, "- "):
			class = "del"
		case strings.HasPrefix(t, "~ "):
			class = "chg"
		case strings.HasPrefix(t, "! "):
			class = "blk"
		case strings.HasPrefix(t, "#"):
			class = "comment"
		}
		out = append(out, diffLine{class, l})
	}
	return out
}

// changeCounts is the history's changes column: "+1 ~2 -0", with "!n"
// when changes were blocked, or "none".
func changeCounts(c notify.Counts) string {
	if c == (notify.Counts{}) {
		return "none"
	}
	s := fmt.Sprintf("+%d ~%d -%d", c.Create, c.Update, c.Delete)
	if c.Blocked > 0 {
		s += fmt.Sprintf(" !%d", c.Blocked)
	}
	return s
}

// since is a rounded duration from t to now, "never" for a zero t.
func since(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return d.Round(time.Second).String() + " ago"
	case d < time.Hour:
		return d.Round(time.Minute).String() + " ago"
	default:
		return d.Round(time.Hour).String() + " ago"
	}
}

// stateClass is the CSS class of a result or sync state.
func stateClass(s string) string {
	switch s {
	case ResultApplied, ResultInSync, "completed":
		return "ok"
	case ResultReported, "synchronizing", "drifted":
		return "chg"
	case ResultBlocked, "warning":
		return "blk"
	case ResultFailed:
		return "bad"
	}
	return ""
}

//go:embed status.html
var statusHTML string

var statusPage = template.Must(template.New("status").Funcs(template.FuncMap{
	"short":      short,
	"since":      since,
	"planLines":  planLines,
	"counts":     changeCounts,
	"stateClass": stateClass,
	"clock":      func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"dash": func(s string) string {
		if s == "" {
			return "–"
		}
		return s
	},
}).Parse(statusHTML))
