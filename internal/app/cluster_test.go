package app

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/datainsight/datainsight/internal/kubestack"
)

// TestClusterScripts runs the CLI against a real API server with Argo's
// controller (kwok completing, failing or holding pods by label): the same
// commands, the same output as local runs.
func TestClusterScripts(t *testing.T) {
	stack := kubestack.Start(t)
	ns := stack.Namespace(t)
	stack.RunTaskResults(t, ns)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/cluster",
		Setup: func(env *testscript.Env) error {
			env.Setenv("KUBECONFIG", stack.Kubeconfig)
			env.Setenv("DATAINSIGHT_NAMESPACE", ns)
			env.Setenv("HOLD_LABEL", kubestack.LabelHold)
			env.Setenv("FAIL_LABEL", kubestack.LabelFail)
			// What stands in for the runs' volumes: reader pods' execs run there.
			env.Setenv("VOLUME_DIR", stack.VolumeDir)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits": cmdExits,
		},
		UpdateScripts: os.Getenv("UPDATE_GOLDEN") != "",
	})
}
