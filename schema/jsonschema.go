package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/fleetform/fleetform"
)

// schemaURL is fleet.schema.json's $id.
const schemaURL = "https://github.com/fleetform/fleetform/fleet.schema.json"

// SecretHint is the message for a literal where a secret reference belongs.
const SecretHint = "secret values must be references: use {env: NAME}, {file: PATH} or {generate: true}"

var compiled = sync.OnceValues(func() (*compiledSchema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(fleetform.SchemaJSON))
	if err != nil {
		return nil, fmt.Errorf("fleet.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("fleet.schema.json: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("fleet.schema.json: %w", err)
	}
	var raw map[string]any
	if err := json.Unmarshal(fleetform.SchemaJSON, &raw); err != nil {
		return nil, fmt.Errorf("fleet.schema.json: %w", err)
	}
	return &compiledSchema{sch: sch, raw: raw}, nil
})

type compiledSchema struct {
	sch *jsonschema.Schema
	raw map[string]any // the schema document, for property names in hints
}

var printer = message.NewPrinter(language.English)

// validate checks one unit against fleet.schema.json and returns an issue
// per failing leaf, located at the offending value (or key).
func (cs *compiledSchema) validate(u *unit) []Issue {
	err := cs.sch.Validate(anyMap(u.value))
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Issue{u.issue("", position{1, 1}, "schema validation failed: %v", err)}
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	// One mistake, one message: a value too short needs no word on its
	// pattern, and an unknown key of a secret reference already says the
	// reference takes exactly one of env, file or generate.
	empty, unknownKey := map[string]bool{}, map[string]bool{}
	for _, l := range leaves {
		switch l.ErrorKind.(type) {
		case *kind.MinLength:
			empty[pointerOf(l.InstanceLocation)] = true
		case *kind.AdditionalProperties:
			if strings.HasPrefix(schemaFragment(l.SchemaURL), "/$defs/secretRef") {
				unknownKey[pointerOf(l.InstanceLocation)] = true
			}
		}
	}
	var out []Issue
	for _, l := range leaves {
		switch l.ErrorKind.(type) {
		case *kind.Pattern:
			if empty[pointerOf(l.InstanceLocation)] {
				continue
			}
		case *kind.MinProperties, *kind.MaxProperties:
			if unknownKey[pointerOf(l.InstanceLocation)] {
				continue
			}
		}
		if _, ok := l.ErrorKind.(*kind.FalseSchema); ok {
			// A field of another output type: the schema forbids it for
			// editors; the semantic rules report it with the types it needs.
			continue
		}
		out = append(out, cs.leafIssues(u, l)...)
	}
	return out
}

// anyMap hands the validator an `any` holding the map (it switches on type).
func anyMap(m map[string]any) any { return m }

func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if _, ok := e.ErrorKind.(*kind.AnyOf); ok && schemaFragment(e.SchemaURL) == simplifiedVarAnyOf {
		// A variable that fits none of the shapes is one mistake: its
		// causes (one per shape, item by item) would read as three.
		*out = append(*out, e)
		return
	}
	if len(e.Causes) == 0 {
		*out = append(*out, e)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

func pointerOf(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointerToken(t))
	}
	return b.String()
}

// schemaFragment returns the "#..." part of a schema location, e.g. "/$defs/output".
func schemaFragment(url string) string {
	if i := strings.IndexByte(url, '#'); i >= 0 {
		return url[i+1:]
	}
	return ""
}

// friendlyPatterns explains the schema's patterns in words.
var friendlyPatterns = map[string]string{
	"^https?://":                             "must be an http:// or https:// URL",
	"^[^/\\s]*$":                             "must not contain '/' or white space",
	"^[a-z0-9_]+$":                           "must be a package name: lower-case letters, digits and _",
	"^[A-Za-z_][A-Za-z0-9_]*$":               "must be an environment variable name: letters, digits and _, not starting with a digit",
	"^[a-z0-9][a-z0-9_-]*$":                  "must be lower-case letters, digits, _ and -, starting with a letter or digit",
	"^[A-Za-z0-9_-]+$":                       "must be letters, digits, _ and -",
	"^[0-9]+(\\.[0-9]+)*$":                   "must be a dotted version number such as 2.6.0",
	"\\S":                                    "must not be blank",
	"^[a-z0-9_\\-]+$":                        "must be a Kibana space id: lower-case letters, digits, _ and -",
	"^([0-9A-Fa-f]{2}:?){31}[0-9A-Fa-f]{2}$": "must be a SHA-256 fingerprint: 64 hex digits, colons allowed",
	"^(latest|[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?)$": "must be a semantic version such as 1.2.3, or latest",
	"^[^A-Z\\\\/*?\"<>|\\s,#:-]+$":                                              "must be lower case without \\ / * ? \" < > | , # : - or spaces",
}

func (cs *compiledSchema) leafIssues(u *unit, e *jsonschema.ValidationError) []Issue {
	ptr := pointerOf(e.InstanceLocation)
	frag := schemaFragment(e.SchemaURL)
	at := func(format string, args ...any) []Issue {
		return []Issue{u.issue(ptr, u.pos(ptr), format, args...)}
	}
	isSecretRef := strings.HasPrefix(frag, "/$defs/secretRef")
	switch k := e.ErrorKind.(type) {
	case *kind.AnyOf:
		if frag == simplifiedVarAnyOf {
			return at("%s", varShapeMessage(u.valueAt(ptr)))
		}
	case *kind.AdditionalProperties:
		var out []Issue
		allowed := cs.propertyNames(frag)
		for _, p := range k.Properties {
			child := ptr + "/" + escapePointerToken(p)
			var msg string
			switch {
			case isSecretRef:
				msg = secretRefKeyMessage(p, isVarPointer(ptr))
				if !strings.HasPrefix(msg, "unknown key \"") {
					// The key is not shown, so neither is its pointer.
					out = append(out, u.issue(ptr, u.keyPos(child), "%s", msg))
					continue
				}
			default:
				msg = fmt.Sprintf("unknown key %q", p)
				if s := suggest(p, allowed); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
			}
			out = append(out, u.issue(child, u.keyPos(child), "%s", msg))
		}
		return out
	case *kind.Required:
		var out []Issue
		for _, m := range k.Missing {
			msg := fmt.Sprintf("missing required key %q", m)
			if strings.HasSuffix(frag, "/else") {
				msg += " (required unless adopt: true)"
			}
			out = append(out, u.issue(ptr, u.pos(ptr), "%s", msg))
		}
		return out
	case *kind.Type:
		if frag == "/$defs/secretRef" && k.Got != "object" {
			return at("%s", SecretHint)
		}
		if isSecretRef {
			// Inside a reference: env and file name where the value is.
			return at("expected %s, got %s: env is the name of an environment variable, file the path of a file", strings.Join(k.Want, " or "), k.Got)
		}
		want := strings.Join(k.Want, " or ")
		if slices.Contains(k.Want, "array") && k.Got == "object" {
			if m, ok := u.valueAt(ptr).(map[string]any); ok {
				for key := range m {
					if strings.HasPrefix(key, "-") {
						return at("expected %s, got %s: a list item starts with a dash and a space (\"- %s\", not %q)", want, k.Got, strings.TrimPrefix(key, "-"), key)
					}
				}
			}
		}
		// yes/no/on/off are booleans in YAML 1.1 (and in many examples on
		// the web) but strings in YAML 1.2, which the loader reads.
		if slices.Contains(k.Want, "boolean") && k.Got == "string" {
			if v, ok := u.valueAt(ptr).(string); ok && slices.Contains([]string{"yes", "no", "on", "off", "y", "n", "true", "false"}, strings.ToLower(v)) {
				return at("expected %s, got string %q: write true or false, unquoted", want, v)
			}
		}
		if slices.Contains(k.Want, "string") && (k.Got == "number" || k.Got == "integer" || k.Got == "boolean") {
			return at("expected %s, got %s (quote the value to make it a string)", want, k.Got)
		}
		return at("expected %s, got %s", want, k.Got)
	case *kind.Enum:
		return at("%s, got %s", k.LocalizedString(printer), display(k.Got))
	case *kind.Pattern:
		if isSecretRef {
			// What stands where a variable name belongs is often the
			// secret itself: never repeat it.
			return at("%s", EnvNameMessage)
		}
		got := k.Got
		if strings.Contains(got, "://") {
			got = redactCredentials(got)
		}
		if f, ok := friendlyPatterns[k.Want]; ok {
			return at("%q %s", got, f)
		}
		return at("%q does not match %q", got, k.Want)
	case *kind.MinLength:
		if k.Want == 1 {
			return at("must not be empty")
		}
		return at("must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return at("is %d characters long, at most %d allowed", k.Got, k.Want)
	case *kind.Minimum:
		return at("must be at least %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.Maximum:
		return at("must be at most %s, got %s", ratString(k.Want), ratString(k.Got))
	case *kind.MinItems:
		return at("must have at least %d %s", k.Want, pluralItems(k.Want))
	case *kind.MaxItems:
		return at("has %d items, at most %d allowed", k.Got, k.Want)
	case *kind.MinProperties, *kind.MaxProperties:
		switch {
		case isSecretRef:
			return at("a secret reference takes exactly one of env, file or generate")
		case strings.HasPrefix(frag, "/$defs/auth"):
			return at("auth takes exactly one of api_key or basic")
		}
	case *kind.Const:
		if isSecretRef {
			return at("generate must be true; to supply the value yourself use {env: NAME} or {file: PATH}")
		}
	}
	return at("%s", e.ErrorKind.LocalizedString(printer))
}

// simplifiedVarAnyOf is where fleet.schema.json lists the shapes of a
// simplified-format variable that is not a mapping.
const simplifiedVarAnyOf = "/$defs/simplifiedVar/else"

// EnvNameMessage is the message for an env reference that is not a
// variable name; it never repeats the value.
const EnvNameMessage = "env must be the name of an environment variable (letters, digits and _, not starting with a digit); the value given is not repeated here in case it is the secret itself: put the secret in the environment variable and name that variable here"

// secretRefKeyMessage is the message for a key of a secret reference that
// is not env, file or generate. The key is repeated only when it is a near
// miss of one of them ("evn"): anything else may be the secret itself,
// written where a reference belongs ({hunter2} is a mapping in YAML).
func secretRefKeyMessage(key string, inVar bool) string {
	what := "a secret reference takes exactly one of env, file or generate"
	if inVar {
		what = "a variable holds null, a boolean, a string, a number or a list of strings or of numbers; the only mapping it may hold is a secret reference, {env: NAME} or {file: PATH}"
	}
	if s := suggest(key, []string{"env", "file", "generate"}); s != "" && len(key) > 1 {
		return fmt.Sprintf("unknown key %q (did you mean %q?)", key, s)
	}
	return "unknown key (not repeated here in case it is a secret): " + what
}

// isVarPointer reports whether ptr is a simplified-format variable
// (…/vars/NAME).
func isVarPointer(ptr string) bool {
	parts := strings.Split(ptr, "/")
	return len(parts) >= 3 && parts[len(parts)-2] == "vars"
}

// varShapeMessage says why a variable fits none of the simplified format's
// shapes, without repeating its values (a list variable may hold secrets).
func varShapeMessage(v any) string {
	const shapes = "a variable is null, a boolean, a string, a number, or a list of only strings or only numbers"
	list, ok := v.([]any)
	if !ok {
		return shapes
	}
	strs, nums := 0, 0
	for i, item := range list {
		switch item.(type) {
		case string:
			strs++
		case json.Number:
			nums++
		case map[string]any:
			return fmt.Sprintf("%s; item %d is a mapping", shapes, i)
		case []any:
			return fmt.Sprintf("%s; item %d is a list", shapes, i)
		case bool:
			return fmt.Sprintf("%s; item %d is a boolean (quote it to make it a string)", shapes, i)
		case nil:
			return fmt.Sprintf("%s; item %d is null", shapes, i)
		}
	}
	if strs > 0 && nums > 0 {
		return shapes + "; this list mixes strings and numbers: quote the numbers to make them strings"
	}
	return shapes
}

// ratString prints a schema number plainly (integers without exponent).
func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(3)
}

func pluralItems(n int) string {
	if n == 1 {
		return "item"
	}
	return "items"
}

func display(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// propertyNames lists the properties the schema object at frag declares.
func (cs *compiledSchema) propertyNames(frag string) []string {
	var node any = cs.raw
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" || tok == "additionalProperties" {
			continue
		}
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		node = m[strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)]
	}
	m, _ := node.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// suggest returns the candidate closest to s: within one edit (a swap of
// two neighbours counts as one: "evn" is "env"), or two for a word of six
// characters or more. Two edits turn any short word into another ("bad"
// into "id"), which is no suggestion.
func suggest(s string, candidates []string) string {
	if len(s) > 64 {
		return ""
	}
	for _, c := range candidates {
		// The singular of a list's name (package_policy, output).
		if c == s+"s" || (strings.HasSuffix(s, "y") && c == strings.TrimSuffix(s, "y")+"ies") {
			return c
		}
	}
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if bestD == 2 && min(len(s), len(best)) < 6 {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of neighbours, one each.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
