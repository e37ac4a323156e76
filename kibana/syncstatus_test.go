package kibana

import (
	"encoding/json"
	"testing"
)

func TestSyncStatus_DecodesBothCustomAssetShapes(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantErr   string
		wantAsset string
		wantCount int
	}{
		{
			name:      "asset map",
			body:      `{"integrations":[],"custom_assets":{"ingest_pipeline:logs-nginx.access@custom":{"type":"ingest_pipeline","name":"logs-nginx.access@custom","package_name":"nginx","package_version":"2.0.0","sync_status":"completed"}}}`,
			wantAsset: "ingest_pipeline:logs-nginx.access@custom",
			wantCount: 1,
		},
		{
			name:    "listing failed",
			body:    `{"integrations":[],"custom_assets":{"error":"security_exception"}}`,
			wantErr: "security_exception",
		},
		{
			name: "absent",
			body: `{"integrations":[{"package_name":"nginx","package_version":"2.0.0","sync_status":"completed","install_status":{"main":"installed"}}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s SyncStatus
			if err := json.Unmarshal([]byte(tt.body), &s); err != nil {
				t.Fatal(err)
			}
			if s.CustomAssetsError != tt.wantErr {
				t.Errorf("CustomAssetsError = %q, want %q", s.CustomAssetsError, tt.wantErr)
			}
			if len(s.CustomAssets) != tt.wantCount {
				t.Errorf("len(CustomAssets) = %d, want %d", len(s.CustomAssets), tt.wantCount)
			}
			if tt.wantAsset != "" && s.CustomAssets[tt.wantAsset].SyncStatus != "completed" {
				t.Errorf("asset %s = %+v", tt.wantAsset, s.CustomAssets[tt.wantAsset])
			}
		})
	}
	var s SyncStatus
	if err := json.Unmarshal([]byte(`{"integrations":[{"package_name":"nginx","sync_status":"failed","install_status":{}}]}`), &s); err != nil || len(s.Integrations) != 1 || s.Integrations[0].SyncStatus != "failed" {
		t.Fatalf("integrations not decoded: %+v, %v", s, err)
	}
}
