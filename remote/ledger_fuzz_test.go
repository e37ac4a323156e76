package remote

import (
	"reflect"
	"testing"
)

// FuzzParseJournal: a rotation journal is read back from the state index,
// which anyone with write access to it can edit, after a crash. Properties:
// parseJournal never panics; a journal it accepts is written back
// (encodeJournal) to a form it reads as the same journal, so a crash
// between two saves never changes a rotation's generation, phase or
// credentials.
func FuzzParseJournal(f *testing.F) {
	f.Add("3", "swapping", "fleetform-remote-west-3", "fleetform-remote-west-2", "", "m", "2026-12-07T10:00:00.123456789Z")
	f.Add("", "", "", "", "", "", "")
	f.Add("x", "bogus", "", "", "", "", "yesterday")
	f.Add("-1", "idle", "", "", "", "", "2026-12-07T10:00:00+02:00")
	f.Fuzz(func(t *testing.T, gen, phase, current, previous, next, marker, started string) {
		d := map[string]string{"generation": gen, "phase": phase, "current": current, "previous": previous,
			"next": next, "marker": marker, "started_at": started}
		j, err := parseJournal(d)
		if err != nil {
			return
		}
		back, err := parseJournal(encodeJournal(j))
		if err != nil {
			t.Fatalf("journal %+v written back does not read: %v", j, err)
		}
		if !back.StartedAt.Equal(j.StartedAt) {
			t.Fatalf("started_at %v read back as %v", j.StartedAt, back.StartedAt)
		}
		back.StartedAt = j.StartedAt
		if !reflect.DeepEqual(back, j) {
			t.Fatalf("journal %+v read back as %+v", j, back)
		}
	})
}
