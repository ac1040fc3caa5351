// Package analyzer infers which values flow between the steps of an
// annotated notebook. It parses each code cell's Python with tree-sitter
// into per-cell facts (what the cell reads, binds, mutates, deletes, calls),
// then replays those facts in notebook order to find each step's inputs with
// their producers, its outputs, parameters, edges and diagnostics.
//
// All cgo lives here: nothing outside this package sees a tree-sitter node.
// An Analyzer caches per-cell facts, so re-analysing after one edit reparses
// that cell only.
package analyzer
