package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

// readFlags say how a command that reads a notebook reads it: no larger
// than maxBytes (the flag, else the environment, else the config file,
// else the default).
type readFlags struct {
	maxBytes int64
}

func (f *readFlags) add(cmd *cobra.Command) {
	cmd.Flags().Int64Var(&f.maxBytes, "max-notebook-bytes", 0,
		fmt.Sprintf("refuse a notebook larger than this many bytes (default $%s, else %d: 256 MiB)", service.EnvMaxNotebookBytes, notebook.DefaultMaxBytes))
}

// config sets what the flag sets, validated.
func (f *readFlags) config(c *service.Config) error {
	if f.maxBytes < 0 {
		return usagef("--max-notebook-bytes %d: must be a positive number of bytes", f.maxBytes)
	}
	c.MaxNotebookBytes = f.maxBytes
	return nil
}
