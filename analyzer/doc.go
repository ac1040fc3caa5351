// Package analyzer infers which values flow between the steps of an
// annotated notebook. It parses each code cell's Python with tree-sitter
// into per-cell facts (what the cell reads, binds, mutates, deletes, calls),
// then replays those facts in notebook order to find each step's inputs with
// their producers, its outputs, parameters, edges and diagnostics.
//
// All cgo lives here: nothing outside this package sees a tree-sitter node.
// An Analyzer caches per-cell facts, so re-analysing after one edit reparses
// that cell only.
//
// Where DESIGN §3 is terse, these rules hold (the flow fixtures r01–r08
// show each):
//
//   - Loading. A step loads a name only if the value from before it can be
//     observed: some code of the step reads (or mutates, deletes, calls)
//     the name where no write of it in the step has surely happened, or
//     the step binds the name only conditionally (under if/for/while/try/
//     with/match, in a comprehension, in a call that may not happen) and a
//     later step loads the name from it, or a metric names it: then what
//     the step saves may be that earlier value. A write covers the reads
//     that follow it in the same conditional region or one nested in it
//     (a for target covers its body; a try body covers its else clause;
//     an if branch covers nothing outside it). See loadPrev in graph.go.
//   - Mutation. A method call on a name (x.m(…)) mutates it. A method call
//     on a value inside a name (x[k].m(…), x.a.m(…)) mutates the name only
//     for a known in-place method (list, dict, set and deque methods,
//     fit, zero_grad, set_*/add_* setters, PyTorch's add_, … :
//     inPlaceMethod) or with inplace=True; otherwise it reads it. A value of an immutable type
//     (a str, number, bool or None literal, a tuple of such; a str, int,
//     float, bool or tuple parameter) is only read by method calls and
//     stores; x += … rebinds x whatever its type, a parameter or a name
//     of the imports/functions cells included (with a warning). A call
//     changes an argument only through a known API (mutatedArg: random
//     and NumPy shuffles, a ufunc's .at, np.put/copyto/place/putmask/
//     fill_diagonal/put_along_axis, heapq, bisect, setattr, …) or out=.
//   - Metrics. A metric naming a value is reported by the step that last
//     wrote it; one naming a parameter no step rebinds, or a value of the
//     imports/functions cells, by the pipeline's last step (as Kale does),
//     which then lists the parameter among its params.
//   - Parameters. A name declared twice in the parameters cells is one
//     parameter with the later default (as running the cells gives), with
//     a duplicate-parameter warning: the Workflow has one argument each.
//   - Syntax. What tree-sitter's grammar accepts but CPython 3 refuses
//     (Python 2 print/exec statements, backquotes, <>, ur"…", 0777, 10L,
//     tuple parameters, raise E, v; return/yield outside a function,
//     break/continue outside a loop, a nonlocal or star import in the
//     wrong place) is a syntax-error at its line.
//   - A star import (or exec, eval, globals()) in an imports or functions
//     cell may define any name in every step, so undefined-name is not
//     reported; a names-unchecked info at it says so.
package analyzer
