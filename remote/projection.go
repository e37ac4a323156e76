package remote

import (
	"maps"
	"slices"

	"github.com/fleetform/fleetform/kibana"
	"github.com/fleetform/fleetform/plan"
)

// projectMain is the main cluster's installed packages as the direct-sync
// decision must see them: as observed, or, when mainPlan is given (a plan
// that the main cluster's apply has not run yet), as they will be once that
// apply installed, upgraded or removed its packages. Apply decides the sync
// again after the main cluster's apply, on what is installed then; so that
// its changes are the plan's, the plan decides on the projection. how
// says, per package the main apply changes, what it does.
func (e *Engine) projectMain(observed []kibana.InstalledPackage, mainPlan *plan.Plan) (main []Package, how map[string]string) {
	byName := map[string]Package{}
	for _, p := range observed {
		byName[p.Name] = Package{Name: p.Name, Version: p.Version, Status: p.Status}
	}
	how = map[string]string{}
	if mainPlan != nil {
		for _, ch := range mainPlan.Changes {
			if ch.Cluster != e.cfg.MainCluster || ch.Kind != plan.KindPackage {
				continue
			}
			switch ch.Action {
			case plan.Create, plan.Update:
				v := ""
				for _, f := range ch.Fields {
					if f.Path == "version" {
						v, _ = f.After.(string)
					}
				}
				if v == "" || v == "latest" {
					continue // the version is known only once main installed it; apply syncs it then
				}
				byName[ch.ID] = Package{Name: ch.ID, Version: v, Status: StatusInstalled}
				how[ch.ID] = "this apply installs " + v + " on " + e.cfg.MainCluster + " first"
			case plan.Delete:
				if _, ok := byName[ch.ID]; ok {
					delete(byName, ch.ID)
					how[ch.ID] = "this apply removes it from " + e.cfg.MainCluster + " first"
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		main = append(main, byName[name])
	}
	return main, how
}
