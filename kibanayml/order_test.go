package kibanayml

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fleetform/fleetform/schema"
)

func TestOutputOrder(t *testing.T) {
	yes := func() *bool { b := true; return &b }
	data := schema.Output{ID: "data", IsDefault: yes()}
	mon := schema.Output{ID: "mon", IsDefaultMonitoring: yes()}
	both := schema.Output{ID: "both", IsDefault: yes(), IsDefaultMonitoring: yes()}
	other := schema.Output{ID: "other"}
	tests := []struct {
		name      string
		in        []schema.Output
		want      []string
		wantMoved string
	}{
		{"data before monitoring: moved", []schema.Output{other, data, other, mon}, []string{"other", "mon", "data", "other"}, "mon"},
		{"monitoring first: kept", []schema.Output{mon, other, data}, []string{"mon", "other", "data"}, ""},
		{"one output is both", []schema.Output{other, both}, []string{"other", "both"}, ""},
		{"no defaults", []schema.Output{other, other}, []string{"other", "other"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			order, moved := outputOrder(tt.in)
			var got []string
			for _, i := range order {
				got = append(got, tt.in[i].ID)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("order (-want +got):\n%s", d)
			}
			gotMoved := ""
			if moved >= 0 {
				gotMoved = tt.in[moved].ID
			}
			if gotMoved != tt.wantMoved {
				t.Errorf("moved %q, want %q", gotMoved, tt.wantMoved)
			}
		})
	}
}
