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
// The rules that decide what flows, beyond a read taking the last write (the
// flow fixtures r01–r16 show each):
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
//     the fitting methods of scikit-learn, XGBoost/LightGBM, Keras,
//     PyTorch, fastai and gensim (fit, partial_fit, fit_transform,
//     fit_resample, train_on_batch, load_model, load_state_dict, …),
//     zero_grad, set_*/add_* setters, PyTorch's add_, … :
//     inPlaceMethod) or with inplace=True; otherwise it reads it. A
//     value of an immutable type (a str, number, bool or None literal, a
//     tuple of such; a str, int, float, bool or tuple parameter) is only
//     read by method calls and stores; x += … rebinds x whatever its
//     type, a parameter or a name of the imports/functions cells
//     included (with a warning). A call changes an argument only through
//     a known API (mutatedArg: random and NumPy shuffles, a ufunc's .at,
//     np.put/copyto/place/putmask/fill_diagonal/put_along_axis, heapq,
//     bisect, setattr, …), out=, or a notebook function that changes
//     its parameter.
//   - Loop targets (r10). A for target (or a comprehension's) walking the
//     elements of x is each element in turn, not a copy: x itself, or
//     the name an attribute/subscript chain x starts from, for t in x;
//     the second part of k, t in x.items(); t in x.values(); the second
//     part of i, t in enumerate(x); each part of a, b in zip(x, y); t in
//     reversed(x). Until the target is rebound in the loop's body, a
//     known change of it (a known in-place method, t[k] = …, t.a = …,
//     t.a += …, del t[k], a known-mutating API, or a notebook function
//     that changes its argument t) changes x, and a method call t.m(…)
//     not known to change t is a read of x by method m (see Methods).
//     For t in [a, b] the target is a, then b: what it does, they do.
//     Other iterables (range(n), df.iterrows(), a call) make new values:
//     no alias. t += … rebinds t, as for numbers: it changes nothing t
//     walks.
//   - Alias groups (r11). A name bound to a list, tuple, set or dict
//     display whose elements (dict values) include plain names
//     (combine = [train, test], d = {"a": a}) holds those very values:
//     it and those names form a may-alias group. A step that changes a
//     name of a group (in place, by a method call, or through a loop
//     target walking the container) changes every name of the group,
//     immutable values aside: it loads each from the step that
//     last touched the group and saves each, so that a later step loads
//     the whole group from one step, whose save keeps the values that
//     share objects together. Making a group touches its own members
//     the same way without changing them: a step only reading a member
//     loads it from the step that last changed it, so sibling steps
//     grouping the same value stay parallel (r16). A name leaves its group when it is rebound (train =
//     train[cols]: combine still holds the old frame); a rebinding that
//     may not happen keeps it in (see spread in graph.go). Only displays
//     count: a call such as list(…), tuple(…) or dict(…), or a display
//     of other expressions ([a.copy(), b[0]]), makes no group. Groups
//     that share a name merge; parameters and names of the imports/
//     functions cells, which each step has of its own, join none.
//   - Methods (r12). A call x.m(…) (also x[k].m(…), f().m(…), in a step
//     or in a function it calls) may run the method m of any class the
//     notebook defines at module level and has bound at that point, so
//     it does what each such method does to module-level names, as a
//     call of a notebook function that may not happen (a class
//     attribute it changes, Warehouse.restocks += 1; a global list it
//     appends to; the functions and methods it calls). A method changes
//     its object when it changes self in place (self.a = …,
//     self.items[k] = …, self.log.append(…), a store through a loop over
//     self's items) or calls such a method on self: then x[k].m(…), or
//     t.m(…) for a loop target t walking x, changes x. A call of a
//     module's function (np.save) is none of these; instantiating a
//     class still may run any of its methods.
//   - Value calls (r18). A call of a value no name holds (rules[k](…),
//     handlers[i](…), f()(…), in a step or in a function it calls) may run
//     any function the notebook has bound at that point (a decorator may
//     have kept it in a dict, a list may hold it): it does what each does
//     to module-level names, as a call that may not happen, so the step
//     loads the globals they read (a helper one of them calls). Their
//     reads of modules are left out: the runtime gives a step the module
//     bindings of the steps it loads from (r15). See visitValueFuncs.
//   - Global random state (r13). A call of a function of a global random
//     generator reads and changes that generator's state, a pseudo-value
//     with a reserved name: __rng_numpy__ for numpy.random's module-level
//     functions (seed, rand, randint, choice, shuffle, normal, …; not the
//     constructors default_rng, RandomState, Generator), __rng_random__
//     for the random module's (seed, random, shuffle, sample, gauss, …;
//     not random.Random), __rng_torch__ for torch's (manual_seed, rand,
//     randn, randint, randperm, normal, bernoulli, multinomial, …). The
//     callee's first name is resolved through the import that bound it
//     (import numpy as np, from numpy import random as npr, from random
//     import shuffle): a name bound otherwise draws from no global
//     generator. So the steps drawing from one generator load the state
//     the one before left, in notebook order, and other steps stay
//     parallel; the first starts from a fresh process's state. The
//     runtime saves such a value from the generator's state and loads it
//     by setting the state, binding no name. Calls inside notebook
//     functions are not followed. See session.go.
//   - Session settings (r14). A top-level statement of a step that only
//     changes a process-wide setting (pd.set_option, pd.options.… = …,
//     np.set_printoptions, torch.set_printoptions,
//     warnings.filterwarnings/simplefilter, plt.style.use,
//     plt.rcParams[…] = … and .update(…), matplotlib's, sns.set,
//     set_theme, set_style, set_context, set_palette), whose arguments are
//     literals or names bound by imports, parameters or the shared cells,
//     is replayed at the start of every later step, in notebook order,
//     after the imports it needs: it is listed in Step.Imports with them,
//     as the import statements of earlier steps are. One reading a value
//     a step computed is not replayed.
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
