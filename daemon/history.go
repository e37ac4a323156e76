package daemon

import (
	"strings"
	"time"

	"github.com/fleetform/fleetform/notify"
)

// HistorySize is how many entries /status and the status page keep.
const HistorySize = 50

// Results of a turn, as /status and the history show them.
const (
	ResultApplied  = "applied"  // changes were applied and Fleet matches the revision
	ResultInSync   = "in-sync"  // the plan was empty: nothing to do
	ResultReported = "reported" // the plan was not empty and was not applied (drift mode report, or suspended)
	ResultBlocked  = "blocked"  // the plan holds changes fleetform must not make; the rest was applied
	ResultFailed   = "failed"   // the turn failed (source, validation or reconcile error)
)

// Turn is one entry of the history, newest first. Consecutive in-sync
// turns of one revision with the same trigger are one entry whose Turns
// counts them (First is the oldest, Time the newest), so that idle polls do
// not push the turns that changed something out of the history.
type Turn struct {
	Time     time.Time     `json:"time"`
	First    time.Time     `json:"first,omitzero"` // set when Turns > 1
	Turns    int           `json:"turns"`
	Revision string        `json:"revision,omitempty"`
	Trigger  string        `json:"trigger"`
	Changes  notify.Counts `json:"changes"` // the plan's changes by action
	Applied  int           `json:"applied"` // how many of them were applied
	Result   string        `json:"result"`
	Drift    bool          `json:"drift,omitempty"` // changes made outside Git were found
	Duration string        `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

// addHistory records t as the newest entry; l.mu must be held.
func (l *Loop) addHistory(t Turn) {
	t.Turns = 1
	h := l.status.History
	if len(h) > 0 && t.Result == ResultInSync && h[0].Result == ResultInSync &&
		h[0].Revision == t.Revision && h[0].Trigger == t.Trigger {
		if h[0].First.IsZero() {
			h[0].First = h[0].Time
		}
		h[0].Time, h[0].Duration = t.Time, t.Duration
		h[0].Turns++
		return
	}
	h = append(h, Turn{})
	copy(h[1:], h)
	h[0] = t
	if len(h) > HistorySize {
		h = h[:HistorySize]
	}
	l.status.History = h
}

// counts totals change counts by action.
func counts(cs []ChangeCount) notify.Counts {
	var c notify.Counts
	for _, x := range cs {
		switch x.Action {
		case "create":
			c.Create += x.Count
		case "update":
			c.Update += x.Count
		case "delete":
			c.Delete += x.Count
		case "blocked":
			c.Blocked += x.Count
		}
	}
	return c
}

// firstLine is the first line of msg, at most n runes.
func firstLine(msg string, n int) string {
	msg, _, _ = strings.Cut(msg, "\n")
	if r := []rune(msg); len(r) > n {
		msg = string(r[:n-1]) + "…"
	}
	return msg
}
