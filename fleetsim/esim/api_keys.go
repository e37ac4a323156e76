package esim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// APIKeyRequest is the body of POST /_security/api_key, plus the owner.
type APIKeyRequest struct {
	Name            string                    `json:"name"`
	Expiration      string                    `json:"expiration,omitempty"` // e.g. "1d"
	RoleDescriptors map[string]RoleDescriptor `json:"role_descriptors,omitempty"`
	Metadata        map[string]any            `json:"metadata,omitempty"`
	// ID and Key fix the generated values (for seeding); empty means random.
	ID  string `json:"-"`
	Key string `json:"-"`
}

// APIKey is a created API key. Encoded is base64("id:api_key"), the value of
// an "Authorization: ApiKey …" header.
type APIKey struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Expiration int64  `json:"expiration,omitempty"`
	Key        string `json:"api_key"`
	Encoded    string `json:"encoded"`
}

// CreateAPIKey creates an API key owned by owner (a user, or a service
// account such as "elastic/fleet-server"). An owner with no Roles, such as
// Principal{Username: "elastic"}, gets the roles of the user of that name.
func (n *Node) CreateAPIKey(owner Principal, req APIKeyRequest) (APIKey, error) {
	if req.Name == "" {
		return APIKey{}, newErr(http.StatusBadRequest, "action_request_validation_exception", "Validation Failed: 1: api key name is required;")
	}
	if len(req.Name) > 1024 || strings.HasPrefix(req.Name, "_") {
		return APIKey{}, newErr(http.StatusBadRequest, "action_request_validation_exception",
			"Validation Failed: 1: api key name may not begin with an underscore;")
	}
	var exp *time.Time
	if req.Expiration != "" {
		d, err := parseESDuration(req.Expiration)
		if err != nil {
			return APIKey{}, errIllegalArgument("failed to parse setting [expiration] with value [%s] as a time value: unit is missing or unrecognized", req.Expiration)
		}
		t := n.now().Add(d).UTC()
		exp = &t
	}
	id, secret := req.ID, req.Key
	if id == "" {
		id = n.randomID(20)
	}
	if secret == "" {
		secret = n.randomID(22)
	}
	realm := "reserved"
	if owner.ServiceAccount != "" {
		realm = "_service_account"
	} else if owner.Username != "elastic" {
		realm = "default_native"
	}
	k := &apiKey{
		ID: id, Name: req.Name, SecretHash: n.hash(secret), Owner: owner.Username, Realm: realm,
		Created: n.now().UTC().Truncate(time.Millisecond), Expiration: exp,
		RoleDescriptors: req.RoleDescriptors, Metadata: req.Metadata, OwnerRoles: slices.Clone(owner.Roles),
	}
	if owner.Superuser && len(owner.Roles) == 0 {
		k.OwnerRoles = []string{"superuser"}
	}
	if k.RoleDescriptors == nil {
		k.RoleDescriptors = map[string]RoleDescriptor{}
	}
	if k.Metadata == nil {
		k.Metadata = map[string]any{}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(k.OwnerRoles) == 0 && owner.ServiceAccount == "" {
		// An owner given by name only (e.g. from a seed file) keeps its user's roles.
		if u := n.st.Users[owner.Username]; u != nil {
			k.OwnerRoles = slices.Clone(u.Roles)
		}
	}
	if _, dup := n.st.APIKeys[id]; dup {
		return APIKey{}, newErr(http.StatusConflict, "version_conflict_engine_exception",
			"[%s]: version conflict, document already exists (current version [1])", id)
	}
	n.st.APIKeys[id] = k
	out := APIKey{ID: id, Name: req.Name, Key: secret, Encoded: base64.StdEncoding.EncodeToString([]byte(id + ":" + secret))}
	if exp != nil {
		out.Expiration = exp.UnixMilli()
	}
	return out, nil
}

// InvalidateAPIKey invalidates a key; it reports false when the id is unknown
// or already invalidated.
func (n *Node) InvalidateAPIKey(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := n.st.APIKeys[id]
	if k == nil || k.Invalidated {
		return false
	}
	now := n.now().UTC()
	k.Invalidated, k.InvalidatedAt = true, &now
	return true
}

func parseESDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		d      time.Duration
	}{{"nanos", time.Nanosecond}, {"micros", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var v int64
			if _, err := fmt.Sscanf(num, "%d", &v); err != nil || fmt.Sprint(v) != num || v < 0 {
				return 0, fmt.Errorf("bad time value %q", s)
			}
			return time.Duration(v) * u.d, nil
		}
	}
	return 0, fmt.Errorf("bad time value %q", s)
}
