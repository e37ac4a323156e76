package reconciler

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fleetform/fleetform/plan"
)

// The values of secret references, checked before the first write.
//
// The plan checks a variable given as {env:} or {file:} for presence only:
// its value is read at apply (package_policies_values.go). Apply reads
// every reference it needs before its first write on any cluster
// (resolveAll), so it then runs Kibana's value check
// (validatePackagePolicy, FLEET/common/services/validate_package_policy.ts)
// once more on each integration policy it will create or update, with the
// values read in place of the references it sends. If Kibana would refuse
// any of them, apply writes nothing at all — on no cluster — and its error
// names each policy, variable and reference with Kibana's message. A value
// read from a reference is never shown: Kibana's one message that quotes a
// part of the value (the URL scheme of a url variable) is shown without it;
// the data_stream.dataset messages (isValidDataset) and the TypeError
// Kibana throws on a dataset that is not a string quote none of it.

// ErrReferencedValuesRefused is wrapped by Apply's error when a value read
// from a secret reference would make Kibana refuse an integration policy;
// Apply then writes nothing.
var ErrReferencedValuesRefused = errors.New("values read from secret references would be refused by Kibana")

// valueCheck is what the plan checked an integration policy's values
// against: its package's definitions and the Kibana version's rules.
type valueCheck struct {
	defaults *pkgDefaults
	pkg      pkgKey
	rules    valueRules
}

// checkReferencedValues checks, in plan order, every integration policy
// create or update of c that sends a value read from a reference, with the
// values in cache (resolveAll has read them). It returns one error for all
// the policies Kibana would refuse, or nil.
func checkReferencedValues(ctx context.Context, c *computed, cache *secretCache) error {
	var lines []string
	for _, ch := range c.plan.Changes {
		st := c.steps[ch.Key()]
		if st == nil || (ch.Action != plan.Create && ch.Action != plan.Update) {
			continue
		}
		s, ok := st.data.(*ipStep)
		if !ok || s.values == nil || s.err != nil {
			continue
		}
		if line := referencedValueErrors(ctx, s, cache); line != "" {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w (%d), so nothing was written:\n%s", ErrNotConverged, ErrReferencedValuesRefused, len(lines), strings.Join(lines, "\n"))
}

// referencedValueErrors is Kibana's refusal of s once the values it sends
// from references are read, in the form of the plan's reasons ("" when
// Kibana would accept it). A value that could not be read is left as a
// reference: resolveAll has failed the apply already.
func referencedValueErrors(ctx context.Context, s *ipStep, cache *secretCache) string {
	resolved := map[string]any{}
	refs := map[string]string{} // var path → reference
	for _, sv := range s.secrets {
		path := sv.Path()
		if !s.write[path] {
			continue // not sent: Kibana keeps what it holds
		}
		v, err := cache.get(ctx, sv.Ref)
		if err != nil {
			continue
		}
		resolved[path] = v.Reveal()
		refs[path] = describeRef(sv.Ref)
	}
	if len(resolved) == 0 {
		return ""
	}
	vc := s.values
	errs, err := valueErrorsOf(s, vc.defaults, vc.rules, resolved)
	if err != nil || len(errs) == 0 {
		return ""
	}
	if e, ok := firstTypeError(errs); ok {
		where := e.where()
		if ref, ok := refs[e.at.Path()]; ok {
			where = fmt.Sprintf("%s read from %s", e.at.Path(), ref)
		}
		return fmt.Sprintf("  integration policy %s: %s", s.change.ID, typeErrorReason(e, vc.pkg, where))
	}
	lines := make([]string, len(errs))
	var where []string
	for i, e := range errs {
		path := e.at.Path()
		msgs := e.errs
		if ref, ok := refs[path]; ok && e.group == "" {
			msgs = withoutValue(msgs)
			where = append(where, fmt.Sprintf("%s read from %s", path, ref))
		} else {
			where = append(where, e.where())
		}
		lines[i] = vc.rules.errLine(e, msgs)
	}
	return fmt.Sprintf("  integration policy %s: Kibana would refuse it with 400: Package policy is invalid: %s\n    (checked against package %s %s; in fleetform's terms: %s)",
		s.change.ID, strings.Join(lines, "\n"), vc.pkg.name, vc.pkg.version, strings.Join(where, ", "))
}

// withoutValue is Kibana's messages for a value read from a reference, the
// part of the value one quotes left out: `URL scheme "<scheme>" is not
// allowed. Allowed schemes: …` (the url check, urlErrors).
func withoutValue(msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if rest, ok := strings.CutPrefix(m, `URL scheme "`); ok {
			if _, tail, ok := strings.Cut(rest, `" is not allowed.`); ok {
				m = "URL scheme (of the value, not shown) is not allowed." + tail
			}
		}
		out[i] = m
	}
	return out
}
