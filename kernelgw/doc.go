// Package kernelgw is the sidecar's gateway: JSON-RPC 2.0 over HTTP and
// WebSocket for the JupyterLab panel and for calls made from inside the
// kernel, and a client of the Jupyter server's kernels (messaging protocol
// 5.x over WebSocket). Sidecar serves the service layer (package service,
// which the command line uses too) as JSON-RPC methods over package rpc,
// and pushes runs' progress to the clients that subscribed to it.
package kernelgw
