// Package pipelinegen turns an analyzed notebook into what runs: one Python
// script per step (parameters, the marshalling runtime, shared cells, input
// loading, the step's cells, output saving) and an Argo Workflow built from
// Argo's own Go types. The marshalling runtime is a small Python module
// embedded here and written once per run.
package pipelinegen
