package remote

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/schema"
)

// ErrNoGenerated is returned by Rotate for an output without generated credentials.
var ErrNoGenerated = errors.New("output has no generate: true credential")

// CredentialRotation is the outcome of rotating one credential.
type CredentialRotation struct {
	Output string
	Remote string
	Kind   string // KindServiceToken or KindAPIKey
	RotationResult
}

// Rotate rotates every generated credential of output outputID (service
// token, Kibana API key): mint, verify, swap into the output, wait until
// the output reports healthy or HealthTimeout passes, revoke the old one
// (only if the output reported healthy or no agent uses it: otherwise it
// is kept and the error wraps ErrNotHealthy).
// An interrupted rotation is resumed or rolled back first.
func (e *Engine) Rotate(ctx context.Context, doc *schema.Document, outputID string) ([]CredentialRotation, error) {
	ts, problems := e.targets(doc)
	i := slices.IndexFunc(ts, func(t target) bool { return t.out.ID == outputID })
	if i < 0 {
		for _, p := range problems {
			if p.Output == outputID {
				return nil, errors.New(p.String())
			}
		}
		return nil, fmt.Errorf("output %s is not a declared remote_elasticsearch output with remote:", outputID)
	}
	t := ts[i]
	kinds := e.credKinds(t, nil)
	if len(kinds) == 0 {
		return nil, fmt.Errorf("output %s: %w", outputID, ErrNoGenerated)
	}
	if t.obj.ServiceToken != nil {
		// Refused before the journal is touched, as a plan refuses it.
		info, err := t.cluster.ES.Info(ctx)
		if err != nil {
			return nil, fmt.Errorf("output %s: read the elasticsearch version of %s: %w", outputID, t.cluster.Name, err)
		}
		if ps := esVersionProblems(t, info.Version.Number); len(ps) > 0 {
			return nil, fmt.Errorf("%w: %s", ErrPreflight, ps[0])
		}
	}
	var out []CredentialRotation
	var errs []error
	for _, k := range kinds {
		rot := e.rotation(t, k, e.cfg.HealthTimeout)
		if names, err := e.existingNames(ctx, t, k); err == nil {
			if err := e.seedGeneration(ctx, rot, k, names); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		res, err := rot.Rotate(ctx)
		out = append(out, CredentialRotation{Output: outputID, Remote: t.cluster.Name, Kind: k.kind, RotationResult: res})
		if err != nil {
			errs = append(errs, fmt.Errorf("rotate %s of output %s: %w", k.kind, outputID, err))
			continue
		}
		e.log.Info("credential rotated", "output", outputID, "remote", t.cluster.Name, "kind", k.kind,
			"current", res.Current, "revoked", res.Revoked, "health_timeout", res.HealthTimeout)
	}
	return out, errors.Join(errs...)
}

// OutputStatus is the sync and health state of one remote output.
type OutputStatus struct {
	Output       string               `json:"output"`
	Remote       string               `json:"remote"`
	SyncVia      string               `json:"sync_via,omitempty"` // empty: sync off
	Integrations []IntegrationStatus  `json:"integrations"`
	Error        string               `json:"error,omitempty"`
	Follower     *FollowerHealth      `json:"follower,omitempty"`
	Health       *kibana.OutputHealth `json:"health,omitempty"`
	HealthError  string               `json:"health_error,omitempty"`
	// Rotations are the credential rotations of the output in progress
	// (journal not idle), e.g. an old credential kept until the output
	// reports healthy.
	Rotations []RotationStatus `json:"rotations,omitempty"`
}

// RotationStatus is one credential rotation in progress.
type RotationStatus struct {
	Kind     string        `json:"kind"` // KindServiceToken or KindAPIKey
	Phase    RotationPhase `json:"phase"`
	Current  string        `json:"current,omitempty"`  // the credential the output holds (after the swap)
	Previous string        `json:"previous,omitempty"` // the old one, still valid
	Next     string        `json:"next,omitempty"`     // the one being introduced (before the swap)
}

// FollowerHealth is the state of an output's follower index.
type FollowerHealth struct {
	Index      string `json:"index"`
	Status     string `json:"status"` // active | paused | missing | not a follower
	FatalError string `json:"fatal_error,omitempty"`
}

// Status reports, per remote output, the sync state of every integration
// (Kibana's remote_status in ccr mode, computed by fleetform with Kibana's
// rules in direct mode), the follower's health and the output's health.
func (e *Engine) Status(ctx context.Context, doc *schema.Document) ([]OutputStatus, error) {
	ts, problems := e.targets(doc)
	var errs []error
	for _, p := range problems {
		if p.Check == "remote" {
			errs = append(errs, errors.New(p.String()))
		}
	}
	w, err := e.observe(ctx, ts)
	if err != nil {
		return nil, errors.Join(append(errs, err)...)
	}
	out := make([]OutputStatus, 0, len(ts))
	for _, t := range ts {
		s := OutputStatus{Output: t.out.ID, Remote: t.cluster.Name, SyncVia: t.obj.SyncVia, Integrations: []IntegrationStatus{}}
		if h, err := e.cfg.MainFleet.OutputHealth(ctx, t.out.ID); err != nil {
			s.HealthError = err.Error()
		} else {
			s.Health = &h
		}
		for _, k := range e.credKinds(t, nil) {
			if j := w.ledger.journal(t.cluster.Name, k.ledger, t.out.ID); j.Phase != PhaseIdle {
				s.Rotations = append(s.Rotations, RotationStatus{Kind: k.kind, Phase: j.Phase, Current: j.Current, Previous: j.Previous, Next: j.Next})
			}
		}
		ro := w.remotes[t.cluster.Name]
		switch t.obj.SyncVia {
		case SyncViaCCR:
			if f := t.obj.Follower; f != nil {
				s.Follower = followerHealth(f.Index, ro.followers[f.Index])
			}
			st, err := e.cfg.MainFleet.RemoteStatus(ctx, t.out.ID)
			if err != nil {
				s.Error = err.Error()
				break
			}
			s.Error = st.Error
			for _, i := range st.Integrations {
				s.Integrations = append(s.Integrations, IntegrationStatus{
					PackageName: i.PackageName, PackageVersion: i.PackageVersion, SyncStatus: i.SyncStatus,
					InstallStatus: InstallStatus{Main: i.InstallStatus.Main, Remote: i.InstallStatus.Remote},
					UpdatedAt:     i.UpdatedAt, Error: i.Error, Warning: (*Warning)(i.Warning),
				})
			}
		case SyncViaDirect:
			if t.cluster.Kibana == nil {
				s.Error = "sync_via: direct needs the remote's kibana endpoint"
				break
			}
			syncUninstalled := t.out.SyncUninstalledIntegrations != nil && *t.out.SyncUninstalledIntegrations
			var main []Package
			for _, p := range w.mainInstalled {
				main = append(main, Package{Name: p.Name, Version: p.Version, Status: p.Status})
			}
			want := MainIntegrations(main, w.ledger.seen(e.cfg.MainCluster), syncUninstalled)
			s.Integrations = ComputeStatus(want, remotePackages(ro.packages, w.ledger, t.cluster.Name), syncUninstalled)
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}

func followerHealth(index string, f FollowerObserved) *FollowerHealth {
	h := &FollowerHealth{Index: index, Status: f.Status, FatalError: f.FatalError}
	switch {
	case !f.Exists:
		h.Status = "missing"
	case !f.Follower:
		h.Status = "not a follower"
	}
	return h
}
