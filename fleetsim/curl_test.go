package fleetsim

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestCurlScript runs testdata/curl_remote_output.sh — a second client that
// shares no code with fleetsim — against a simulated Kibana.
func TestCurlScript_RemoteOutputSecretAndDefaultDelete400(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
	s := StartTest(t, Options{})
	cmd := exec.Command("bash", "testdata/curl_remote_output.sh")
	cmd.Env = append(os.Environ(), "KIBANA="+s.Cluster("main").KibanaURL())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script failed: %v\n%s", err, out)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "OK") {
		t.Errorf("script output:\n%s", out)
	}
	secrets := s.Cluster("main").ES().FleetSecretIDs()
	if len(secrets) != 1 {
		t.Errorf("fleet secrets after the script: %v", secrets)
	}
}
