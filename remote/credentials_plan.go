package remote

import (
	"strconv"
	"strings"
	"time"

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

// tokenPath is the document path of tokenRef's reference.
func tokenPath(o schema.Output) string {
	if o.Secrets != nil && o.Secrets.ServiceToken != nil {
		return "secrets.service_token"
	}
	return "service_token"
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
