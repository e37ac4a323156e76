package fleetsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

const (
	leaderIndex    = "fleet-synced-integrations"
	leaderDocID    = "fleet-synced-integrations"
	followerPrefix = "fleet-synced-integrations-ccr-"
)

// installRetryBackoff is the remote install retry schedule (trap 25).
var installRetryBackoff = []time.Duration{5 * time.Minute, 10 * time.Minute, 20 * time.Minute, 40 * time.Minute, 60 * time.Minute}

const maxInstallAttempts = 5

// canEnableSyncIntegrations: experimental flag on (default), Enterprise licence, not serverless.
func (c *Cluster) canEnableSyncIntegrations() bool {
	switch c.node.License() {
	case "enterprise", "trial":
		return true
	}
	return false
}

const leaderIndexBody = `{"settings":{"auto_expand_replicas":"0-1"},"mappings":{"dynamic":false,"_meta":{"version":"1.0"},"properties":{"remote_es_hosts":{"properties":{"name":{"type":"keyword"},"hosts":{"type":"keyword"},"sync_integrations":{"type":"boolean"}}},"integrations":{"properties":{"package_name":{"type":"keyword"},"package_version":{"type":"keyword"},"updated_at":{"type":"date"}}}}}}`

// ensureLeaderIndex creates fleet-synced-integrations; "already exists" is ignored.
func (c *Cluster) ensureLeaderIndex() {
	if !c.node.IndexExists(leaderIndex) {
		_ = c.node.CreateIndex(leaderIndex, json.RawMessage(leaderIndexBody))
	}
}

// syncDoc is the leader document (model.ts).
type syncDoc struct {
	RemoteESHosts []remoteESHost          `json:"remote_es_hosts"`
	Integrations  []syncedPackage         `json:"integrations"`
	CustomAssets  map[string]*customAsset `json:"custom_assets"`
	CustomErr     *customAssetsError      `json:"custom_assets_error,omitempty"`
}

type remoteESHost struct {
	Name                        string   `json:"name"`
	Hosts                       []string `json:"hosts"`
	SyncIntegrations            bool     `json:"sync_integrations"`
	SyncUninstalledIntegrations bool     `json:"sync_uninstalled_integrations"`
}

type syncedPackage struct {
	PackageName    string `json:"package_name"`
	PackageVersion string `json:"package_version"`
	UpdatedAt      string `json:"updated_at"`
	InstallStatus  string `json:"install_status"`
	InstallSource  string `json:"install_source,omitempty"`
}

// RunSyncOnce runs the sync-integrations task once on every cluster: first
// the main role (leader document), then the remote role (install/uninstall).
func (s *Sim) RunSyncOnce(ctx context.Context) error {
	var errs []error
	for _, c := range s.Clusters() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.updateSyncedIntegrationsData(); err != nil {
			errs = append(errs, fmt.Errorf("cluster %s: main side: %w", c.cfg.Name, err))
		}
	}
	for _, c := range s.Clusters() {
		if err := c.syncIntegrationsOnRemote(); err != nil {
			errs = append(errs, fmt.Errorf("cluster %s: remote side: %w", c.cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) previousSyncDoc() (*syncDoc, bool) {
	d, found := c.node.GetDoc(leaderIndex, leaderDocID)
	if !found {
		return nil, false
	}
	var doc syncDoc
	if json.Unmarshal(d.Source, &doc) != nil {
		return nil, false
	}
	return &doc, true
}

// updateSyncedIntegrationsData is the main-side half of the task (5.3).
func (c *Cluster) updateSyncedIntegrationsData() error {
	if !c.canEnableSyncIntegrations() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleInstalls(c.now())
	var hosts []remoteESHost
	anyOn, anyUninstall := false, false
	for _, o := range c.sortedOutputs() {
		if o.typ() != typeRemoteES {
			continue
		}
		h := remoteESHost{Name: o.str("name"), Hosts: stringList(o.Attrs["hosts"]),
			SyncIntegrations: o.flag("sync_integrations"), SyncUninstalledIntegrations: o.flag("sync_uninstalled_integrations")}
		anyOn = anyOn || h.SyncIntegrations
		anyUninstall = anyUninstall || h.SyncUninstalledIntegrations
		hosts = append(hosts, h)
	}
	prev, hasPrev := c.previousSyncDoc()
	if !anyOn {
		wasOn := hasPrev && slices.ContainsFunc(prev.RemoteESHosts, func(h remoteESHost) bool { return h.SyncIntegrations })
		if !wasOn {
			return nil
		}
	}
	c.ensureLeaderIndex()
	doc := syncDoc{RemoteESHosts: hosts, Integrations: []syncedPackage{}, CustomAssets: map[string]*customAsset{}}
	if doc.RemoteESHosts == nil {
		doc.RemoteESHosts = []remoteESHost{}
	}
	for _, name := range sortedKeys(c.st.Packages) {
		inst := c.st.Packages[name]
		if inst.Status != "installed" || !hasIndexTemplates(inst) {
			continue
		}
		doc.Integrations = append(doc.Integrations, syncedPackage{PackageName: name, PackageVersion: inst.Version,
			UpdatedAt: inst.UpdatedAt.Format(time.RFC3339Nano), InstallStatus: "installed", InstallSource: inst.Source})
	}
	if anyUninstall && hasPrev {
		for _, e := range prev.Integrations {
			if slices.ContainsFunc(doc.Integrations, func(p syncedPackage) bool { return p.PackageName == e.PackageName }) {
				continue
			}
			e.InstallStatus = "not_installed"
			doc.Integrations = append(doc.Integrations, e)
		}
	}
	now := c.now()
	if assets, err := c.collectCustomAssets(doc.Integrations, prev, now); err != nil { // prev is nil without a previous doc
		c.sim.log.Warn("error getting custom assets", "cluster", c.cfg.Name, "err", err)
		doc.CustomErr = &customAssetsError{Timestamp: now.Format("2006-01-02T15:04:05.000Z"), Error: jsMessage(err)}
	} else {
		doc.CustomAssets = assets
	}
	src, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err := c.node.IndexDoc(leaderIndex, leaderDocID, src); err != nil {
		return fmt.Errorf("index %s/%s: %w", leaderIndex, leaderDocID, err)
	}
	return nil
}

func (c *Cluster) sortedOutputs() []*output {
	outs := make([]*output, 0, len(c.st.Outputs))
	for _, o := range c.st.Outputs {
		outs = append(outs, o)
	}
	slices.SortFunc(outs, func(a, b *output) int { return int(a.Seq - b.Seq) })
	return outs
}

// errMultipleFollowers is the message of 5.4 step 1.
var errMultipleFollowers = errors.New("Not supported to sync multiple indices with prefix " + followerPrefix + "*")

// followerIndex finds the single follower index ("" when none).
func (c *Cluster) followerIndex() (string, error) {
	names := c.node.ResolveIndices(followerPrefix+"*", true)
	switch len(names) {
	case 0:
		return "", nil
	case 1:
		return names[0], nil
	}
	return "", errMultipleFollowers
}

// readSyncDoc is step 2: the first hit of the follower (or, without one, of
// every non-hidden index, as the newest code searches with index undefined).
func (c *Cluster) readSyncDoc(follower string) (*syncDoc, bool) {
	pattern, hidden := follower, true
	if follower == "" {
		pattern, hidden = "*", false
	}
	docs, err := c.node.SearchDocs(pattern, hidden)
	if err != nil || len(docs) == 0 {
		return nil, false
	}
	var doc syncDoc
	if json.Unmarshal(docs[0].Source, &doc) != nil {
		return nil, false
	}
	return &doc, true
}

// syncEnabledFor is step 3: a remote_es_hosts entry with sync on whose host
// string-equals a host of one of this cluster's own elasticsearch outputs.
func (c *Cluster) syncEnabledFor(doc *syncDoc) bool {
	var own []string
	for _, o := range c.st.Outputs {
		if o.typ() == typeES {
			own = append(own, stringList(o.Attrs["hosts"])...)
		}
	}
	for _, h := range doc.RemoteESHosts {
		if !h.SyncIntegrations {
			continue
		}
		for _, host := range h.Hosts {
			if slices.Contains(own, host) {
				return true
			}
		}
	}
	return false
}

// syncIntegrationsOnRemote is the remote-side half of the task (5.4).
func (c *Cluster) syncIntegrationsOnRemote() error {
	if !c.canEnableSyncIntegrations() {
		return nil
	}
	follower, err := c.followerIndex()
	if err != nil {
		return err
	}
	doc, found := c.readSyncDoc(follower)
	if !found {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleInstalls(c.now())
	if !c.syncEnabledFor(doc) {
		c.sim.log.Debug("sync integrations not enabled for this cluster", "cluster", c.cfg.Name)
		return nil
	}
	now := c.now()
	log := c.sim.log.With("cluster", c.cfg.Name)
	for _, e := range doc.Integrations {
		if e.InstallStatus == "not_installed" {
			continue
		}
		inst := c.st.Packages[e.PackageName]
		if inst != nil {
			switch inst.Status {
			case "installed":
				if compareVersions(inst.Version, e.PackageVersion) >= 0 {
					continue // never downgrade
				}
			case "installing":
				continue
			case "install_failed":
				attempt := len(inst.FailedInstall)
				if attempt >= maxInstallAttempts {
					continue
				}
				if attempt == 0 || now.Sub(inst.FailedInstall[0].CreatedAt) <= installRetryBackoff[attempt-1] ||
					(inst.Source != "registry" && inst.Source != "bundled") {
					continue
				}
			}
		}
		_, ierr := c.install(e.PackageName, e.PackageVersion, true)
		if ierr != nil && ierr.name == "PackageNotFoundError" {
			_, ierr = c.install(e.PackageName, "", true)
		}
		if ierr == nil {
			continue
		}
		log.Warn("sync integration install failed", "package", e.PackageName, "version", e.PackageVersion, "err", ierr.message)
		if ierr.name == "PackageNotFoundError" && strings.Contains(ierr.message, "not found in registry") {
			c.recordFailedInstall(e, ierr, now)
		}
	}
	for _, e := range doc.Integrations {
		if e.InstallStatus != "not_installed" {
			continue
		}
		inst := c.st.Packages[e.PackageName]
		if inst == nil || inst.Status != "installed" || compareVersions(inst.Version, e.PackageVersion) != 0 {
			log.Warn("skipping uninstall of synced integration", "package", e.PackageName, "version", e.PackageVersion)
			continue
		}
		if _, ierr := c.remove(e.PackageName, false); ierr != nil {
			log.Warn("sync integration uninstall failed", "package", e.PackageName, "err", ierr.message)
		}
	}
	return c.syncCustomAssets(doc.CustomAssets, now)
}

// recordFailedInstall is createOrUpdateFailedInstallStatus.
func (c *Cluster) recordFailedInstall(e syncedPackage, ierr *installError, now time.Time) {
	inst := c.st.Packages[e.PackageName]
	if inst == nil {
		inst = &installation{Name: e.PackageName, Version: e.PackageVersion, Source: cmpOr(e.InstallSource, "registry")}
		c.st.Packages[e.PackageName] = inst
	}
	if inst.Status != "installed" {
		inst.Status = "install_failed"
		inst.Version = e.PackageVersion
	}
	inst.UpdatedAt = now
	inst.FailedInstall = append([]failedAttempt{{CreatedAt: now, Target: e.PackageVersion, ErrName: ierr.name, ErrMsg: ierr.message}}, inst.FailedInstall...)
	if len(inst.FailedInstall) > maxInstallAttempts {
		inst.FailedInstall = inst.FailedInstall[:maxInstallAttempts]
	}
}

// remoteSyncedStatus is GET /api/fleet/remote_synced_integrations/status (5.5).
func (c *Cluster) remoteSyncedStatus(_ *kreq) *kresp {
	empty := func(msg string) *kresp {
		body := map[string]any{"integrations": []any{}}
		if msg != "" {
			body["error"] = msg
		}
		return ok(body)
	}
	if !c.canEnableSyncIntegrations() {
		return empty("")
	}
	follower, err := c.followerIndex()
	if err != nil {
		return empty(err.Error())
	}
	if follower == "" {
		return empty("Follower index not found")
	}
	info, isFollower := c.node.FollowerStatus(follower)
	switch {
	case !isFollower:
		return empty(fmt.Sprintf("Follower index %s not available", follower))
	case info.Status == "paused":
		return empty(fmt.Sprintf("Follower index %s paused", follower))
	case info.Fatal != "":
		return empty(fmt.Sprintf("Follower index %s fatal exception: %s", follower, info.Fatal))
	}
	doc, found := c.readSyncDoc(follower)
	if !found {
		return empty("No integrations found on " + follower)
	}
	syncUninstalled := slices.ContainsFunc(doc.RemoteESHosts, func(h remoteESHost) bool { return h.SyncUninstalledIntegrations })
	items := make([]any, 0, len(doc.Integrations))
	entries := slices.Clone(doc.Integrations)
	slices.SortStableFunc(entries, func(a, b syncedPackage) int { return strings.Compare(b.UpdatedAt, a.UpdatedAt) })
	for _, e := range entries {
		items = append(items, c.compareSynced(e, syncUninstalled))
	}
	body := map[string]any{"integrations": items}
	if doc.CustomAssets != nil { // a doc without custom_assets gets none (`if (!ccrCustomAssets) return`)
		body["custom_assets"] = c.customAssetsStatus(doc.CustomAssets)
	}
	return ok(body)
}

// compareSynced is one integration of compare_synced_integrations.ts.
func (c *Cluster) compareSynced(e syncedPackage, syncUninstalled bool) map[string]any {
	item := map[string]any{"package_name": e.PackageName, "package_version": e.PackageVersion}
	inst := c.st.Packages[e.PackageName]
	notInstalled := e.InstallStatus == "not_installed"
	switch {
	case syncUninstalled && inst == nil && notInstalled:
		item["sync_status"] = "completed"
		item["install_status"] = map[string]any{"main": "not_installed", "remote": "not_installed"}
		item["updated_at"] = e.UpdatedAt
		return item
	case inst == nil:
		item["sync_status"] = "synchronizing"
		item["install_status"] = map[string]any{"main": e.InstallStatus}
		return item
	}
	item["updated_at"] = inst.UpdatedAt.Format(time.RFC3339Nano)
	item["install_status"] = map[string]any{"main": e.InstallStatus, "remote": inst.Status}
	switch {
	case !notInstalled && inst.Version != e.PackageVersion:
		item["sync_status"] = "failed"
		item["error"] = "Found incorrect installed version " + inst.Version
	case !notInstalled && inst.Status == "install_failed":
		last := failedAttempt{}
		if len(inst.FailedInstall) > 0 {
			last = inst.FailedInstall[0]
		}
		if last.ErrName == "PackageNotFoundError" {
			item["sync_status"] = "warning"
			item["install_status"] = map[string]any{"main": e.InstallStatus, "remote": "not_installed"}
			item["warning"] = map[string]any{"title": "Integration can't be automatically synced",
				"message": "This integration must be manually installed on the remote cluster. Automatic updates and remote installs are not supported."}
		} else {
			item["sync_status"] = "failed"
			item["error"] = fmt.Sprintf("Installation status: install_failed %s at %s", last.ErrMsg, last.CreatedAt.UTC().Format(http.TimeFormat))
		}
	case syncUninstalled && notInstalled && inst.Status == "installed":
		item["sync_status"] = "warning"
		if len(inst.FailedRemove) > 0 {
			last := inst.FailedRemove[0]
			item["warning"] = map[string]any{"title": "Integration was uninstalled, but removal from remote cluster failed.",
				"message": fmt.Sprintf("%s at %s", last.ErrMsg, last.CreatedAt.UTC().Format(http.TimeFormat))}
		}
	case inst.Status == "installed":
		item["sync_status"] = "completed"
	default:
		item["sync_status"] = "synchronizing"
	}
	return item
}

// remoteStatus is GET /api/fleet/remote_synced_integrations/{outputId}/remote_status (5.6).
// It calls the remote Kibana over HTTP, so it takes c.mu only to read the output.
func (c *Cluster) remoteStatus(r *kreq) *kresp {
	id := r.params["outputId"]
	if !c.canEnableSyncIntegrations() {
		return ok(map[string]any{"integrations": []any{}})
	}
	c.mu.Lock()
	o := c.st.outputByID(id)
	var typ, kibanaURL, apiKey string
	var syncOn bool
	if o != nil {
		typ, kibanaURL, apiKey, syncOn = o.typ(), o.str("kibana_url"), o.str("kibana_api_key"), o.flag("sync_integrations")
	}
	c.mu.Unlock()
	switch {
	case o == nil:
		return ok(map[string]any{"integrations": []any{}, "error": "No output found with id " + id})
	case typ != typeRemoteES:
		return badRequest("Output %s is not a remote elasticsearch output", id)
	case !syncOn:
		return badRequest("Synced integrations not enabled")
	case kibanaURL == "":
		return kerr(http.StatusNotFound, "Remote Kibana URL not set on the output.")
	case apiKey == "":
		return kerr(http.StatusNotFound, "Remote Kibana API key for %s not found", kibanaURL)
	}
	url := kibanaURL + "/api/fleet/remote_synced_integrations/status"
	result := map[string]any{"integrations": []any{}}
	req, err := http.NewRequestWithContext(r.http.Context(), http.MethodGet, url, nil)
	if err != nil {
		result["error"] = fmt.Sprintf("GET %s failed with error: %s", url, err)
		return ok(result)
	}
	req.Header.Set("Authorization", "ApiKey "+apiKey)
	req.Header.Set("kbn-xsrf", "true")
	req.Header.Set("Elastic-Api-Version", apiVersion)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.sim.httpClient().Do(req)
	if err != nil {
		result["error"] = fmt.Sprintf("GET %s failed with error: %s", url, err)
		return ok(result)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		result["error"] = fmt.Sprintf("GET %s failed with status %d. %s", url, resp.StatusCode, err)
		return ok(result)
	}
	if ints, ok := body["integrations"].([]any); ok {
		result["integrations"] = ints
	}
	if ca, ok := body["custom_assets"]; ok {
		result["custom_assets"] = ca
	}
	if sc, hasSC := body["statusCode"]; hasSC {
		if msg, hasMsg := body["message"]; hasMsg {
			result["error"] = fmt.Sprintf("GET %s failed with status %v. %v", url, sc, msg)
			return ok(result)
		}
	}
	if e, ok := body["error"]; ok {
		result["error"] = e
	}
	return ok(result)
}

func (s *Sim) httpClient() *http.Client {
	return &http.Client{Timeout: 30 * time.Second}
}
