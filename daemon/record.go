package daemon

import (
	"time"

	"github.com/fleetform/fleetform/notify"
)

// record updates /status, the metrics and the history after a turn, and
// queues the notifications it calls for. recErr is the reconciler's error
// (nil when it succeeded, or did not run because good is nil); err is the
// turn's, source errors included.
func (l *Loop) record(good *revision, out Outcome, apply, suspended bool, trigger string, start time.Time, elapsed time.Duration, recErr, err error) (drift bool) {
	reconciled := good != nil && recErr == nil
	l.m.reconcileDuration.Observe(elapsed.Seconds())
	result := "success"
	if err != nil {
		result = "error"
	}
	l.m.reconciles.WithLabelValues(result).Inc()
	for _, c := range out.Applied {
		l.m.changesApplied.WithLabelValues(c.Kind, c.Action).Add(float64(c.Count))
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	// Drift is a non-empty plan for the revision Fleet already matched: a
	// change made outside Git. A new revision's changes are not drift.
	drift = good != nil && out.Drift && good.rev == l.settled
	if drift {
		l.m.drift.Inc()
	}
	if reconciled || out.Plan != nil {
		l.setPending(out.Planned, out.Applied)
	}

	s := &l.status
	s.Turns++
	s.Suspended = suspended
	s.LastTrigger = trigger
	s.LastAttempt = start.UTC()
	s.LastDuration = elapsed.Round(time.Millisecond).String()
	s.Invalid = nil
	if l.bad != nil {
		s.Invalid = &InvalidRevision{Revision: l.bad.rev, Error: l.bad.err.Error()}
		l.noteResult(&l.noteBad, notify.Event{Revision: l.bad.rev, Result: notify.Failed, Trigger: trigger,
			Message: firstLine("invalid revision: "+l.bad.err.Error(), 200), Time: start.UTC()})
	}
	if good != nil {
		s.Revision = good.rev
	}

	turn := Turn{Time: start.UTC(), Trigger: trigger, Changes: counts(out.Planned), Applied: Total(out.Applied),
		Drift: drift, Duration: s.LastDuration, Result: turnResult(out, apply, recErr, err)}
	if good != nil {
		turn.Revision = good.rev
	}
	if err != nil {
		turn.Error = firstLine(err.Error(), 300)
	}
	l.addHistory(turn)

	if reconciled || out.Plan != nil {
		sum := &Summary{Revision: good.rev, Applied: apply, Drift: drift, Planned: sortCounts(out.Planned),
			AppliedChanges: sortCounts(out.Applied), Time: start.UTC(), Trigger: trigger, Result: turn.Result, Plan: out.Plan}
		s.Last = sum
		if out.Drift {
			s.LastChange = sum
		}
	}
	if reconciled {
		s.Outputs = out.Outputs
		if apply || !out.Drift {
			l.settled = good.rev
		}
	}
	if good != nil && (reconciled || recErr != nil) {
		l.noteResult(&l.noteGood, l.event(good.rev, turn, out, apply, suspended, recErr))
	}

	s.LastError = ""
	if err != nil {
		s.LastError = err.Error()
		return drift
	}
	s.LastSuccess = start.UTC()
	s.Ready = true
	l.m.lastSuccess.Set(float64(start.Unix()))
	if apply {
		s.AppliedRevision = good.rev
		l.m.revision.Reset()
		l.m.revision.WithLabelValues(good.rev).Set(1)
	}
	return drift
}

// turnResult classifies a turn for the history. Source errors make a turn
// failed even when the last good revision reconciled.
func turnResult(out Outcome, apply bool, recErr, err error) string {
	switch {
	case recErr != nil && len(out.Planned) > 0 && onlyBlockedLeft(out):
		return ResultBlocked
	case err != nil:
		return ResultFailed
	case !out.Drift:
		return ResultInSync
	case !apply:
		return ResultReported
	default:
		return ResultApplied
	}
}

// onlyBlockedLeft reports whether every planned change that was not blocked
// was applied: the turn's error is then the blocked changes'.
func onlyBlockedLeft(out Outcome) bool {
	c := counts(out.Planned)
	return c.Blocked > 0 && Total(out.Applied) >= c.Create+c.Update+c.Delete
}

// event is the notification for a reconciled (or failed) revision.
func (l *Loop) event(rev string, turn Turn, out Outcome, apply, suspended bool, recErr error) notify.Event {
	e := notify.Event{Revision: rev, Trigger: turn.Trigger, Time: turn.Time, Changes: counts(out.Applied)}
	e.Changes.Blocked = turn.Changes.Blocked
	switch {
	case turn.Result == ResultBlocked:
		e.Result = notify.Blocked
		e.Message = firstLine(recErr.Error(), 200)
	case recErr != nil:
		e.Result, e.Message = notify.Failed, firstLine(recErr.Error(), 200)
	case apply || !out.Drift:
		e.Result = notify.Applied
	default:
		e.Result, e.Changes = notify.Pending, turn.Changes
		e.Message = "not applied: drift mode report"
		if suspended {
			e.Message = "not applied: suspended"
		}
	}
	return e
}

// setPending sets fleetform_changes_pending to what the plan holds that was
// not applied; l.mu must be held.
func (l *Loop) setPending(planned, applied []ChangeCount) {
	left := map[[2]string]int{}
	for _, c := range planned {
		left[[2]string{c.Kind, c.Action}] += c.Count
	}
	for _, c := range applied {
		left[[2]string{c.Kind, c.Action}] -= c.Count
	}
	for k := range left {
		l.pending[k] = true
	}
	for k := range l.pending {
		l.m.changesPlanned.WithLabelValues(k[0], k[1]).Set(float64(max(left[k], 0)))
	}
}
