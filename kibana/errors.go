package kibana

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// APIError is a non-2xx answer from Kibana, with Kibana's error body
// {"statusCode", "error", "message", "attributes"}. Find it with errors.As.
type APIError struct {
	Method string // HTTP method of the request
	Path   string // request path, without query string
	Status int    // HTTP status code
	// ErrorText is Kibana's "error" field, the HTTP reason phrase ("Bad Request").
	ErrorText string
	// Message is Kibana's "message" (for a body that is not Kibana's JSON, its first bytes).
	Message string
	// Attributes is Kibana's optional "attributes", e.g. {"type": "OutputInvalidError"}.
	Attributes map[string]any
}

// Error reads `PUT /api/fleet/outputs/x: 400 Bad Request: <message>`.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.Status))
	if t := cmpOr(e.ErrorText, http.StatusText(e.Status)); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Type returns attributes.type (Fleet sets it for OutputInvalidError and a
// few others), or "".
func (e *APIError) Type() string {
	t, _ := e.Attributes["type"].(string)
	return t
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// IsNotFound reports whether err is a Kibana 404.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// IsConflict reports whether err is a Kibana 409.
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// StatusCode returns the HTTP status of an *APIError in err's chain, or 0.
func StatusCode(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

const maxMessageBytes = 512

func parseAPIError(method, path string, status int, body []byte) *APIError {
	e := &APIError{Method: method, Path: path, Status: status}
	var kb struct {
		StatusCode int            `json:"statusCode"`
		Error      string         `json:"error"`
		Message    string         `json:"message"`
		Attributes map[string]any `json:"attributes"`
	}
	if err := json.Unmarshal(body, &kb); err == nil && (kb.Message != "" || kb.Error != "") {
		e.ErrorText, e.Message, e.Attributes = kb.Error, withoutQuery(kb.Message), kb.Attributes
		return e
	}
	e.Message = withoutQuery(snippet(body))
	return e
}

// restRequestQueryRE finds the query string of a request Kibana passes on
// from Elasticsearch ("for REST request [/_security/_authenticate?x=y]").
var restRequestQueryRE = regexp.MustCompile(`(request \[[^\]?\s]*)\?[^\]\s]*\]`)

// withoutQuery drops the query strings of the requests a message quotes:
// errors name the path, never the query.
func withoutQuery(msg string) string {
	return restRequestQueryRE.ReplaceAllString(msg, "$1]")
}

// snippet is the first bytes of a body that is not Kibana's error JSON (a
// proxy's HTML page, say), on one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > maxMessageBytes {
		s = s[:maxMessageBytes]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}
