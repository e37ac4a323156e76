package reconciler

import (
	"os"
	"testing"

	"github.com/fleetform/fleetform/internal/contract"
)

// TestMain records every request this package's tests make fleetform send
// to Kibana and, when the tests pass, checks them all against Kibana's
// OpenAPI contract (internal/contract); a violation fails the run.
func TestMain(m *testing.M) { os.Exit(contract.Main(m)) }
