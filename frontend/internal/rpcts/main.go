// Command rpcts prints the TypeScript declarations of the sidecar's RPC
// methods and notifications (rpc.TypeScript of the method list that
// `datainsight serve` serves at /rpc/methods), for the panel:
//
//	go run ./frontend/internal/rpcts > frontend/src/rpc/api.gen.ts
//
// The list is built from a sidecar made here, with the same Go types, so
// no server needs to run.
package main

import (
	"fmt"
	"os"

	"github.com/datainsight/datainsight/frontend/internal/rpcapi"
)

func main() {
	ts, err := rpcapi.TypeScript()
	if err != nil {
		fmt.Fprintln(os.Stderr, "rpcts:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(ts)
}
