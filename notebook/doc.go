// Package notebook reads and writes Jupyter notebooks (nbformat v4) without
// losing a byte, and parses Datainsight's annotation language — cell tags and
// the notebook-level "datainsight" (or Kale "kubeflow_notebook") metadata —
// into a typed Pipeline spec.
//
// It knows nothing of Python semantics: which values flow between steps is
// the analyzer's job. Problems in the annotations are reported as positioned
// Diagnostics, all at once, never as a panic.
package notebook
