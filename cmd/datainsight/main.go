// Command datainsight turns annotated Jupyter notebooks into pipelines and
// runs them, locally or on Kubernetes with Argo.
package main

import (
	"os"

	"github.com/datainsight/datainsight/internal/app"
)

func main() { os.Exit(app.Main()) }
