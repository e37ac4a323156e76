package fleetsim

// Fleet's space awareness migration and the settings object that records it.
//
// isSpaceAwarenessEnabled (FLEET/server/services/spaces/helpers.ts) is true
// only when the useSpaceAwareness experimental feature is on (the default
// from 9.1) AND fleet-default-settings holds
// use_space_awareness_migration_status "success". A new 9.1+ deployment's
// settings are created with "success" (server/services/settings.ts
// createDefaultSettings; settings.test.ts "should create default settings
// with space awareness enabled if feature flag is enabled"). A deployment
// upgraded from an earlier stack keeps its old settings object, without the
// status, and stays global until someone runs the migration: POST
// /internal/fleet/enable_space_awareness (server/routes/app/index.ts,
// enableSpaceAwarenessMigration in server/services/spaces/
// enable_space_awareness.ts), which copies every ingest-agent-policies and
// ingest-package-policies object (namespace-agnostic) into
// fleet-agent-policies and fleet-package-policies (multi-namespace), all in
// the default space, then sets the status to "success". Nothing calls it
// on upgrade or at setup. fleet_api_integration/apis/space_awareness/
// space_awareness_migration.ts: "without opt-in" the policies created
// through /s/test1 are listed from both spaces; after postEnableSpaceAwareness
// every one of them is in the default space and test1 lists none.

import (
	"errors"
	"fmt"
)

// migrationAbsent is the SpaceMigration of a deployment upgraded from a
// stack without space awareness: its settings object has no status.
const migrationAbsent = "absent"

// SkipSpaceAwarenessMigration makes the cluster a 9.1+ deployment upgraded
// from an earlier stack whose Fleet was never migrated: agent and package
// policies are global (every space sees them, space_ids is not answered)
// until EnableSpaceAwareness. Policies placed in spaces become global, as
// the legacy saved-object types are namespace-agnostic.
func (c *Cluster) SkipSpaceAwarenessMigration() error {
	if !versionAtLeast(c.cfg.Version, versionSpaceAwareness) {
		return errors.New("fleetsim: Fleet is space-aware only from " + versionSpaceAwareness)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.SpaceMigration = migrationAbsent
	c.resetPolicySpaces()
	c.sim.markDirty()
	return nil
}

// checkSpaceAwareness validates ClusterConfig.SpaceAwareness: on or off,
// and only a Kibana that has space awareness (9.1+) can have it either way
// explicitly.
func checkSpaceAwareness(cfg ClusterConfig) error {
	switch cfg.SpaceAwareness {
	case "":
		return nil
	case "on", "off":
	default:
		return fmt.Errorf("fleetsim: cluster %s: space awareness must be on or off, not %q", cfg.Name, cfg.SpaceAwareness)
	}
	if !versionAtLeast(cfg.Version, versionSpaceAwareness) {
		return fmt.Errorf("fleetsim: cluster %s: space awareness %s needs %s or later (Fleet is space-aware only from %s)", cfg.Name, cfg.SpaceAwareness, versionSpaceAwareness, versionSpaceAwareness)
	}
	return nil
}

// initialSpaceMigration is the SpaceMigration a fresh (or reset) cluster
// starts with.
func initialSpaceMigration(cfg ClusterConfig) string {
	if cfg.SpaceAwareness == "off" {
		return migrationAbsent
	}
	return ""
}

// applySpaceAwarenessSeed is the seed's space_awareness: false makes the
// cluster a never-migrated deployment, true runs the migration. c.mu is held.
func (c *Cluster) applySpaceAwarenessSeed(on *bool) error {
	if on == nil {
		return nil
	}
	if !versionAtLeast(c.cfg.Version, versionSpaceAwareness) {
		return fmt.Errorf("space_awareness: Fleet is space-aware only from %s (cluster version %s)", versionSpaceAwareness, c.cfg.Version)
	}
	if *on {
		c.enableSpaceAwareness()
		return nil
	}
	c.st.SpaceMigration = migrationAbsent
	c.resetPolicySpaces()
	return nil
}

// EnableSpaceAwareness is enableSpaceAwarenessMigration: nothing to do when
// the status is already "success"; otherwise every agent and package policy
// lands in the default space and Fleet becomes space-aware.
func (c *Cluster) EnableSpaceAwareness() error {
	if !versionAtLeast(c.cfg.Version, versionSpaceAwareness) {
		return errors.New("fleetsim: Fleet is space-aware only from " + versionSpaceAwareness)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enableSpaceAwareness()
	c.sim.markDirty()
	return nil
}

// enableSpaceAwareness runs the migration; c.mu is held.
func (c *Cluster) enableSpaceAwareness() {
	if c.st.SpaceMigration == "" {
		return
	}
	c.st.SpaceMigration = ""
	c.resetPolicySpaces()
}

// spaceMigrationRoutes is the internal route that runs the migration, as
// server/routes/app/index.ts registers it: POST
// /internal/fleet/enable_space_awareness, access internal, version
// API_VERSIONS.internal.v1 ("1"), no request validation, and only when the
// useSpaceAwareness experimental feature is on (the default from 9.1;
// earlier stacks answer 404). It requires the Fleet agents, agent policies
// and settings "all" privileges.
func spaceMigrationRoutes(version string) []*route {
	if !versionAtLeast(version, versionSpaceAwareness) {
		return nil
	}
	return []*route{{method: "POST", pattern: "/internal/fleet/enable_space_awareness", priv: privWrite,
		privTag: "fleet-agents-all,fleet-agent-policies-all,fleet-settings-all", handle: (*Cluster).postEnableSpaceAwareness}}
}

// postEnableSpaceAwareness is postEnableSpaceAwarenessHandler
// (server/routes/app/index.ts): it runs the migration, whichever space the
// request came through, and answers 200 with an empty object — also when
// the deployment was already space-aware (enableSpaceAwarenessMigration
// returns early on "success"; fleet_api_integration's
// space_awareness/api_helper.ts postEnableSpaceAwareness expects 200).
func (c *Cluster) postEnableSpaceAwareness(_ *kreq) *kresp {
	c.enableSpaceAwareness()
	return ok(map[string]any{})
}

// resetPolicySpaces puts every agent and package policy in the default
// space (nil Spaces) and drops the cached views that answer space_ids.
func (c *Cluster) resetPolicySpaces() {
	for _, p := range c.st.AgentPolicies {
		p.Spaces, p.cache = nil, nil
	}
	for _, pp := range c.st.PackagePolicies {
		pp.Spaces, pp.jsonCache = nil, [2][]byte{}
	}
	c.st.touchPolicies()
}

// spaceMigrationStatus is use_space_awareness_migration_status as GET
// /api/fleet/settings answers it: "success" on a space-aware deployment,
// absent on one that was never migrated and before 9.1 (where
// createDefaultSettings does not set it: the feature flag is off).
func (c *Cluster) spaceMigrationStatus() (string, bool) {
	if c.spaceAware() {
		return "success", true
	}
	return "", false
}

// getSettings is GET /api/fleet/settings (server/routes/settings): the
// fleet-default-settings object, as far as fleetsim keeps it.
func (c *Cluster) getSettings(_ *kreq) *kresp {
	item := map[string]any{
		"id":                                     "fleet-default-settings",
		"prerelease_integrations_enabled":        false,
		"output_secret_storage_requirements_met": c.st.SecretLatch,
		"preconfigured_fields":                   []any{},
	}
	if s, ok := c.spaceMigrationStatus(); ok {
		item["use_space_awareness_migration_status"] = s
	}
	return ok(map[string]any{"item": item})
}
