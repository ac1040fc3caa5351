package rpcapi_test

import (
	"os"
	"testing"

	"github.com/datainsight/datainsight/frontend/internal/rpcapi"
)

// The panel's declarations must be those of the sidecar it talks to: a
// change of a method's Go types fails here until they are generated again.
func TestDeclarationsUpToDate(t *testing.T) {
	want, err := rpcapi.TypeScript()
	if err != nil {
		t.Fatal(err)
	}
	const file = "../../src/rpc/api.gen.ts"
	got, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is not what the sidecar's method list renders: run `go run ./frontend/internal/rpcts > frontend/src/rpc/api.gen.ts` (or `npm run gen:rpc` in frontend)", file)
	}
}
