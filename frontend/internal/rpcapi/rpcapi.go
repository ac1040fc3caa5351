// Package rpcapi renders the sidecar's RPC method list as the TypeScript
// declarations the panel is written against (src/rpc/api.gen.ts).
package rpcapi

import (
	"context"
	"os"

	"github.com/datainsight/datainsight/kernelgw"
	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/service"
)

// TypeScript returns the declarations of the sidecar's methods and
// notifications, as rpc.TypeScript renders the list served at /rpc/methods.
func TypeScript() (string, error) {
	root, err := os.MkdirTemp("", "rpcts-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(root)
	auth, err := rpc.TokenAuth("declarations-only")
	if err != nil {
		return "", err
	}
	sc, err := kernelgw.New(service.New(service.Config{}, service.Options{}), kernelgw.Options{Root: root, Auth: auth})
	if err != nil {
		return "", err
	}
	defer sc.Close(context.Background())
	return rpc.TypeScript(sc.RPC().Methods()), nil
}
