package fleetsim

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// This file is a small re-creation of @kbn/config-schema, the validator Kibana
// runs on every request before a handler sees it. Only what the Fleet routes
// use is here, with its messages: the first failure wins (Joi's abortEarly),
// known keys are checked in schema order before unknown keys, and every
// message is prefixed by the location, e.g. "[request body.hosts.0]: ...".

// vtype validates one decoded JSON value at path and returns it, with
// defaults applied for objects.
type vtype interface {
	check(path string, v any, present bool) (any, *validationError)
}

type validationError struct {
	path string
	msg  string
}

func (e *validationError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return "[" + e.path + "]: " + e.msg
}

func verr(path, format string, args ...any) *validationError {
	return &validationError{path: path, msg: fmt.Sprintf(format, args...)}
}

// typeDetect names a value the way the type-detect package does.
func typeDetect(v any, present bool) string {
	if !present {
		return "undefined"
	}
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64, int, int64:
		return "number"
	case []any:
		return "Array"
	case map[string]any:
		return "Object"
	}
	return fmt.Sprintf("%T", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

type tString struct {
	minLen, maxLen int
	nonBlank       bool
}

func (t tString) check(path string, v any, present bool) (any, *validationError) {
	s, ok := v.(string)
	if !ok {
		return nil, verr(path, "expected value of type [string] but got [%s]", typeDetect(v, present))
	}
	if t.minLen > 0 && len(s) < t.minLen {
		return nil, verr(path, "value has length [%d] but it must have a minimum length of [%d].", len(s), t.minLen)
	}
	if t.maxLen > 0 && len(s) > t.maxLen {
		return nil, verr(path, "value has length [%d] but it must have a maximum length of [%d].", len(s), t.maxLen)
	}
	if t.nonBlank && strings.TrimSpace(s) == "" {
		return nil, verr(path, "Agent policy name cannot be blank") // only used for agent policy names
	}
	return s, nil
}

type tBool struct{}

func (tBool) check(path string, v any, present bool) (any, *validationError) {
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return nil, verr(path, "expected value of type [boolean] but got [%s]", typeDetect(v, present))
}

type tNumber struct{ min, max *float64 }

func (t tNumber) check(path string, v any, present bool) (any, *validationError) {
	f, ok := v.(float64)
	if !ok {
		return nil, verr(path, "expected value of type [number] but got [%s]", typeDetect(v, present))
	}
	if t.min != nil && f < *t.min {
		return nil, verr(path, "Value must be equal to or greater than [%v].", *t.min)
	}
	if t.max != nil && f > *t.max {
		return nil, verr(path, "Value must be equal to or lower than [%v].", *t.max)
	}
	return f, nil
}

// tURI is schema.uri({scheme: ['http', 'https']}).
type tURI struct{}

func (tURI) check(path string, v any, present bool) (any, *validationError) {
	s, ok := v.(string)
	if !ok {
		return nil, verr(path, "expected value of type [string] but got [%s]", typeDetect(v, present))
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, verr(path, "expected URI with scheme [http|https].")
	}
	return s, nil
}

// tLogstashHost is schema.string({validate: validateLogstashHost}).
type tLogstashHost struct{}

func (tLogstashHost) check(path string, v any, present bool) (any, *validationError) {
	s, ok := v.(string)
	if !ok {
		return nil, verr(path, "expected value of type [string] but got [%s]", typeDetect(v, present))
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return nil, verr(path, "Host address must begin with a domain name or IP address")
	}
	u, err := url.Parse("http://" + s)
	if err != nil {
		return nil, verr(path, "Invalid Logstash host")
	}
	if u.Host != strings.ToLower(s) {
		return nil, verr(path, "Invalid host")
	}
	return s, nil
}

// tEnum is schema.oneOf of string literals.
type tEnum []string

func (t tEnum) check(path string, v any, present bool) (any, *validationError) {
	if s, ok := v.(string); ok && slices.Contains(t, s) {
		return s, nil
	}
	lines := make([]string, len(t))
	for i, lit := range t {
		lines[i] = fmt.Sprintf("- [%s]: expected value to equal [%s]", join(path, fmt.Sprint(i)), lit)
	}
	return nil, verr(path, "types that failed validation:\n%s", strings.Join(lines, "\n"))
}

// tNullable is schema.nullable(inner) = oneOf([inner, literal(null)]). Its
// default value is null: with fill set (a bare schema.nullable inside an
// object, not wrapped in schema.maybe) an absent key comes out as null.
type tNullable struct {
	inner vtype
	fill  bool
}

// tNullOr is schema.oneOf([schema.literal(null), inner]): the literal comes
// first in the message, and an absent key stays absent (under schema.maybe).
type tNullOr struct{ inner vtype }

func (t tNullOr) check(path string, v any, present bool) (any, *validationError) {
	if present && v == nil {
		return nil, nil
	}
	out, err := t.inner.check(join(path, "1"), v, present)
	if err == nil {
		return out, nil
	}
	return nil, verr(path, "types that failed validation:\n- [%s]: expected value to equal [null]\n- %s", join(path, "0"), err.Error())
}

func (t tNullable) check(path string, v any, present bool) (any, *validationError) {
	if present && v == nil {
		return nil, nil
	}
	out, err := t.inner.check(join(path, "0"), v, present)
	if err == nil {
		return out, nil
	}
	return nil, verr(path, "types that failed validation:\n- %s\n- [%s]: expected value to equal [null]", err.Error(), join(path, "1"))
}

type tArray struct {
	elem     vtype
	min, max int
}

func (t tArray) check(path string, v any, present bool) (any, *validationError) {
	arr, ok := v.([]any)
	if !ok {
		return nil, verr(path, "expected value of type [array] but got [%s]", typeDetect(v, present))
	}
	if len(arr) < t.min {
		return nil, verr(path, "array size is [%d], but cannot be smaller than [%d]", len(arr), t.min)
	}
	if t.max > 0 && len(arr) > t.max {
		return nil, verr(path, "array size is [%d], but cannot be greater than [%d]", len(arr), t.max)
	}
	out := make([]any, len(arr))
	for i, e := range arr {
		c, err := t.elem.check(join(path, fmt.Sprint(i)), e, true)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// tAny accepts anything (schema.any / recordOf(string, any)).
type tAny struct{}

func (tAny) check(_ string, v any, _ bool) (any, *validationError) { return v, nil }

// tSecretRef is oneOf([object({id, hash?}), string]).
type tSecretRef struct{}

func (tSecretRef) check(path string, v any, present bool) (any, *validationError) {
	ref := tObject{fields: []field{{name: "id", t: tString{}, required: true}, {name: "hash", t: tString{}}}}
	out, err := ref.check(join(path, "0"), v, present)
	if err == nil {
		return out, nil
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	return nil, verr(path, "types that failed validation:\n- %s\n- [%s]: expected value of type [string] but got [%s]",
		err.Error(), join(path, "1"), typeDetect(v, present))
}

type field struct {
	name     string
	t        vtype
	required bool
	def      any // applied when absent (schema defaultValue)
	// sibling is schema.conditional(schema.siblingRef(...), ...): it picks
	// the field's schema from the other keys of the object as sent.
	sibling func(siblings map[string]any) vtype
}

// tObject is schema.object; unknown keys are refused unless unknowns is set.
type tObject struct {
	fields   []field
	unknowns bool
	// validate is the object's validate option: a non-empty answer is the
	// error at the object's own path.
	validate func(map[string]any) string
}

func (t tObject) check(path string, v any, present bool) (any, *validationError) {
	m, ok := v.(map[string]any)
	if !ok {
		if !present && !t.anyRequired() {
			return map[string]any{}, nil
		}
		return nil, verr(path, "expected a plain object value, but found [%s] instead.", typeDetect(v, present))
	}
	out := make(map[string]any, len(m))
	for _, f := range t.fields {
		if f.sibling != nil {
			f.t = f.sibling(m)
		}
		val, ok := m[f.name]
		if !ok {
			if f.required {
				if _, err := f.t.check(join(path, f.name), nil, false); err != nil {
					return nil, err
				}
			}
			if f.def != nil {
				out[f.name] = f.def
			} else if n, isNullable := f.t.(tNullable); isNullable && n.fill {
				out[f.name] = nil
			}
			continue
		}
		c, err := f.t.check(join(path, f.name), val, true)
		if err != nil {
			return nil, err
		}
		out[f.name] = c
	}
	var unknown []string
	for k := range m {
		if !t.has(k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		if !t.unknowns {
			return nil, verr(join(path, k), "definition for this key is missing")
		}
		out[k] = m[k]
	}
	if t.validate != nil {
		if msg := t.validate(out); msg != "" {
			return nil, verr(path, "%s", msg)
		}
	}
	return out, nil
}

func (t tObject) has(k string) bool {
	return slices.ContainsFunc(t.fields, func(f field) bool { return f.name == k })
}

func (t tObject) anyRequired() bool {
	return slices.ContainsFunc(t.fields, func(f field) bool { return f.required })
}

func (t tObject) with(extra ...field) tObject {
	fs := slices.Clone(t.fields)
	for _, e := range extra {
		if i := slices.IndexFunc(fs, func(f field) bool { return f.name == e.name }); i >= 0 {
			fs[i] = e
		} else {
			fs = append(fs, e)
		}
	}
	return tObject{fields: fs, unknowns: t.unknowns, validate: t.validate}
}

func (t tObject) optional() tObject {
	fs := slices.Clone(t.fields)
	for i := range fs {
		fs[i].required = false
		fs[i].def = nil
	}
	return tObject{fields: fs, unknowns: t.unknowns, validate: t.validate}
}

// tDiscriminated is schema.discriminatedUnion(key, [...]).
type tDiscriminated struct {
	key      string
	variants []string
	schemas  map[string]vtype
}

func (t tDiscriminated) check(path string, v any, present bool) (any, *validationError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, verr(path, "expected a plain object value, but found [%s] instead.", typeDetect(v, present))
	}
	d, ok := m[t.key]
	if !ok {
		return nil, verr(path, "%q property is required", t.key)
	}
	s, _ := d.(string)
	sch, ok := t.schemas[s]
	if !ok {
		quoted := make([]string, len(t.variants))
		for i, x := range t.variants {
			quoted[i] = fmt.Sprintf("%q", x)
		}
		got, _ := jsonString(d)
		return nil, verr(path, "expected %q to be one of [%s] but got [%s]", t.key, strings.Join(quoted, ", "), got)
	}
	return sch.check(path, v, present)
}

// tOneOf is schema.oneOf([...]) over objects: the first variant that passes wins.
type tOneOf []vtype

func (t tOneOf) check(path string, v any, present bool) (any, *validationError) {
	var lines []string
	for i, sch := range t {
		out, err := sch.check(join(path, fmt.Sprint(i)), v, present)
		if err == nil {
			return out, nil
		}
		lines = append(lines, "- "+err.Error())
	}
	return nil, verr(path, "types that failed validation:\n%s", strings.Join(lines, "\n"))
}

// validateBody runs a schema on a decoded request body.
func validateBody(t vtype, body any, present bool) (map[string]any, *validationError) {
	out, err := t.check("request body", body, present)
	if err != nil {
		return nil, err
	}
	m, _ := out.(map[string]any)
	return m, nil
}

// tNever is schema.never(): any value present is refused.
type tNever struct{}

func (tNever) check(path string, v any, present bool) (any, *validationError) {
	if !present {
		return nil, nil
	}
	return nil, verr(path, "a value wasn't expected to be present")
}

// tNumLiterals is schema.oneOf of number literals.
type tNumLiterals []float64

func (t tNumLiterals) check(path string, v any, present bool) (any, *validationError) {
	if f, ok := v.(float64); ok && slices.Contains(t, f) {
		return f, nil
	}
	lines := make([]string, len(t))
	for i, lit := range t {
		lines[i] = fmt.Sprintf("- [%s]: expected value to equal [%v]", join(path, fmt.Sprint(i)), lit)
	}
	return nil, verr(path, "types that failed validation:\n%s", strings.Join(lines, "\n"))
}

// tKafkaHost is schema.string({validate: validateKafkaHost}) (types/models/output.ts).
type tKafkaHost struct{}

func (tKafkaHost) check(path string, v any, present bool) (any, *validationError) {
	s, ok := v.(string)
	if !ok {
		return nil, verr(path, "expected value of type [string] but got [%s]", typeDetect(v, present))
	}
	parts := strings.Split(s, ":")
	if len(parts) != 2 || parts[0] == "" || strings.Contains(parts[0], "://") {
		return nil, verr(path, `Invalid format. Expected "host:port" without protocol`)
	}
	if port, ok := parseIntPrefix(parts[1]); !ok || port < 1 || port > 65535 {
		return nil, verr(path, "Invalid port number. Expected a number between 1 and 65535")
	}
	return s, nil
}

// parseIntPrefix is JavaScript's parseInt(s, 10): leading digits (after an
// optional sign and leading spaces); NaN when there are none.
func parseIntPrefix(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t\n")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	n, digits := 0, 0
	for _, r := range s {
		if r < '0' || r > '9' {
			break
		}
		if n < 1<<20 {
			n = n*10 + int(r-'0')
		}
		digits++
	}
	if digits == 0 {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// tValidated is a type with a validate option: the inner type first, then
// fn, whose non-empty answer is the error at the value's path.
type tValidated struct {
	inner vtype
	fn    func(any) string
}

func (t tValidated) check(path string, v any, present bool) (any, *validationError) {
	out, err := t.inner.check(path, v, present)
	if err != nil {
		return nil, err
	}
	if msg := t.fn(out); msg != "" {
		return nil, verr(path, "%s", msg)
	}
	return out, nil
}

// tRecord is schema.recordOf(schema.string(), schema.any()).
type tRecord struct{}

func (tRecord) check(path string, v any, present bool) (any, *validationError) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, verr(path, "expected value of type [object] but got [%s]", typeDetect(v, present))
}

// tOneOfScalar is schema.oneOf([schema.string(), schema.number()]) and the like.
type tOneOfScalar []string

func (t tOneOfScalar) check(path string, v any, present bool) (any, *validationError) {
	got := typeDetect(v, present)
	if slices.Contains(t, got) {
		return v, nil
	}
	lines := make([]string, len(t))
	for i, typ := range t {
		lines[i] = fmt.Sprintf("- [%s]: expected value of type [%s] but got [%s]", join(path, fmt.Sprint(i)), typ, got)
	}
	return nil, verr(path, "types that failed validation:\n%s", strings.Join(lines, "\n"))
}
