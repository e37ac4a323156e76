package importer

import (
	"context"
	"sort"
)

// exportPackages declares every installed package at its installed version.
// A package whose install is in progress or failed is left out with the
// reason: declaring it would pin a version Fleet does not hold.
func exportPackages(ctx context.Context, f Fleet, b *builder) error {
	pkgs, err := f.ListPackages(ctx)
	if err != nil {
		return err
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	for _, p := range pkgs {
		if p.InstalledVersion == "" || !b.wanted(p.Name) {
			continue
		}
		if p.InstallStatus != "" && p.InstallStatus != "installed" {
			b.skip(p.Name, "install status is "+p.InstallStatus+"; declare it once Fleet has installed it")
			continue
		}
		var e entry
		e.set("name", p.Name)
		e.set("version", p.InstalledVersion)
		b.add(Object{ID: p.Name, Name: p.Name}, e)
	}
	return nil
}
