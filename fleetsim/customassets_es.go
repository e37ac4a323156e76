package fleetsim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/fleetform/fleetform/fleetsim/esim"
)

// Kibana's calls to its own Elasticsearch for the custom-asset sync. Kibana
// talks to its Elasticsearch over HTTP; the simulator calls the node's Go
// methods instead, but every such call first consults the fault table for
// the cluster's "es" listener (simhttp.Recorder.Pick), so a fault injected on
// e.g. GET /_component_template/** breaks Kibana's sync exactly where a real
// failing Elasticsearch would. Those internal calls are not in the request log.

// esClientError is what the Elasticsearch JS client throws: a ResponseError
// for an error status, a ConnectionError for a dropped connection, or the
// TypeError Kibana's own code hits on an unexpected body.
type esClientError struct {
	name    string // ResponseError | ConnectionError | TypeError
	message string
	status  int // ResponseError only
}

func (e *esClientError) Error() string { return e.name + ": " + e.message }

// retryable is isRetryableError of Fleet's retryTransientEsErrors.
func (e *esClientError) retryable() bool {
	switch {
	case e.name == "ConnectionError":
		return true
	case e.name == "ResponseError":
		return e.status == http.StatusServiceUnavailable || e.status == http.StatusRequestTimeout || e.status == http.StatusGone
	}
	return false
}

// responseError renders an ES error envelope as the JS client's ResponseError
// message: "<type>\n\tRoot causes:\n\t\t<type>: <reason>".
func responseError(status int, body []byte) *esClientError {
	var env struct {
		Error struct {
			Type      string `json:"type"`
			RootCause []struct {
				Type   string `json:"type"`
				Reason string `json:"reason"`
			} `json:"root_cause"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error.Type == "" {
		return &esClientError{name: "ResponseError", message: string(body), status: status}
	}
	msg := env.Error.Type
	if len(env.Error.RootCause) > 0 {
		causes := make([]string, len(env.Error.RootCause))
		for i, rc := range env.Error.RootCause {
			causes[i] = "\t\t" + rc.Type + ": " + rc.Reason
		}
		msg += "\n\tRoot causes:\n" + strings.Join(causes, "\n")
	}
	return &esClientError{name: "ResponseError", message: msg, status: status}
}

// fromESError converts an error of the node's Go API into the client's error.
func fromESError(err error) *esClientError {
	var e *esim.Error
	if errors.As(err, &e) {
		return responseError(e.Status, e.Body())
	}
	return &esClientError{name: "ResponseError", message: err.Error(), status: http.StatusInternalServerError}
}

// esFault is the fault, if any, that an injected rule puts on Kibana's
// request to its own Elasticsearch. A 404 comes back as (404, body) because
// Fleet's custom-asset reads pass ignore: [404]; other statuses and resets
// are errors. A delay-only fault does not stall the simulated task.
func (c *Cluster) esFault(method, path string, ignore404 bool) (status int, body []byte, err *esClientError) {
	f, hit := c.sim.rec.Pick(c.cfg.Name, "es", method, path)
	switch {
	case !hit:
		return 0, nil, nil
	case f.Reset:
		return 0, nil, &esClientError{name: "ConnectionError", message: "other side closed"}
	case f.Status == http.StatusNotFound && ignore404:
		return f.Status, esim.FaultBody(f.Status, method, path), nil
	case f.Status >= 400:
		return f.Status, nil, responseError(f.Status, esim.FaultBody(f.Status, method, path))
	}
	return 0, nil, nil
}

func componentTemplatePath(name string) string { return "/_component_template/" + name }
func pipelinePath(id string) string            { return "/_ingest/pipeline/" + id }

// esComponentTemplates is getComponentTemplate(name) with ignore: [404]: the
// response body decoded as the JS code sees it.
func (c *Cluster) esComponentTemplates(name string) (map[string]any, *esClientError) {
	if st, body, err := c.esFault(http.MethodGet, componentTemplatePath(name), true); err != nil {
		return nil, err
	} else if st != 0 {
		return decodeObject(body), nil
	}
	list, err := c.node.ComponentTemplates(name)
	if err != nil {
		var e *esim.Error
		if errors.As(err, &e) && e.Status == http.StatusNotFound {
			return decodeObject(e.Body()), nil // ignored 404: the error envelope is the body
		}
		return nil, fromESError(err)
	}
	items := make([]any, 0, len(list))
	for _, t := range list {
		items = append(items, map[string]any{"name": t.Name, "component_template": decodeAny(t.Body)})
	}
	return map[string]any{"component_templates": items}, nil
}

// esPipelines is getPipeline(id) with ignore: [404].
func (c *Cluster) esPipelines(id string) (map[string]any, *esClientError) {
	if st, body, err := c.esFault(http.MethodGet, pipelinePath(id), true); err != nil {
		return nil, err
	} else if st != 0 {
		return decodeObject(body), nil
	}
	out := map[string]any{}
	for k, v := range c.node.Pipelines(id) {
		out[k] = decodeAny(v)
	}
	return out, nil
}

// esWrite runs one write under retryTransientEsErrors: a transient failure
// (503, 408, 410, dropped connection) is retried up to five times. The
// simulator does not sleep the 2s…32s backoff between attempts.
func (c *Cluster) esWrite(method, path string, do func() error) *esClientError {
	var last *esClientError
	for attempt := 0; attempt <= maxTransientRetries; attempt++ {
		if _, _, err := c.esFault(method, path, false); err != nil {
			last = err
		} else if err := do(); err != nil {
			last = fromESError(err)
		} else {
			return nil
		}
		if !last.retryable() {
			return last
		}
		c.sim.log.Warn("retrying elasticsearch operation", "cluster", c.cfg.Name, "method", method, "path", path, "err", last)
	}
	return last
}

func decodeAny(raw []byte) any {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

func decodeObject(raw []byte) map[string]any {
	m, _ := decodeAny(raw).(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

// jsMessage is error.message of what Kibana caught.
func jsMessage(err error) string {
	var e *esClientError
	if errors.As(err, &e) {
		return e.message
	}
	return err.Error()
}
