package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/reconciler"
)

// The terminal side of apply, as Terraform does it: on a terminal, show the
// plan and ask before writing; stream one line per change as it starts and
// ends; say every 30 seconds that a long change is still running; colour
// the + ~ - ! markers (unless NO_COLOR is set).

// terminal reports whether apply talks to a person: stdin and stdout are
// terminals. Tests replace it; in CI (no terminal) apply never asks.
var terminal = func() bool {
	return term.IsTerminal(int(os.Stdin.Fd())) && term.IsTerminal(int(os.Stdout.Fd()))
}

// stdoutTerminal reports whether stdout is a terminal (colour). Tests
// replace it.
var stdoutTerminal = func() bool { return term.IsTerminal(int(os.Stdout.Fd())) }

// applyUI is how apply talks: interactive asks before writing, colour
// colours the markers.
type applyUI struct{ interactive, colour bool }

// stdin is where the approval is read from. Tests replace it.
var stdin io.Reader = os.Stdin

// stillRunningEvery is how often apply says a change is still running.
var stillRunningEvery = 30 * time.Second

// useColour reports whether to colour output on a terminal: not when
// NO_COLOR is set to anything (https://no-color.org).
func useColour(tty bool) bool {
	_, noColour := os.LookupEnv("NO_COLOR")
	return tty && !noColour
}

// approve asks the Terraform question and reports whether the answer was
// exactly "yes".
func approve(in io.Reader, out io.Writer) bool {
	fmt.Fprint(out, "\nDo you want to perform these actions?\n"+
		"  fleetform will perform the actions described above.\n"+
		"  Only 'yes' will be accepted to approve.\n\n"+
		"  Enter a value: ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	return strings.TrimSpace(line) == "yes"
}

// markerRE finds the action marker at the start of a plan line.
var markerRE = regexp.MustCompile(`^(\s*)([+~!-])( )`)

// colours of the markers: + green, ~ yellow, - red, ! bold red.
var markerColour = map[string]string{"+": "\033[32m", "~": "\033[33m", "-": "\033[31m", "!": "\033[1;31m"}

// colourLines returns text with the marker of every plan line coloured.
func colourLines(text string) string {
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if m := markerRE.FindStringSubmatchIndex(l); m != nil {
			sym := l[m[4]:m[5]]
			lines[i] = l[:m[4]] + markerColour[sym] + sym + "\033[0m" + l[m[5]:]
		}
	}
	return strings.Join(lines, "")
}

// writePlan writes p as text, coloured when colour is set.
func writePlan(w io.Writer, p *plan.Plan, colour bool) error {
	if !colour {
		return plan.WriteText(w, p)
	}
	var buf bytes.Buffer
	if err := plan.WriteText(&buf, p); err != nil {
		return err
	}
	_, err := io.WriteString(w, colourLines(buf.String()))
	return err
}

// progress prints one line as each change starts and one as it ends, and
// every stillRunningEvery a "still …" line for each change still running.
// It is safe for concurrent use (the reconciler runs independent changes
// at once).
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	colour  bool
	running map[string]running // by change key
	ended   map[string]bool    // changes whose end was printed
	stop    chan struct{}
	done    chan struct{}
}

func newProgress(w io.Writer, colour bool) *progress {
	p := &progress{w: w, colour: colour, running: map[string]running{}, ended: map[string]bool{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.tick()
	return p
}

// running is a change that started and has not ended.
type running struct {
	change plan.Change
	start  time.Time
}

// report is the reconciler.ProgressFunc.
func (p *progress) report(ch plan.Change, status string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	key := ch.Key()
	if status == reconciler.StatusStarted {
		p.running[key] = running{ch, time.Now()}
		fmt.Fprintf(p.w, "%s: %s…\n", changeName(ch, p.colour), ing(ch))
		return
	}
	r, wasRunning := p.running[key]
	delete(p.running, key)
	p.ended[key] = true
	fmt.Fprintln(p.w, endLine(ch, status, err, p.colour, wasRunning, time.Since(r.start)))
}

// finish stops the ticker and prints the end of every outcome the
// reconciler did not report as it happened (changes on remote clusters).
func (p *progress) finish(outcomes []reconciler.Outcome) {
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range outcomes {
		if o.Change.Kind == "" || p.ended[o.Change.Key()] {
			continue
		}
		p.ended[o.Change.Key()] = true
		fmt.Fprintln(p.w, endLine(o.Change, o.Status, o.Err, p.colour, false, 0))
	}
}

func (p *progress) tick() {
	defer close(p.done)
	t := time.NewTicker(stillRunningEvery)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			keys := slices.Sorted(maps.Keys(p.running))
			for _, k := range keys {
				r := p.running[k]
				fmt.Fprintf(p.w, "%s: still %s… [%s elapsed]\n", changeName(r.change, p.colour), ing(r.change), now.Sub(r.start).Round(time.Second))
			}
			p.mu.Unlock()
		}
	}
}

// changeName is the change as the plan names it: "+ output "x"", on a
// remote "west: + output "x"".
func changeName(ch plan.Change, colour bool) string {
	sym := planSymbol(ch.Action)
	if colour {
		sym = markerColour[sym] + sym + "\033[0m"
	}
	name := fmt.Sprintf("%s %s %q", sym, ch.Kind, ch.ID)
	if c := ch.Cluster; c != "" && c != "main" {
		name = c + ": " + name
	}
	return name
}

func endLine(ch plan.Change, status string, err error, colour, timed bool, took time.Duration) string {
	line := changeName(ch, colour) + ": "
	switch status {
	case reconciler.StatusApplied:
		line += pastTense(ch)
		if timed {
			line += fmt.Sprintf(" [%s]", took.Round(100*time.Millisecond))
		}
	case reconciler.StatusBlocked:
		line += "blocked"
		if ch.Reason != "" {
			line += ": " + ch.Reason
		}
	default:
		line += status
		if err != nil {
			line += ": " + err.Error()
		}
	}
	return line
}

func planSymbol(a plan.Action) string {
	switch a {
	case plan.Create:
		return "+"
	case plan.Update:
		return "~"
	case plan.Delete:
		return "-"
	case plan.Blocked:
		return "!"
	}
	return "="
}

// ing is what a running change is doing: "installing" for a package,
// else "creating", "updating", "deleting".
func ing(ch plan.Change) string {
	if ch.Kind == "package" && ch.Action != plan.Delete {
		return "installing"
	}
	switch ch.Action {
	case plan.Create:
		return "creating"
	case plan.Update:
		return "updating"
	case plan.Delete:
		return "deleting"
	}
	return "applying"
}

func pastTense(ch plan.Change) string {
	if ch.Kind == "package" && ch.Action != plan.Delete {
		return "installed"
	}
	switch ch.Action {
	case plan.Create:
		return "created"
	case plan.Update:
		return "updated"
	case plan.Delete:
		return "deleted"
	}
	return "applied"
}

// stillRunning prints "still <what>… [30s elapsed]" to w every
// stillRunningEvery until the returned stop is called (a rotation waiting
// for the output to report healthy, say).
func stillRunning(w io.Writer, what string) (stop func()) {
	start := time.Now()
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(stillRunningEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				fmt.Fprintf(w, "still %s… [%s elapsed]\n", what, now.Sub(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
