// Package kernelgw is the sidecar's gateway: JSON-RPC 2.0 over HTTP and
// WebSocket for the JupyterLab panel and for calls made from inside the
// kernel, and a client of the Jupyter server's kernels (messaging protocol
// 5.x over WebSocket). It wires notebook → analyzer → pipelinegen → cluster
// for the sidecar, as cmd/datainsight does for the command line.
package kernelgw
