package remote

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fleetform/fleetform/plan"
	"github.com/fleetform/fleetform/schema"
)

// Planning the remote credentials of an output: generated service tokens
// and Kibana API keys, their generations and rotations.

// tokenRef is the output's service token reference, stored or plain.
func tokenRef(o schema.Output) *schema.SecretRef {
	if o.Secrets != nil && o.Secrets.ServiceToken != nil {
		return o.Secrets.ServiceToken
	}
	return o.ServiceToken
}

// credKind describes one generated credential of a target.
type credKind struct {
	kind      string // KindServiceToken or KindAPIKey
	ledger    string // LedgerJournalToken or LedgerJournalAPIKey
	path      string // the output's field
	plainPath string
	prefix    string
	existing  []string // names with prefix on the remote
}

func (e *Engine) credKinds(t target, ro *remoteObs) []credKind {
	var ks []credKind
	if s := t.obj.ServiceToken; s != nil {
		path := "secrets.service_token"
		if s.Plain {
			path = "service_token"
		}
		k := credKind{kind: KindServiceToken, ledger: LedgerJournalToken, path: path, plainPath: "service_token", prefix: s.Prefix}
		if ro != nil {
			for _, n := range ro.tokens {
				if strings.HasPrefix(n, s.Prefix) && isGeneration(n, s.Prefix) {
					k.existing = append(k.existing, n)
				}
			}
		}
		ks = append(ks, k)
	}
	if s := t.obj.KibanaAPIKey; s != nil {
		k := credKind{kind: KindAPIKey, ledger: LedgerJournalAPIKey, path: "kibana_api_key", plainPath: "kibana_api_key", prefix: s.Prefix}
		if ro != nil {
			for _, a := range ro.keys {
				if isGeneration(a.Name, s.Prefix) {
					k.existing = append(k.existing, a.Name)
				}
			}
		}
		ks = append(ks, k)
	}
	return ks
}

// isGeneration reports whether name is prefix followed by a generation number.
func isGeneration(name, prefix string) bool {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || rest == "" {
		return false
	}
	_, err := strconv.Atoi(rest)
	return err == nil
}

func maxGeneration(names []string, prefix string) int {
	g := 0
	for _, n := range names {
		if v, err := strconv.Atoi(strings.TrimPrefix(n, prefix)); err == nil && v > g {
			g = v
		}
	}
	return g
}

// rotation builds the rotation machinery of one credential of t.
func (e *Engine) rotation(t target, k credKind, timeout time.Duration) *Rotation {
	oc := &outputCred{main: e.cfg.MainFleet, outputID: t.out.ID, path: k.path, plainPath: k.plainPath,
		hasher: e.cfg.Hasher, inventory: e.cfg.Inventory, cluster: e.cfg.MainCluster}
	var cred Credential
	if k.kind == KindServiceToken {
		cred = &tokenCred{outputCred: oc, spec: *t.obj.ServiceToken, es: t.cluster.ES}
	} else {
		cred = &keyCred{outputCred: oc, spec: *t.obj.KibanaAPIKey, es: t.cluster.ES}
	}
	store := &ledgerJournal{ledger: e.cfg.Ledger, cluster: t.cluster.Name, kind: k.ledger, id: t.out.ID, now: e.cfg.Now}
	return &Rotation{Cred: cred, Store: store, Timeout: timeout, Poll: e.cfg.HealthPoll, Now: e.cfg.Now}
}

func mainMints(p *plan.Plan, cluster, outputID, path string) bool {
	if p == nil {
		return false
	}
	for _, ch := range p.Changes {
		if ch.Cluster != cluster || ch.Kind != plan.KindOutput || ch.ID != outputID {
			continue
		}
		for _, f := range ch.Fields {
			if f.Path == path && f.After == plan.ToBeGenerated {
				return ch.Action == plan.Create || ch.Action == plan.Update
			}
		}
	}
	return false
}

func (e *Engine) computeCredentials(c *computed, t target, ro *remoteObs, w *world, mainPlan *plan.Plan) {
	outKey := plan.Key(e.cfg.MainCluster, plan.KindOutput, t.out.ID)
	for _, k := range e.credKinds(t, ro) {
		j := w.ledger.journal(t.cluster.Name, k.ledger, t.out.ID)
		if j.Phase == PhaseIdle && j.Current == "" && j.Generation == 0 {
			j.Generation = maxGeneration(k.existing, k.prefix) // no journal: never reuse a name
		}
		minted := mainMints(mainPlan, e.cfg.MainCluster, t.out.ID, k.path)
		rot := e.rotation(t, k, 0)
		ref := credRef{cluster: t.cluster.Name, kind: k.kind, output: t.out.ID}
		ch := plan.Change{Cluster: t.cluster.Name, Kind: k.kind, ID: k.prefix + strconv.Itoa(j.Generation+1)}
		switch {
		case j.Phase != PhaseIdle:
			ch.ID, ch.Action = cmp.Or(j.Next, j.Current), plan.Update
			ch.Reason = fmt.Sprintf("finish or roll back the rotation interrupted in phase %s", j.Phase)
			if j.Phase == PhaseSwapped {
				ch.Reason = fmt.Sprintf("output %s holds %s; %s is revoked once the output reports healthy or no agent uses it", t.out.ID, j.Current, j.Previous)
			}
			res := &RotationResult{}
			c.ops = append(c.ops, op{change: ch, phase: phasePost, cred: ref, rotation: res, run: func(ctx context.Context) error {
				r, err := rot.Resume(ctx)
				*res = r
				return err
			}})
		case minted:
			ch.Action = plan.Create
			ch.Reason = fmt.Sprintf("minted while output %s is applied; the value goes into its %s and nowhere else", t.out.ID, k.path)
			ch.Fields = []plan.FieldDiff{{Path: "value", After: plan.ToBeGenerated, Sensitive: true}}
			c.ops = append(c.ops, op{change: ch, phase: phaseMinted, cred: ref}) // done by the Minter during the main apply
		case j.Current == "" || !slices.Contains(k.existing, j.Current):
			ch.Action = plan.Create
			if j.Current == "" {
				ch.Reason = fmt.Sprintf("no record of the credential output %s uses; a new one is minted and swapped in", t.out.ID)
			} else {
				ch.Reason = fmt.Sprintf("drift: %s was deleted on the remote; a new one is minted and swapped into output %s", j.Current, t.out.ID)
			}
			ch.Fields = []plan.FieldDiff{{Path: "value", After: plan.ToBeGenerated, Sensitive: true}}
			ch.DependsOn = []string{outKey}
			c.ops = append(c.ops, op{change: ch, phase: phasePost, cred: ref, run: func(ctx context.Context) error {
				_, err := rot.Rotate(ctx)
				return err
			}})
		}
		// Credentials of this output that are no longer in use.
		for _, n := range k.existing {
			if n == j.Current || n == j.Next || n == j.Previous || j.Phase != PhaseIdle || minted {
				continue
			}
			if j.Current == "" { // unknown which one the output holds: keep them until a journal exists
				continue
			}
			name := n
			del := plan.Change{Cluster: t.cluster.Name, Kind: k.kind, ID: name, Action: plan.Delete,
				Reason: fmt.Sprintf("created by fleetform for output %s and no longer in use", t.out.ID)}
			cred := rot.Cred
			c.ops = append(c.ops, op{change: del, phase: phasePost, run: func(ctx context.Context) error {
				return cred.Revoke(ctx, name)
			}})
		}
	}
}
