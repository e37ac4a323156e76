package remote

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fleetform/fleetform/secret"
)

// fakeCred is a credential kind whose remote (tokens) and output (held
// value, secret id) live in memory. Every call counts as a step; after the
// crashAt-th step the run's context is cancelled, which is what a killed
// process looks like from the outside: every later call fails.
type fakeCred struct {
	mu       sync.Mutex
	tokens   map[string]string // name -> value on the remote
	held     string            // value in the output
	secretID int               // changes on every swap, as Fleet's secret ids do
	serial   int
	healthy  bool // the output reports healthy after a swap
	agents   int  // agents using the output
	badMint  bool // minted credentials do not authenticate

	steps   []string
	crashAt int
	cancel  context.CancelFunc
}

func (f *fakeCred) step(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	f.steps = append(f.steps, name)
	if f.crashAt > 0 && len(f.steps) == f.crashAt && f.cancel != nil {
		defer f.cancel() // the step itself succeeds; the process dies right after
	}
	return nil
}

func (f *fakeCred) Name(gen int) string { return fmt.Sprintf("tok-%d", gen) }

func (f *fakeCred) Mint(ctx context.Context, name string) (secret.Value, error) {
	if err := f.step(ctx, "mint"); err != nil {
		return secret.Value{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.serial++
	v := fmt.Sprintf("value-%d", f.serial)
	f.tokens[name] = v
	if f.badMint {
		return secret.New("wrong-" + v), nil
	}
	return secret.New(v), nil
}

func (f *fakeCred) valid(v string) bool {
	for _, t := range f.tokens {
		if t == v {
			return true
		}
	}
	return false
}

func (f *fakeCred) Verify(ctx context.Context, v secret.Value) error {
	if err := f.step(ctx, "verify"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.valid(v.Reveal()) {
		return errors.New("401 unauthenticated")
	}
	return nil
}

func (f *fakeCred) Exists(ctx context.Context, name string) (bool, error) {
	if err := f.step(ctx, "exists"); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.tokens[name]
	return ok, nil
}

func (f *fakeCred) Revoke(ctx context.Context, name string) error {
	if err := f.step(ctx, "revoke"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.tokens, name)
	return nil
}

func (f *fakeCred) Swap(ctx context.Context, v secret.Value) error {
	if err := f.step(ctx, "swap"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held = v.Reveal()
	f.secretID++
	return nil
}

func (f *fakeCred) Marker(ctx context.Context) (string, error) {
	if err := f.step(ctx, "marker"); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprint(f.secretID), nil
}

func (f *fakeCred) Holds(ctx context.Context, m string) (bool, error) {
	if err := f.step(ctx, "holds"); err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return fmt.Sprint(f.secretID) == m, nil
}

func (f *fakeCred) Healthy(ctx context.Context) (bool, error) {
	if err := f.step(ctx, "healthy"); err != nil {
		return false, err
	}
	return f.healthy, nil
}

func (f *fakeCred) Agents(ctx context.Context) (int, error) {
	if err := f.step(ctx, "agents"); err != nil {
		return 0, err
	}
	return f.agents, nil
}

// memJournal is a JournalStore whose saves are steps of fakeCred too.
type memJournal struct {
	f *fakeCred
	j Journal
}

func (m *memJournal) LoadJournal(ctx context.Context) (Journal, error) {
	if err := m.f.step(ctx, "load"); err != nil {
		return Journal{}, err
	}
	return m.j, nil
}

func (m *memJournal) SaveJournal(ctx context.Context, j Journal) error {
	if err := m.f.step(ctx, "save:"+string(j.Phase)); err != nil {
		return err
	}
	m.j = j
	return nil
}

// newProvisioned returns a credential already in use: generation 1.
func newProvisioned(healthy bool) (*fakeCred, *memJournal) {
	f := &fakeCred{tokens: map[string]string{"tok-1": "value-0"}, held: "value-0", healthy: healthy}
	return f, &memJournal{f: f, j: Journal{Generation: 1, Current: "tok-1"}}
}

// checkWorking asserts the output holds a credential that exists.
func checkWorking(t *testing.T, f *fakeCred) {
	t.Helper()
	if !f.valid(f.held) {
		t.Fatalf("the output holds %q, which is not a live credential (live: %v)", f.held, f.tokens)
	}
}

// checkConverged asserts a finished rotation state: idle journal, exactly
// one credential left, the one the journal and the output name.
func checkConverged(t *testing.T, f *fakeCred, m *memJournal) {
	t.Helper()
	checkWorking(t, f)
	if m.j.Phase != PhaseIdle || m.j.Previous != "" || m.j.Next != "" {
		t.Errorf("journal not idle: %+v", m.j)
	}
	if names := slices.Sorted(maps.Keys(f.tokens)); len(names) != 1 || names[0] != m.j.Current {
		t.Errorf("credentials left %v, journal current %q", names, m.j.Current)
	}
	if f.tokens[m.j.Current] != f.held {
		t.Errorf("journal current %q is not what the output holds", m.j.Current)
	}
}

func TestRotation_Clean(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, m := newProvisioned(true)
		r := &Rotation{Cred: f, Store: m, Timeout: time.Minute, Poll: time.Second}
		res, err := r.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !res.Rotated || res.Current != "tok-2" || res.Revoked != "tok-1" || res.HealthTimeout {
			t.Errorf("result %+v", res)
		}
		want := []string{"load", "marker", "save:minting", "mint", "verify", "save:swapping", "swap",
			"save:swapped", "healthy", "save:revoking", "revoke", "save:"}
		if !slices.Equal(f.steps, want) {
			t.Errorf("steps\n got %v\nwant %v", f.steps, want)
		}
		checkConverged(t, f, m)
	})
}

// TestRotation_HealthTimeoutWithoutAgentsRevokes: an output no agent uses
// cannot report healthy; after the timeout the old credential cuts no one
// off and is revoked.
func TestRotation_HealthTimeoutWithoutAgentsRevokes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, m := newProvisioned(false)
		r := &Rotation{Cred: f, Store: m, Timeout: 2 * time.Minute, Poll: 10 * time.Second}
		start := time.Now()
		res, err := r.Rotate(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !res.HealthTimeout || !res.Rotated || res.Kept != "" {
			t.Errorf("result %+v", res)
		}
		if waited := time.Since(start); waited != 2*time.Minute {
			t.Errorf("waited %v, want the 2m timeout", waited)
		}
		checkConverged(t, f, m)
	})
}

// TestRotation_HealthTimeoutWithAgentsKeepsBoth: the output never reported
// healthy and agents use it: the old credential is not revoked, the run
// fails with ErrNotHealthy, and a later run revokes it once the output
// reports healthy.
func TestRotation_HealthTimeoutWithAgentsKeepsBoth(t *testing.T) {
	for _, timeout := range []time.Duration{2 * time.Minute, 0} {
		t.Run(fmt.Sprint("timeout=", timeout), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f, m := newProvisioned(false)
				f.agents = 3
				r := &Rotation{Cred: f, Store: m, Timeout: timeout, Poll: 10 * time.Second}
				res, err := r.Rotate(t.Context())
				if !errors.Is(err, ErrNotHealthy) {
					t.Fatalf("rotate of an output that never reported healthy = %v, want %v", err, ErrNotHealthy)
				}
				if res.Rotated || res.Revoked != "" || res.Kept != "tok-1" || res.Agents != 3 || !res.HealthTimeout {
					t.Errorf("result %+v", res)
				}
				if _, ok := f.tokens["tok-1"]; !ok {
					t.Fatal("the old credential was revoked although the output never reported healthy")
				}
				checkWorking(t, f)
				if m.j.Phase != PhaseSwapped || m.j.Current != "tok-2" || m.j.Previous != "tok-1" {
					t.Errorf("journal %+v, want swapped to tok-2 with tok-1 kept", m.j)
				}
				// Still unhealthy: a resume keeps both again.
				if _, err := r.Resume(t.Context()); !errors.Is(err, ErrNotHealthy) {
					t.Errorf("resume while unhealthy = %v", err)
				}
				f.healthy = true
				res, err = r.Resume(t.Context())
				if err != nil || res.Revoked != "tok-1" {
					t.Fatalf("resume once healthy = %+v, %v", res, err)
				}
				checkConverged(t, f, m)
			})
		})
	}
}

func TestRotation_NewCredentialFailsVerification(t *testing.T) {
	f, m := newProvisioned(true)
	f.badMint = true
	r := &Rotation{Cred: f, Store: m}
	res, err := r.Rotate(t.Context())
	if !errors.Is(err, ErrVerify) || !res.RolledBack {
		t.Fatalf("err %v, result %+v", err, res)
	}
	if f.held != "value-0" || m.j.Current != "tok-1" {
		t.Errorf("output moved off its working credential: held %q journal %+v", f.held, m.j)
	}
	checkConverged(t, f, m)
}

// TestRotation_CrashAtEveryStep kills the rotation after each step of a
// clean run, checks the output still has a working credential, then reruns
// (rotate again, or the resume that apply does) and checks convergence.
func TestRotation_CrashAtEveryStep(t *testing.T) {
	f0, m0 := newProvisioned(true)
	if _, err := (&Rotation{Cred: f0, Store: m0, Timeout: time.Minute}).Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	total := len(f0.steps)
	for _, rerun := range []string{"rotate", "resume"} {
		for crash := 1; crash < total; crash++ {
			t.Run(fmt.Sprintf("%s after step %d %s", rerun, crash, f0.steps[crash-1]), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f, m := newProvisioned(true)
					ctx, cancel := context.WithCancel(t.Context())
					f.crashAt, f.cancel = crash, cancel
					r := &Rotation{Cred: f, Store: m, Timeout: time.Minute, Poll: time.Second}
					if _, err := r.Rotate(ctx); err == nil {
						t.Fatalf("run killed after step %d succeeded", crash)
					}
					checkWorking(t, f)
					phase := m.j.Phase
					f.crashAt, f.steps = 0, nil
					var (
						res RotationResult
						err error
					)
					if rerun == "rotate" {
						res, err = r.Rotate(t.Context())
					} else {
						res, err = r.Resume(t.Context())
					}
					if err != nil {
						t.Fatalf("rerun: %v", err)
					}
					if res.Resumed != phase {
						t.Errorf("resumed %q, journal was in %q", res.Resumed, phase)
					}
					checkConverged(t, f, m)
					if rerun == "rotate" && m.j.Current != "tok-2" && m.j.Current != "tok-3" {
						t.Errorf("rotate rerun left %q in use; want a new generation", m.j.Current)
					}
				})
			})
		}
	}
}

// TestRotation_PrepareThenResume is the Minter's path: the reconciler swaps
// the value itself; Resume then revokes the old credential if the swap
// landed and the new one if it did not.
func TestRotation_PrepareThenResume(t *testing.T) {
	for _, landed := range []bool{true, false} {
		t.Run(fmt.Sprintf("landed=%v", landed), func(t *testing.T) {
			f, m := newProvisioned(true)
			r := &Rotation{Cred: f, Store: m}
			v, err := r.Prepare(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if m.j.Phase != PhaseSwapping || m.j.Next != "tok-2" {
				t.Fatalf("journal after Prepare: %+v", m.j)
			}
			if landed {
				if err := f.Swap(t.Context(), v); err != nil {
					t.Fatal(err)
				}
			}
			res, err := r.Resume(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if res.RolledBack == landed {
				t.Errorf("result %+v for landed=%v", res, landed)
			}
			checkConverged(t, f, m)
			want := "tok-1"
			if landed {
				want = "tok-2"
			}
			if m.j.Current != want {
				t.Errorf("current = %q, want %q", m.j.Current, want)
			}
		})
	}
}

func TestJournalEncoding(t *testing.T) {
	j := Journal{Phase: PhaseSwapping, Generation: 3, Current: "a", Previous: "b", Next: "c", Marker: "id:x",
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)}
	if got := decodeJournal(encodeJournal(j)); got != j {
		t.Errorf("round trip: got %+v, want %+v", got, j)
	}
}
