// Package app is the datainsight command line: thin commands over the
// notebook, analyzer, pipelinegen and cluster packages. Products (JSON,
// YAML, tables) go to stdout; progress and diagnostics go to stderr.
package app
