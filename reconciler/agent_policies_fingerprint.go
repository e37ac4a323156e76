package reconciler

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
)

// The agent policies' part of the observation's fingerprint (see
// computeFingerprint): the fields a plan reads of every policy, not agent
// counts, timestamps or the revision, which move without anyone changing
// what a plan reads (every edit of a policy's integrations bumps it).
// 2,000 policies are digested on every plan, so they are written in one
// canonical byte form (appendCanonical) rather than marshalled as Go
// values; TestAgentPolicyFingerprint_PlanFields holds it to changing with
// every field.

// fingerprint is the digest of every policy's plan-relevant fields, in id
// order: id, name, namespace, description, output ids, Fleet Server host,
// is_managed, has_fleet_server, supports_agentless, inactivity_timeout,
// and each of policyOptional that Kibana returned, by name.
func (agentPolicyKind) fingerprint(obs *observation) any {
	ids := make([]string, 0, len(obs.policies))
	for id := range obs.policies {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	h := sha256.New()
	buf := make([]byte, 0, 1024)
	for _, id := range ids {
		p := obs.policies[id]
		buf = append(buf[:0], '{')
		buf = appendString(buf, p.ID)
		buf = appendString(append(buf, ','), p.Name)
		buf = appendString(append(buf, ','), p.Namespace)
		for _, s := range []*string{p.Description, p.DataOutputID, p.MonitoringOutputID, p.FleetServerHostID} {
			buf = append(buf, ',')
			if s == nil {
				buf = append(buf, 'n')
			} else {
				buf = appendString(buf, *s)
			}
		}
		for _, b := range []bool{p.IsManaged, p.HasFleetServer, p.SupportsAgentless} {
			buf = strconv.AppendBool(append(buf, ','), b)
		}
		buf = append(buf, ',')
		if p.InactivityTimeout == nil {
			buf = append(buf, 'n')
		} else {
			buf = strconv.AppendInt(buf, int64(*p.InactivityTimeout), 10)
		}
		for _, k := range policyOptional {
			if v, ok := p.Raw[k]; ok {
				buf = appendString(append(buf, ','), k)
				buf = appendCanonical(append(buf, ':'), v)
			}
		}
		buf = append(buf, '}')
		h.Write(buf)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// appendString appends s with its length first: cheaper than quoting, and
// as unambiguous.
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(append(b, '"'), int64(len(s)), 10)
	return append(append(b, ':'), s...)
}

// appendCanonical appends v, a JSON value as decoded into an `any`, in a
// form that is the same for equal values and different for different ones:
// strings with their length, numbers in their shortest exact form, objects with sorted
// keys, arrays and objects bracketed. Any other Go value (none comes from a
// decoded list) is appended as its JSON after a '~'.
func appendCanonical(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, 'n')
	case bool:
		return strconv.AppendBool(b, v)
	case float64:
		return strconv.AppendFloat(b, v, 'g', -1, 64)
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonical(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = appendCanonical(append(b, ':'), v[k])
		}
		return append(b, '}')
	default:
		j, _ := json.Marshal(v) // a value of another type: not from a decoded list
		return append(append(b, '~'), j...)
	}
}
