// Package frontend holds the JupyterLab sidebar panel and cell-tag editor
// (TypeScript, under this folder) and, once built, embeds their assets so
// the sidecar can serve them.
package frontend
