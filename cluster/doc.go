// Package cluster runs compiled pipelines. It defines the Backend interface
// (submit, get, watch, logs, cancel, retry, resume, list) that both the
// embedded local backend (python3 processes) and the Argo backend
// implement, and the conformance suite they share. It knows nothing of
// notebooks: it runs a compiled Pipeline.
package cluster
