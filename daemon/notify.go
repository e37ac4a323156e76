package daemon

import (
	"context"
	"sync"
	"time"

	"github.com/fleetform/fleetform/notify"
)

// WithNotifier sends an event (commit status, webhook; see package notify)
// when the result for a revision changes: applied, failed, blocked, or
// reported without applying. Idle turns that find what the last one found
// send nothing. Delivery runs beside the loop: a slow or failing
// destination is retried by the notifier, then logged and counted in
// fleetform_notifications_total{result="failed"}; it never fails or delays
// a turn. Several WithNotifier options (or a notify.Multi) each get every
// event.
func WithNotifier(n notify.Notifier) Option {
	return func(l *Loop) {
		if m, ok := n.(notify.Multi); ok {
			l.notifiers = append(l.notifiers, m...)
			return
		}
		if n != nil {
			l.notifiers = append(l.notifiers, n)
		}
	}
}

// notifyQueue is the capacity of the queue of events not yet delivered;
// when full, new events are dropped (and counted).
const notifyQueue = 64

// notifyTimeout bounds one event's delivery to one destination, retries
// included.
var notifyTimeout = 30 * time.Second

// notified is the last result sent for a revision; only a change of it is
// sent again.
type notified struct {
	rev    string
	result notify.Result
}

// noteResult queues e unless *last already says the same about the same
// revision; l.mu must be held.
func (l *Loop) noteResult(last *notified, e notify.Event) {
	if len(l.notifiers) == 0 || (last.rev == e.Revision && last.result == e.Result) {
		return
	}
	*last = notified{e.Revision, e.Result}
	e.FormatVersion = notify.FormatVersion
	select {
	case l.events <- e:
	default:
		for _, n := range l.notifiers {
			l.m.notifications.WithLabelValues(n.Name(), "dropped").Inc()
		}
		l.log.Error("notification queue full; event dropped", "revision", e.Revision, "result", e.Result)
	}
}

// deliver sends queued events until stop is closed, then sends what is
// left (bounded by notifyTimeout) and returns.
func (l *Loop) deliver(ctx context.Context, stop <-chan struct{}) {
	for {
		select {
		case e := <-l.events:
			l.send(ctx, e)
		case <-stop:
			l.flushNotifications(ctx)
			return
		}
	}
}

// flushNotifications sends every queued event now.
func (l *Loop) flushNotifications(ctx context.Context) {
	for {
		select {
		case e := <-l.events:
			l.send(ctx, e)
		default:
			return
		}
	}
}

// send delivers e to every destination concurrently and records each
// outcome.
func (l *Loop) send(ctx context.Context, e notify.Event) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range l.notifiers {
		wg.Go(func() {
			log := l.log.With("notifier", n.Name(), "revision", e.Revision, "result", e.Result)
			if err := n.Notify(ctx, e); err != nil {
				l.m.notifications.WithLabelValues(n.Name(), "failed").Inc()
				log.Error("notification failed", "err", err)
				return
			}
			l.m.notifications.WithLabelValues(n.Name(), "sent").Inc()
			log.Debug("notification sent")
		})
	}
	wg.Wait()
}
