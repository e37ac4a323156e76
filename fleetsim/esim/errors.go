package esim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
)

// Error is an Elasticsearch error as the REST layer returns it: an HTTP
// status, an exception type such as "index_not_found_exception", a reason,
// and the extra metadata fields ES puts next to them ("index", "resource.id", …).
type Error struct {
	Status int
	Type   string
	Reason string
	// Meta holds the extra fields of the root cause, e.g. "index" or "index_uuid".
	Meta map[string]any
	// Header holds response headers that go with the error (WWW-Authenticate on 401).
	Header http.Header
}

func (e *Error) Error() string {
	return fmt.Sprintf("[%d] %s: %s", e.Status, e.Type, e.Reason)
}

// Cause renders the error cause object ({"type","reason",…meta}).
func (e *Error) cause() map[string]any {
	c := make(map[string]any, len(e.Meta)+2)
	for k, v := range e.Meta {
		c[k] = v
	}
	c["type"] = e.Type
	c["reason"] = e.Reason
	return c
}

// Body is the JSON envelope ES sends for this error:
// {"error":{"root_cause":[cause],…cause},"status":N}.
func (e *Error) Body() []byte {
	outer := e.cause()
	outer["root_cause"] = []any{e.cause()}
	b, err := json.Marshal(map[string]any{"error": outer, "status": e.Status})
	if err != nil {
		// Meta only ever holds strings, numbers and string lists.
		panic(fmt.Sprintf("esim: marshal error body: %v", err))
	}
	return b
}

// ErrorBody builds the ES error envelope for a status, exception type and
// reason. It is the body builder callers hand to simhttp for injected faults.
func ErrorBody(status int, typ, reason string) []byte {
	return (&Error{Status: status, Type: typ, Reason: reason}).Body()
}

// FaultBody returns the envelope ES would most plausibly send for an injected
// status: 429 es_rejected_execution_exception, 503 unavailable_shards/master,
// 401/403 security_exception, otherwise a generic exception.
func FaultBody(status int, method, path string) []byte {
	switch status {
	case http.StatusTooManyRequests:
		return ErrorBody(status, "es_rejected_execution_exception", "rejected execution of coordinating operation (simulated)")
	case http.StatusServiceUnavailable:
		return ErrorBody(status, "master_not_discovered_exception", "master not discovered yet (simulated)")
	case http.StatusUnauthorized:
		return ErrorBody(status, "security_exception", fmt.Sprintf("missing authentication credentials for REST request [%s]", path))
	case http.StatusForbidden:
		return ErrorBody(status, "security_exception", fmt.Sprintf("action [%s %s] is unauthorized (simulated)", method, path))
	case http.StatusNotFound:
		return ErrorBody(status, "resource_not_found_exception", fmt.Sprintf("simulated not found for [%s]", path))
	case http.StatusConflict:
		return ErrorBody(status, "version_conflict_engine_exception", "version conflict (simulated)")
	}
	if status >= 500 {
		return ErrorBody(status, "exception", fmt.Sprintf("simulated failure of [%s %s]", method, path))
	}
	return ErrorBody(status, "illegal_argument_exception", fmt.Sprintf("simulated failure of [%s %s]", method, path))
}

func newErr(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

func (e *Error) with(kv ...any) *Error {
	if e.Meta == nil {
		e.Meta = map[string]any{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Meta[kv[i].(string)] = kv[i+1]
	}
	return e
}

func errIndexNotFound(name string) *Error {
	return newErr(http.StatusNotFound, "index_not_found_exception", "no such index [%s]", name).
		with("resource.type", "index_or_alias", "resource.id", name, "index_uuid", "_na_", "index", name)
}

func errIndexExists(name, uuid string) *Error {
	return newErr(http.StatusBadRequest, "resource_already_exists_exception", "index [%s/%s] already exists", name, uuid).
		with("index_uuid", uuid, "index", name)
}

func errIllegalArgument(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "illegal_argument_exception", format, args...)
}

func errNoSuchRemote(alias string) *Error {
	return newErr(http.StatusNotFound, "no_such_remote_cluster_exception", "no such remote cluster: [%s]", alias)
}

func errParsing(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, "parsing_exception", format, args...)
}

func errIndexClosed(name, uuid string) *Error {
	return newErr(http.StatusBadRequest, "index_closed_exception", "closed").with("index_uuid", uuid, "index", name)
}

func errVersionConflict(ix *index, id, reason string) *Error {
	return newErr(http.StatusConflict, "version_conflict_engine_exception", "[%s]: %s", id, reason).
		with("index_uuid", ix.UUID, "shard", "0", "index", ix.Name)
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FaultResponse has the shape of simhttp.BodyBuilder: the content type and
// ES error envelope for a status injected on the ES listener.
func FaultResponse(status int, method, path string) (contentType string, body []byte) {
	return "application/json", FaultBody(status, method, path)
}
