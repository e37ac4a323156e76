package contract

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// SpecEnv overrides where the Kibana Fleet OpenAPI document is read from.
const SpecEnv = "FLEETFORM_KIBANA_OPENAPI"

// ErrNoSpec is returned when the OpenAPI document is not where it belongs.
var ErrNoSpec = errors.New("kibana OpenAPI spec not found")

// Spec is the patched and extended contract with its router.
type Spec struct {
	Doc    *openapi3.T
	Router routers.Router
	Path   string
}

var (
	specOnce sync.Once
	spec     *Spec
	specErr  error
)

// LoadKibana loads the spec once per process (see SpecPath), patches the
// extract's defects and adds the 9.1+ remote-sync extensions.
func LoadKibana() (*Spec, error) {
	specOnce.Do(func() { spec, specErr = loadKibana() })
	return spec, specErr
}

// SpecPath is $FLEETFORM_KIBANA_OPENAPI, or shared/specs/kibana-fleet.openapi.yaml
// beside the repository (../shared from the module root) when it is there,
// else the repository's copy (testdata/kibana-openapi), as the other
// contract tests find it.
func SpecPath() (string, error) {
	if p := os.Getenv(SpecEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shared := filepath.Join(dir, "..", "shared", "specs", "kibana-fleet.openapi.yaml")
			if _, err := os.Stat(shared); err == nil {
				return shared, nil
			}
			return filepath.Join(dir, "testdata", "kibana-openapi", "kibana-fleet.openapi.yaml"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

func loadKibana() (*Spec, error) {
	path, err := SpecPath()
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s (put the team's shared specs directory beside the repository, or set %s)", ErrNoSpec, path, SpecEnv)
	}
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	patchDefects(doc)
	extend(doc)
	doc.Servers = nil // match paths without the server prefix
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("patched spec %s is invalid: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &Spec{Doc: doc, Router: router, Path: path}, nil
}

// patchDefects repairs what the published extract gets wrong as OpenAPI
// (the same defects fleetsim's response contract test patches).
func patchDefects(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				// pkgVersion is a path parameter with required: false; OpenAPI
				// wants path parameters required. The route without it is added
				// as its own path (extend).
				if p.Value != nil && p.Value.In == "path" {
					p.Value.Required = true
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				aliasJSON(op.RequestBody.Value.Content)
				for _, media := range op.RequestBody.Value.Content {
					if media.Schema != nil {
						FixSchema(media.Schema.Value, seen)
					}
				}
			}
			for code, resp := range op.Responses.Map() {
				if resp.Value.Description == nil { // 73 of 75 lack one
					d := "HTTP " + code
					resp.Value.Description = &d
				}
				aliasJSON(resp.Value.Content)
				for _, media := range resp.Value.Content {
					if media.Schema != nil {
						FixSchema(media.Schema.Value, seen)
					}
				}
			}
		}
	}
}

// aliasJSON registers "application/json; Elastic-Api-Version=…" bodies under
// the bare media type too: fleetform sends Content-Type application/json and
// the version in the Elastic-Api-Version header, as Kibana's router expects.
func aliasJSON(c openapi3.Content) {
	for mt, media := range c {
		if strings.HasPrefix(mt, "application/json;") {
			c["application/json"] = media
		}
	}
}

// FixSchema drops the extract's conversion artefacts: an empty enum (which
// accepts nothing), `oneOf` branches of config-schema `never` rendered as
// {not: {}}, and the Kafka conditional fields rendered as required though
// Kibana's config-schema makes them `never` unless their sibling asks for
// them (types/models/output.ts KafkaSchema: compression_level,
// connection_type, username, password). fleetsim's response contract test
// uses it on responses too.
func FixSchema(s *openapi3.Schema, seen map[*openapi3.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if s.Enum != nil && len(s.Enum) == 0 {
		s.Enum = nil
	}
	if t, ok := s.Properties["type"]; ok && t.Value != nil && len(t.Value.Enum) == 1 && t.Value.Enum[0] == "kafka" {
		var req []string
		for _, r := range s.Required {
			switch r {
			case "compression_level", "connection_type", "username", "password":
			default:
				req = append(req, r)
			}
		}
		s.Required = req
	}
	if len(s.OneOf) > 1 {
		var keep openapi3.SchemaRefs
		for _, b := range s.OneOf {
			if b.Value != nil && b.Value.Not != nil && b.Value.Not.Value != nil && b.Value.Not.Value.IsEmpty() {
				continue
			}
			keep = append(keep, b)
		}
		s.OneOf = keep
	}
	for _, refs := range [][]*openapi3.SchemaRef{s.AnyOf, s.OneOf, s.AllOf} {
		for _, r := range refs {
			FixSchema(r.Value, seen)
		}
	}
	for _, r := range s.Properties {
		FixSchema(r.Value, seen)
	}
	if s.Items != nil {
		FixSchema(s.Items.Value, seen)
	}
	if s.AdditionalProperties.Schema != nil {
		FixSchema(s.AdditionalProperties.Schema.Value, seen)
	}
}
