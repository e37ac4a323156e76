package kibana

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// Package info: GET /api/fleet/epm/packages/{pkgName}/{pkgVersion}, Kibana's
// getInfoHandler (FLEET/server/routes/epm/handlers.ts), which answers
// {item: PackageInfo} from getPackageInfo
// (FLEET/server/services/epm/packages/get.ts). Only what an integration
// policy is built from is read: the policy templates and their inputs, the
// data streams and their streams, and every level's variable definitions
// (RegistryVarsEntry in FLEET/common/types/models/epm.ts), with the
// required_vars of inputs and streams and the var_groups of the package and
// its streams.
//
// The request sends full=true. Without it getInfoHandler passes
// skipArchive: true and getPackageInfo answers, for a package that is not
// of type input, the registry's info (Registry.fetchInfo) — and the
// registry's variables have no secret field (elastic/package-registry,
// packages/datastream.go, type Variable: name, type, title, description,
// multi, required, show_user, default, deprecated). With full=true it reads
// the package archive (getPackageFromSource), the same definitions Kibana's
// package policy service builds a policy from, secret: true included.

// PackageInfo is the part of Kibana's PackageInfo an integration policy is
// checked against.
type PackageInfo struct {
	Name            string                  `json:"name"`
	Version         string                  `json:"version"`
	Type            string                  `json:"type"` // integration | input | content
	Vars            []PackageVar            `json:"vars"`
	PolicyTemplates []PackagePolicyTemplate `json:"policy_templates"`
	DataStreams     []PackageDataStream     `json:"data_streams"`
	// VarGroups are the package-level var_groups (package-spec 3.6.1).
	VarGroups []VarGroup `json:"var_groups"`
}

// PackagePolicyTemplate is a RegistryPolicyTemplate: an integration
// template lists Inputs (and may restrict its data streams by path); an
// input-only template (packages of type input) names one Input and carries
// the stream's Vars.
type PackagePolicyTemplate struct {
	Name        string         `json:"name"`
	Inputs      []PackageInput `json:"inputs"`
	DataStreams []string       `json:"data_streams"`
	// Input-only templates (isInputOnlyPolicyTemplate: 'input' in template).
	Input *string      `json:"input"`
	Type  string       `json:"type"`
	Vars  []PackageVar `json:"vars"`
}

// PackageInput is a RegistryInput. Name, when present, is the input's
// effective name (getInputEffectiveName: name ?? type) in newer Kibana.
type PackageInput struct {
	Type         string       `json:"type"`
	Name         string       `json:"name"`
	Vars         []PackageVar `json:"vars"`
	RequiredVars RequiredVars `json:"required_vars"`
}

// PackageDataStream is a RegistryDataStream. Path is the data stream's
// directory, which a policy template's data_streams list names.
type PackageDataStream struct {
	Type    string          `json:"type"`
	Dataset string          `json:"dataset"`
	Path    string          `json:"path"`
	Streams []PackageStream `json:"streams"`
}

// PackageStream is a RegistryStream: the input it belongs to, its vars,
// and whether a new policy enables it (enabled: false in the manifest
// leaves it off; absent is on).
type PackageStream struct {
	Input        string       `json:"input"`
	Vars         []PackageVar `json:"vars"`
	Enabled      *bool        `json:"enabled"`
	RequiredVars RequiredVars `json:"required_vars"`
	VarGroups    []VarGroup   `json:"var_groups"`
}

// PackageVar is a RegistryVarsEntry. Secret marks a variable Kibana stores
// in .fleet-secrets and answers as {"isSecretRef": true, "id": …}. Title
// names it in Kibana's messages (title || name); Default is the value a new
// policy starts from (nil: none); Options are a select's choices;
// MinDuration, MaxDuration and URLAllowedSchemes bound duration and url
// variables (package-spec 3.5 and 1.3, checked by Kibana 9.2+).
// DefaultNull marks a manifest's `default: null` (or an empty `default:`),
// which Kibana's varsReducer keeps as a null value, unlike an absent
// default (undefined) — see UnmarshalJSON.
type PackageVar struct {
	Name              string          `json:"name"`
	Type              string          `json:"type"`
	Title             string          `json:"title"`
	Multi             bool            `json:"multi"`
	Required          bool            `json:"required"`
	ShowUser          bool            `json:"show_user"`
	Secret            bool            `json:"secret"`
	Default           any             `json:"default"`
	Options           []PackageOption `json:"options"`
	MinDuration       string          `json:"min_duration"`
	MaxDuration       string          `json:"max_duration"`
	URLAllowedSchemes []string        `json:"url_allowed_schemes"`
	DefaultNull       bool            `json:"-"`
}

// UnmarshalJSON reads a var, telling `"default": null` from no default:
// getPackageInfo answers the archive's manifest as parsed (parseAndVerifyVars
// keeps every property), so a manifest's null default reaches the answer,
// and packageToPackagePolicy's varsReducer gives the var the value null —
// defined — where an absent default leaves it undefined.
func (v *PackageVar) UnmarshalJSON(b []byte) error {
	type plain PackageVar
	var p struct {
		plain
		Default json.RawMessage `json:"default"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*v = PackageVar(p.plain)
	v.Default, v.DefaultNull = nil, false
	switch d := bytes.TrimSpace(p.Default); {
	case len(d) == 0:
	case bytes.Equal(d, []byte("null")):
		v.DefaultNull = true
	default:
		if err := json.Unmarshal(d, &v.Default); err != nil {
			return fmt.Errorf("default: %w", err)
		}
	}
	return nil
}

// Label is how Kibana's messages name the variable: its title, else its name.
func (v PackageVar) Label() string {
	if v.Title != "" {
		return v.Title
	}
	return v.Name
}

// PackageOption is one choice of a select variable.
type PackageOption struct {
	Value any    `json:"value"`
	Text  string `json:"text"`
}

// RequiredVars is a RegistryRequiredVars (package-spec 3.3.2
// required_vars): groups of conditions, one of which a stream or input must
// meet. It decodes the JSON object's groups in the order Kibana's
// Object.entries walks them: array-index keys ascending, then the others as
// written.
type RequiredVars []RequiredVarGroup

// RequiredVarGroup is one group: met when each condition is.
type RequiredVarGroup struct {
	Name string
	Vars []RequiredVar
}

// RequiredVar is a condition: the variable has a truthy value, equal (===)
// to Value when Value is truthy.
type RequiredVar struct {
	Name  string `json:"name"`
	Value any    `json:"value"`
}

// UnmarshalJSON reads the object's groups in order.
func (r *RequiredVars) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*r = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("required_vars: want an object, got %s", b)
	}
	var out RequiredVars
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("required_vars: %w", err)
		}
		name, _ := t.(string)
		var vars []RequiredVar
		if err := dec.Decode(&vars); err != nil {
			return fmt.Errorf("required_vars.%s: %w", name, err)
		}
		out = append(out, RequiredVarGroup{Name: name, Vars: vars})
	}
	index := func(k string) (uint64, bool) {
		n, err := strconv.ParseUint(k, 10, 32)
		return n, err == nil && n < 1<<32-1 && strconv.FormatUint(n, 10) == k
	}
	slices.SortStableFunc(out, func(a, b RequiredVarGroup) int {
		ai, aok := index(a.Name)
		bi, bok := index(b.Name)
		switch {
		case aok && bok:
			return int(int64(ai) - int64(bi))
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	})
	*r = out
	return nil
}

// VarGroup is a RegistryVarGroup (package-spec 3.6.1 var_groups): options
// that each show some variables; the selected option is stored in the
// policy's var_group_selections, and Required makes its variables required.
type VarGroup struct {
	Name     string           `json:"name"`
	Required bool             `json:"required"`
	Options  []VarGroupOption `json:"options"`
}

// VarGroupOption is one option of a VarGroup and the variables it shows.
type VarGroupOption struct {
	Name string   `json:"name"`
	Vars []string `json:"vars"`
}

// PackageInfo reads the definitions of package name at version (full=true:
// from the package archive, see the file comment). A package or version
// Kibana knows neither installed nor in its registry is a 404 APIError.
func (c *Client) PackageInfo(ctx context.Context, name, version string) (PackageInfo, error) {
	var resp struct {
		Item PackageInfo `json:"item"`
	}
	r := request{method: http.MethodGet, path: packagePath(name, version), query: url.Values{"full": {"true"}}}
	if err := c.do(ctx, r, &resp); err != nil {
		return PackageInfo{}, err
	}
	return resp.Item, nil
}
