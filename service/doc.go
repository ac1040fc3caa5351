// Package service is what the command line and the sidecar both do:
// read the configuration once, analyse and compile a notebook (a saved
// file or an unsaved body), and submit, follow, inspect, cancel, retry,
// resubmit, list and delete its runs on the configured backend. Callers
// render; the package writes nothing to stdout or stderr, logs only to
// the *slog.Logger it is given, and reports conditions callers branch on
// as sentinel or typed errors that name no command-line flag.
package service
