package elastic

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is an error answer from Elasticsearch:
// {"error": {"root_cause": [...], "type": ..., "reason": ...}, "status": N}.
type Error struct {
	Method string // HTTP method of the request
	Path   string // request path, without query string
	Status int    // HTTP status
	Type   string // e.g. index_not_found_exception, version_conflict_engine_exception
	Reason string // e.g. "no such index [x]"
	// RootCause holds the root causes' type and reason, first one first.
	RootCause []Cause
}

// Cause is one entry of an error's root_cause (or a CCR fatal_exception).
type Cause struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Error reads `PUT /x/_doc/1: 409 version_conflict_engine_exception: [1]: version conflict, …`.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Method + " " + e.Path + ": " + strconv.Itoa(e.Status))
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	} else if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	return b.String()
}

// IsNotFound reports whether err is an Elasticsearch 404.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports whether err is an Elasticsearch 409 (version conflict).
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// StatusCode returns the status of an *Error in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// ErrorType returns the Elasticsearch error type in err's chain, or "".
func ErrorType(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Type
	}
	return ""
}

const maxReasonBytes = 512

func parseError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, Status: status}
	var env struct {
		Error  json.RawMessage `json:"error"`
		Status int             `json:"status"`
	}
	if json.Unmarshal(body, &env) == nil && len(env.Error) > 0 {
		var obj struct {
			Type      string  `json:"type"`
			Reason    string  `json:"reason"`
			RootCause []Cause `json:"root_cause"`
		}
		if json.Unmarshal(env.Error, &obj) == nil {
			e.Type, e.Reason, e.RootCause = obj.Type, withoutQuery(obj.Reason), obj.RootCause
			for i := range e.RootCause {
				e.RootCause[i].Reason = withoutQuery(e.RootCause[i].Reason)
			}
			return e
		}
		var s string // very old or proxy form: "error": "text"
		if json.Unmarshal(env.Error, &s) == nil {
			e.Reason = withoutQuery(s)
			return e
		}
	}
	// Not an envelope (a document-level 404 {"found": false}, a proxy page):
	// keep a short, single-line excerpt.
	r := withoutQuery(strings.Join(strings.Fields(string(body)), " "))
	if len(r) > maxReasonBytes {
		cut := maxReasonBytes
		for cut > 0 && !utf8.RuneStart(r[cut]) {
			cut--
		}
		r = r[:cut] + "…"
	}
	e.Reason = r
	return e
}

// restRequestQueryRE finds the query string Elasticsearch quotes in its
// reasons: "unable to authenticate user [elastic] for REST request
// [/_security/api_key?name=fleetform-%2A]".
// A quote cut short (a truncated body) loses its query all the same.
var restRequestQueryRE = regexp.MustCompile(`(request \[[^\]?\s]*)\?[^\]\s]*\]?`)

// withoutQuery drops the query strings of the requests a reason quotes:
// errors name the path, never the query (it can carry names and tokens,
// and adds nothing to the cause).
func withoutQuery(reason string) string {
	return restRequestQueryRE.ReplaceAllString(reason, "$1]")
}
