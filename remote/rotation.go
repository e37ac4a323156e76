package remote

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fleetform/fleetform/secret"
)

// RotationPhase is the step of a credential rotation recorded before the
// step starts, so that a crash at any point can be resumed or rolled back.
type RotationPhase string

const (
	// PhaseIdle: no rotation in progress.
	PhaseIdle RotationPhase = ""
	// PhaseMinting: the new credential Journal.Next may exist; its value was
	// only ever in memory, so a crash here rolls back (revoke Next).
	PhaseMinting RotationPhase = "minting"
	// PhaseSwapping: Next exists and authenticated; the output update is in
	// flight. On resume, an output that no longer holds Journal.Marker got
	// the new credential (roll forward); otherwise roll back.
	PhaseSwapping RotationPhase = "swapping"
	// PhaseSwapped: the output holds Current (the new credential); waiting
	// for it to report healthy before Previous is revoked.
	PhaseSwapped RotationPhase = "swapped"
	// PhaseRevoking: Previous is being revoked.
	PhaseRevoking RotationPhase = "revoking"
)

// Journal is the persisted state of one rotatable credential of an output.
// It holds names and markers, never a credential value.
type Journal struct {
	Phase      RotationPhase `json:"phase,omitempty"`
	Generation int           `json:"generation"`         // generation of Current
	Current    string        `json:"current,omitempty"`  // name of the credential the output uses
	Previous   string        `json:"previous,omitempty"` // the credential being retired
	Next       string        `json:"next,omitempty"`     // the credential being introduced
	// Marker identifies the credential the output held before the swap
	// (a Fleet secret id, or a salted hash of a plain value).
	Marker    string    `json:"marker,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// JournalStore persists a Journal (in the state index).
type JournalStore interface {
	LoadJournal(ctx context.Context) (Journal, error)
	SaveJournal(ctx context.Context, j Journal) error
}

// Credential is one rotatable credential of one output: a service token of
// elastic/fleet-server-remote or a remote Kibana API key.
type Credential interface {
	// Name returns the credential name of generation gen.
	Name(gen int) string
	// Mint creates the credential called name and returns its value.
	Mint(ctx context.Context, name string) (secret.Value, error)
	// Verify checks that v authenticates where the output will use it.
	Verify(ctx context.Context, v secret.Value) error
	// Exists reports whether the credential called name exists.
	Exists(ctx context.Context, name string) (bool, error)
	// Revoke deletes or invalidates the credential called name; an absent
	// credential is not an error.
	Revoke(ctx context.Context, name string) error
	// Swap puts v into the output.
	Swap(ctx context.Context, v secret.Value) error
	// Marker identifies the credential the output holds now.
	Marker(ctx context.Context) (string, error)
	// Holds reports whether the output still holds the credential of marker m.
	Holds(ctx context.Context, m string) (bool, error)
	// Healthy reports whether the output reports healthy since the swap.
	Healthy(ctx context.Context) (bool, error)
	// Agents counts the agents whose policies send data or monitoring
	// through the output (0: revoking the old credential cuts no one off).
	Agents(ctx context.Context) (int, error)
}

// Rotation drives the rotation state machine of one credential:
// mint new → verify → swap into the output → wait until healthy (or
// Timeout) → revoke old, with every step journaled first. The old
// credential is revoked only when the output reports healthy or no agent
// uses it; otherwise both stay valid and the run fails with ErrNotHealthy.
type Rotation struct {
	Cred    Credential
	Store   JournalStore
	Timeout time.Duration // how long to wait for the output to report healthy
	Poll    time.Duration // health poll interval
	Now     func() time.Time
}

// RotationResult says what a run did.
type RotationResult struct {
	Resumed       RotationPhase // the phase an interrupted rotation was found in, if any
	RolledBack    bool          // the interrupted rotation was rolled back
	Rotated       bool          // a new credential is in use and the old one is revoked
	Current       string        // the credential in use at the end
	Revoked       string        // the credential revoked, if any
	HealthTimeout bool          // the output did not report healthy within Timeout
	// Kept is the old credential left valid because the output did not
	// report healthy while agents use it (the run returns ErrNotHealthy).
	Kept   string
	Agents int // the agents using the output, when Kept is set
}

// ErrNotHealthy marks a rotation that swapped the new credential in but
// kept the old one: the output did not report healthy and agents use it.
// The journal stays in PhaseSwapped; a later run revokes the old credential
// once the output reports healthy (or no agent uses it).
var ErrNotHealthy = errors.New("the output did not report healthy; the old credential was kept")

// ErrVerify marks a new credential that did not authenticate; the rotation
// was rolled back and the output keeps its credential.
var ErrVerify = errors.New("new credential does not authenticate")

// Resume finishes or rolls back an interrupted rotation and leaves the
// journal idle. It does nothing when no rotation is in progress.
func (r *Rotation) Resume(ctx context.Context) (RotationResult, error) {
	j, err := r.Store.LoadJournal(ctx)
	if err != nil {
		return RotationResult{}, fmt.Errorf("load rotation journal: %w", err)
	}
	return r.resume(ctx, j)
}

// Rotate resumes an interrupted rotation if there is one, then rotates.
// An interrupted rotation that rolled forward counts as this rotation.
func (r *Rotation) Rotate(ctx context.Context) (RotationResult, error) {
	j, err := r.Store.LoadJournal(ctx)
	if err != nil {
		return RotationResult{}, fmt.Errorf("load rotation journal: %w", err)
	}
	if j.Phase != PhaseIdle {
		res, err := r.resume(ctx, j)
		if err != nil || res.Rotated {
			return res, err
		}
		j, err = r.Store.LoadJournal(ctx)
		if err != nil {
			return res, fmt.Errorf("load rotation journal: %w", err)
		}
		out, err := r.rotate(ctx, j)
		out.Resumed, out.RolledBack = res.Resumed, res.RolledBack
		return out, err
	}
	return r.rotate(ctx, j)
}

// Prepare starts a rotation whose swap someone else performs (the
// reconciler, when it creates or updates the output with a generated
// secret): it resumes an interrupted rotation, mints and verifies the next
// credential and leaves the journal in PhaseSwapping. The caller puts the
// value into the output; a later Resume sees whether it landed, then
// revokes the old credential or rolls the new one back.
func (r *Rotation) Prepare(ctx context.Context) (secret.Value, error) {
	j, err := r.Store.LoadJournal(ctx)
	if err != nil {
		return secret.Value{}, fmt.Errorf("load rotation journal: %w", err)
	}
	if j.Phase != PhaseIdle {
		if _, err := r.resume(ctx, j); err != nil {
			return secret.Value{}, err
		}
		if j, err = r.Store.LoadJournal(ctx); err != nil {
			return secret.Value{}, fmt.Errorf("load rotation journal: %w", err)
		}
	}
	marker, err := r.Cred.Marker(ctx)
	if err != nil {
		return secret.Value{}, fmt.Errorf("read the output's credential: %w", err)
	}
	j.Phase, j.Next, j.Marker, j.StartedAt = PhaseMinting, r.Cred.Name(j.Generation+1), marker, r.now()
	if err := r.save(ctx, j); err != nil {
		return secret.Value{}, err
	}
	v, err := r.Cred.Mint(ctx, j.Next)
	if err != nil {
		_, rbErr := r.rollback(ctx, j)
		return secret.Value{}, errors.Join(fmt.Errorf("mint %s: %w", j.Next, err), rbErr)
	}
	if err := r.Cred.Verify(ctx, v); err != nil {
		_, rbErr := r.rollback(ctx, j)
		return secret.Value{}, errors.Join(fmt.Errorf("%s: %w: %w", j.Next, ErrVerify, err), rbErr)
	}
	j.Phase = PhaseSwapping
	if err := r.save(ctx, j); err != nil {
		return secret.Value{}, err
	}
	return v, nil
}

func (r *Rotation) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Rotation) save(ctx context.Context, j Journal) error {
	if err := r.Store.SaveJournal(ctx, j); err != nil {
		return fmt.Errorf("save rotation journal (%s): %w", j.Phase, err)
	}
	return nil
}

func (r *Rotation) rotate(ctx context.Context, j Journal) (RotationResult, error) {
	res := RotationResult{Current: j.Current}
	marker, err := r.Cred.Marker(ctx)
	if err != nil {
		return res, fmt.Errorf("read the output's credential: %w", err)
	}
	j.Phase, j.Next, j.Marker, j.StartedAt = PhaseMinting, r.Cred.Name(j.Generation+1), marker, r.now()
	if err := r.save(ctx, j); err != nil {
		return res, err
	}
	v, err := r.Cred.Mint(ctx, j.Next)
	if err != nil {
		// The credential may exist even though the answer was lost.
		_, rbErr := r.rollback(ctx, j)
		return res, errors.Join(fmt.Errorf("mint %s: %w", j.Next, err), rbErr)
	}
	if err := r.Cred.Verify(ctx, v); err != nil {
		rb, rbErr := r.rollback(ctx, j)
		return rb, errors.Join(fmt.Errorf("%s: %w: %w", j.Next, ErrVerify, err), rbErr)
	}
	j.Phase = PhaseSwapping
	if err := r.save(ctx, j); err != nil {
		return res, err
	}
	if err := r.Cred.Swap(ctx, v); err != nil {
		// The update may have landed even though the answer was lost:
		// resolve it now if the output can be read, else on the next run.
		out, rerr := r.resume(ctx, j)
		return out, errors.Join(fmt.Errorf("swap %s into the output: %w", j.Next, err), rerr)
	}
	return r.afterSwap(ctx, j, res)
}

// afterSwap records the swap, waits for health and revokes the old credential.
func (r *Rotation) afterSwap(ctx context.Context, j Journal, res RotationResult) (RotationResult, error) {
	j = Journal{Phase: PhaseSwapped, Generation: j.Generation + 1, Current: j.Next, Previous: j.Current, StartedAt: j.StartedAt}
	res.Current = j.Current
	if err := r.save(ctx, j); err != nil {
		return res, err
	}
	return r.finish(ctx, j, res)
}

// finish revokes the old credential once the output reports healthy, or
// when no agent uses the output; otherwise it keeps both and returns
// ErrNotHealthy, leaving the journal in PhaseSwapped.
func (r *Rotation) finish(ctx context.Context, j Journal, res RotationResult) (RotationResult, error) {
	healthy, err := r.waitHealthy(ctx)
	if err != nil {
		return res, err
	}
	res.HealthTimeout = !healthy
	if !healthy && j.Previous != "" && j.Previous != j.Current {
		n, err := r.Cred.Agents(ctx)
		if err != nil {
			return res, fmt.Errorf("the output did not report healthy and its agents could not be counted, so %s was kept: %w", j.Previous, err)
		}
		if n > 0 {
			res.Kept, res.Agents = j.Previous, n
			return res, fmt.Errorf("%w: %d agents use the output; %s (new) is in the output and %s (old) stays valid", ErrNotHealthy, n, j.Current, j.Previous)
		}
	}
	j.Phase = PhaseRevoking
	if err := r.save(ctx, j); err != nil {
		return res, err
	}
	return r.revoke(ctx, j, res)
}

func (r *Rotation) revoke(ctx context.Context, j Journal, res RotationResult) (RotationResult, error) {
	if j.Previous != "" && j.Previous != j.Current {
		if err := r.Cred.Revoke(ctx, j.Previous); err != nil {
			return res, fmt.Errorf("revoke %s: %w", j.Previous, err)
		}
		res.Revoked = j.Previous
	}
	res.Rotated, res.Current = true, j.Current
	return res, r.save(ctx, Journal{Generation: j.Generation, Current: j.Current})
}

// rollback revokes the half-introduced credential Next and leaves the
// output on its current one.
func (r *Rotation) rollback(ctx context.Context, j Journal) (RotationResult, error) {
	res := RotationResult{Current: j.Current, RolledBack: true}
	if j.Next != "" && j.Next != j.Current {
		if err := r.Cred.Revoke(ctx, j.Next); err != nil {
			return res, fmt.Errorf("roll back: revoke %s: %w", j.Next, err)
		}
	}
	return res, r.save(ctx, Journal{Generation: j.Generation, Current: j.Current})
}

func (r *Rotation) resume(ctx context.Context, j Journal) (RotationResult, error) {
	res := RotationResult{Resumed: j.Phase, Current: j.Current}
	var (
		out RotationResult
		err error
	)
	switch j.Phase {
	case PhaseIdle:
		return res, nil
	case PhaseMinting:
		out, err = r.rollback(ctx, j)
	case PhaseSwapping:
		held, herr := r.Cred.Holds(ctx, j.Marker)
		if herr != nil {
			return res, fmt.Errorf("resume %s: %w", j.Phase, herr)
		}
		if held {
			out, err = r.rollback(ctx, j) // the swap never landed
		} else {
			out, err = r.afterSwap(ctx, j, res)
		}
	case PhaseSwapped:
		out, err = r.finish(ctx, j, res)
	case PhaseRevoking:
		out, err = r.revoke(ctx, j, res)
	default:
		return res, fmt.Errorf("unknown rotation phase %q", j.Phase)
	}
	out.Resumed = j.Phase
	return out, err
}

// waitHealthy polls the output's health until it reports healthy or
// Timeout passes; without a Timeout it asks once.
func (r *Rotation) waitHealthy(ctx context.Context) (bool, error) {
	if r.Timeout <= 0 {
		ok, err := r.Cred.Healthy(ctx)
		return err == nil && ok, nil
	}
	poll := r.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	deadline := time.NewTimer(r.Timeout)
	defer deadline.Stop()
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		ok, err := r.Cred.Healthy(ctx)
		if err == nil && ok {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-deadline.C:
			return false, nil
		case <-tick.C:
		}
	}
}
