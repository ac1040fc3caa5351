package app

import (
	"errors"
	"fmt"
	"os"

	"github.com/datainsight/datainsight/cluster"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

// openService reads the configuration — the config file, the
// environment, then what the command's flags set (over) — and returns the
// service the command works through.
func openService(over service.Config) (*service.Service, error) {
	cfg, err := service.LoadConfig(os.Getenv, over)
	if err != nil {
		return nil, err
	}
	return service.New(cfg, service.Options{Spawn: spawnRunner}), nil
}

// cliError words the service's errors for the command line: in terms of
// its flags, with hints where the user can act, and with exit code 2 for
// settings that are not valid.
func cliError(err error) error {
	var (
		ce  *service.ConfigError
		cle *service.ClusterError
	)
	switch {
	case errors.As(err, &ce) && ce.Setting == "gpu_tolerations" && ce.Source == "":
		return usagef("--gpu-toleration %q: %v", ce.Value, ce.Err)
	case errors.As(err, &ce):
		return usageError{err}
	case errors.As(err, &cle):
		return fmt.Errorf("--backend argo: %w", cle.Err)
	case errors.Is(err, service.ErrUnknownBackend):
		return usageError{err}
	case errors.Is(err, notebook.ErrTooLarge):
		return fmt.Errorf("%w (raise it with --max-notebook-bytes or %s)", err, service.EnvMaxNotebookBytes)
	}
	return err
}

// notFoundHint adds to a not-found error where runs were looked for.
func notFoundHint(err error) error {
	if errors.Is(err, cluster.ErrNotFound) {
		return fmt.Errorf("%w\n(runs are recorded next to the notebook: use --runs-dir or DATAINSIGHT_RUNS_DIR, or run this from the notebook's folder)", err)
	}
	return err
}
