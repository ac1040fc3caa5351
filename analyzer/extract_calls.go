package analyzer

import (
	"slices"
	"strings"

	"github.com/datainsight/datainsight/notebook"
)

// call walks f(args) in Python's order: the callee expression, the
// arguments, then the call's effect. Calling a name is an actCall (the
// graph applies that function's summary); calling a method of a name
// mutates it (x.append(…), df.drop(…)); calling a method of a value
// inside a name (x[k].m(…), x.a.m(…)) mutates the name only when the
// method is known to change its object (see methodUse).
func (w *walker) call(i int32) {
	fn := w.child(i, fFunction)
	args := w.child(i, fArguments)
	var callee, attr string
	root := int32(-1)
	switch {
	case fn < 0:
	case w.kind(fn) == kIdentifier:
		if w.n[fn].start != w.n[fn].stop {
			callee = w.text(fn)
		}
	case w.kind(fn) == kAttribute:
		if a := w.child(fn, fAttribute); a >= 0 {
			attr = w.text(a)
		}
		root = w.chain(fn)
	default:
		w.expr(fn)
		// A call of a value no name holds (rules[k](…), f()(…)) may run
		// any function of the notebook a value holds: see valueCall.
		w.methodCalled(valueCall, i, false)
	}
	w.expr(args)
	w.rngCall(fn)

	switch {
	case callee != "":
		w.callName(i, fn, callee, args)
	case root >= 0:
		// A method of the name itself (x.m(…)) is a change of x, weak
		// unless the method is known to work in place; one of a value
		// inside it (x[k].m(…)) reads x unless the method is known to
		// (methodUse), and is then a change of a value inside x.
		k := w.methodUse(fn, attr, args)
		weak := k == uMutate && !inPlaceMethod(attr) && !w.inplaceTrue(args)
		w.change(root, k, attr, weak)
		w.fileCall(w.text(root), attr, args, -1)
	case attr != "":
		w.fileCall("", attr, args, w.child(fn, fObject))
	}
	if attr != "" && !w.literal(w.child(fn, fObject)) {
		w.methodCalled(attr, i, root >= 0 && w.isModuleName(w.text(root)))
	}
	recv := ""
	if attr != "" {
		recv = w.dottedName(w.child(fn, fObject))
	}
	if p, ok := mutatedArg(callee, recv, attr, w.positionalCount(args)); ok {
		w.mutateRoots(w.argAt(args, p))
	}
	// NumPy ufuncs and many array functions (np.add(a, b, out=a),
	// np.clip(x, 0, 1, out=x), torch.mul(x, 2, out=y)) write their result
	// into out, or into each array of an out tuple.
	w.mutateRoots(w.argAt(args, -1, "out"))
}

// methodUse says what calling method attr through the attribute fn does
// to the name its chain starts from. A method of the name itself (x.m(…))
// may change it (a call can mutate, and copying an unchanged
// value costs less than running on stale data). A method of a value the
// name holds (x[k].m(…), x.a.m(…), x.a[k].m(…)) changes that value, and so
// x, only for an in-place API (inPlaceMethod) or an inplace=True call:
// otherwise it reads x (names[0].split(".") leaves names as it was), so
// that steps doing such calls on a shared value stay independent.
func (w *walker) methodUse(fn int32, attr string, args int32) useKind {
	if w.directMethod(fn) {
		return uMutate
	}
	if inPlaceMethod(attr) || w.inplaceTrue(args) {
		return uMutate
	}
	return uRead
}

// literal reports a literal or display ("".join, [1, 2].index, {}.get):
// no instance of a notebook class.
func (w *walker) literal(i int32) bool {
	i = w.unparen(i)
	if i < 0 {
		return false
	}
	switch w.kind(i) {
	case kString, kConcatString, kInteger, kFloat, kTrue, kFalse, kNone, kList, kTuple, kSet, kDict,
		kListComp, kSetComp, kDictComp, kGenExpr:
		return true
	}
	return false
}

// directMethod reports a method of a name itself (x.m), not of a value
// inside it (x[k].m, x.a.m).
func (w *walker) directMethod(fn int32) bool {
	obj := w.unparen(w.child(fn, fObject))
	return obj >= 0 && w.kind(obj) == kIdentifier
}

// inplaceTrue reports an inplace=True keyword argument (pandas).
func (w *walker) inplaceTrue(args int32) bool {
	v := w.argAt(args, -1, "inplace")
	return v >= 0 && w.kind(v) == kTrue
}

// inPlaceMethod reports a method known to change the object it is called
// on: those of the built-in containers, deques, counters and arrays, the
// fitting and state methods of models and optimisers, setters and adders
// by their names' convention (set_title, set_weights, add_module,
// update_layout: where a library breaks it, as pandas' set_index does,
// the cost is a copy, not stale data), and PyTorch's trailing-underscore
// convention (add_, zero_, requires_grad_).
func inPlaceMethod(m string) bool {
	switch m {
	case "append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", // list, bytearray
		"update", "setdefault", "popitem", // dict
		"add", "discard", "difference_update", "intersection_update", "symmetric_difference_update", // set
		"appendleft", "extendleft", "popleft", "rotate", // deque
		"subtract", "move_to_end", // Counter, OrderedDict
		"fill", "resize", "put", "itemset", "byteswap", "setflags", "setfield", // ndarray
		"fit", "partial_fit", "fit_transform", "fit_predict", "fit_resample", "set_params", "set_output", // scikit-learn, imbalanced-learn
		"load_model", "boost", // XGBoost, LightGBM, CatBoost boosters
		"compile", "build", "fit_generator", "train_on_batch", "load_weights", "set_weights", "reset_states", "reset_metrics", // Keras
		"fit_one_cycle", "fine_tune", "build_vocab", // fastai learners, gensim models
		"load_state_dict", "zero_grad", "step", "backward", "train", "eval", "register_buffer", "register_parameter", "add_module", // PyTorch
		"shuffle", "seed", // random generators change their own state
		"__setitem__", "__delitem__", "__setattr__", "__delattr__", "__iadd__", "__isub__", "__imul__", "__ior__", "__iand__":
		return true
	}
	if strings.HasPrefix(m, "set_") || strings.HasPrefix(m, "add_") || strings.HasPrefix(m, "update_") {
		return true
	}
	n := len(m)
	return n > 1 && m[n-1] == '_' && m[n-2] != '_' && m[0] != '_'
}

// dottedName returns the source of a short chain of plain names (np,
// np.random, np.add), "" for any other expression or a longer chain.
func (w *walker) dottedName(i int32) string {
	var parts []string // last name first
	for len(parts) < 8 {
		i = w.unparen(i)
		if i < 0 {
			return ""
		}
		switch w.kind(i) {
		case kIdentifier:
			parts = append(parts, w.text(i))
			slices.Reverse(parts)
			return strings.Join(parts, ".")
		case kAttribute:
			a := w.child(i, fAttribute)
			if a < 0 {
				return ""
			}
			parts = append(parts, w.text(a))
			i = w.child(i, fObject)
		default:
			return ""
		}
	}
	return ""
}

// positionalCount counts a call's positional arguments; a *args makes
// the count unknown, taken as large.
func (w *walker) positionalCount(args int32) int {
	if args < 0 || w.kind(args) != kArgList {
		return 0
	}
	n := 0
	for c := w.first(args); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kKeywordArg, kDictSplat:
		case kListSplat:
			return 1 << 20
		default:
			n++
		}
	}
	return n
}

// mutateRoots marks as mutated the name expression e's chain starts from,
// or, for a tuple (out=(q, r)), that of each element.
func (w *walker) mutateRoots(e int32) {
	e = w.unparen(e)
	if e < 0 {
		return
	}
	if w.kind(e) == kTuple || w.kind(e) == kList {
		for c := w.first(e); c >= 0; c = w.next(c) {
			if w.isCode(c) {
				if r := w.rootName(w.unparen(c)); r >= 0 {
					w.change(r, uMutate, "", false)
				}
			}
		}
		return
	}
	if r := w.rootName(e); r >= 0 {
		w.change(r, uMutate, "", false)
	}
}

// callInfo is what a module-level call passes, for the graph to match
// with the callee's MutatesParams.
type callInfo struct {
	args    []string
	kwargs  map[string]string
	aliases map[string][]aliasRef // action.ArgAliases
}

// mutatedArg recognises library calls known to change an argument in
// place (an argument is only read unless a known-mutating API
// says so) and returns its position. callee is a bare function's name;
// otherwise recv is the method's receiver when it is a chain of plain
// names (np, np.random, np.add), else "", and method the method's name.
// nargs is the number of positional arguments.
func mutatedArg(callee, recv, method string, nargs int) (int, bool) {
	switch callee {
	case "setattr", "delattr", "shuffle", "heappush", "heappop", "heapify", "heappushpop", "heapreplace",
		"insort", "insort_left", "insort_right",
		"copyto", "putmask", "fill_diagonal", "put_along_axis": // from numpy import …
		return 0, true
	}
	if method == "" {
		return 0, false
	}
	root, _, _ := strings.Cut(recv, ".")
	last := recv[strings.LastIndexByte(recv, '.')+1:]
	switch {
	case method == "shuffle": // random.shuffle, np.random.shuffle, rng.shuffle
		return 0, true
	case method == "at":
		// A ufunc's unbuffered in-place form: np.add.at(a, idx, v),
		// np.negative.at(a, idx), add.at(…) after from numpy import add.
		return 0, recv != "" && nargs >= 2
	case root == "np" || root == "numpy":
		switch method {
		case "copyto", "put", "place", "putmask", "fill_diagonal", "put_along_axis":
			return 0, true
		}
	case root == "torch" || root == "nn" || root == "init":
		// torch.nn.init.xavier_uniform_(w), nn.init.zeros_(b): PyTorch's
		// functions ending in one underscore work in place.
		n := len(method)
		return 0, n > 1 && method[n-1] == '_' && method[n-2] != '_'
	}
	switch recv {
	case "heapq":
		switch method {
		case "heappush", "heappop", "heapify", "heappushpop", "heapreplace":
			return 0, true
		}
	case "bisect":
		switch method {
		case "insort", "insort_left", "insort_right":
			return 0, true
		}
	case "operator":
		switch method {
		case "setitem", "delitem", "iadd", "iconcat", "isub", "imul", "ior", "iand", "ixor":
			return 0, true
		}
	case "object":
		return 0, method == "__setattr__" || method == "__delattr__"
	}
	switch last {
	case "list", "dict", "set", "bytearray", "deque", "Counter", "OrderedDict", "defaultdict", "ndarray", "DataFrame", "Series":
		// An unbound method called with its object: list.append(xs, 1),
		// dict.update(d, e), np.ndarray.fill(a, 0).
		return 0, inPlaceMethod(method)
	}
	return 0, false
}

// rootName returns the identifier an expression's attribute/subscript
// chain starts from (d in d["k"].x), without walking anything; -1 if none.
func (w *walker) rootName(i int32) int32 {
	for i >= 0 {
		switch w.kind(i) {
		case kAttribute:
			i = w.child(i, fObject)
		case kSubscript:
			i = w.child(i, fValue)
		case kParenExpr:
			i = w.unparen(i)
			if w.kind(i) == kParenExpr {
				return -1
			}
		case kIdentifier:
			if w.n[i].start == w.n[i].stop {
				return -1
			}
			return i
		default:
			return -1
		}
	}
	return -1
}

func (w *walker) callName(i, fn int32, callee string, args int32) {
	switch callee {
	case "exec", "eval", "globals":
		if callee != "globals" || !w.hasArgs(args) {
			w.dynamic(i)
		}
	case "locals", "vars":
		// In a function these see its own locals only.
		if !w.hasArgs(args) && w.funcScope() == nil {
			w.dynamic(i)
		}
	}
	var info *callInfo
	if w.funcScope() == nil {
		info = &callInfo{args: w.argNames(args), kwargs: w.kwargNames(args)}
		info.aliases = w.argAliases(info)
	}
	w.use(w.name(fn), uCall, fn, info)
	w.fileCall("", callee, args, -1)
}

// kwargNames maps the keyword arguments passed as plain module-level
// names; nil when there are none.
func (w *walker) kwargNames(args int32) map[string]string {
	if args < 0 || w.kind(args) != kArgList {
		return nil
	}
	var out map[string]string
	for c := w.first(args); c >= 0; c = w.next(c) {
		if !w.isCode(c) || w.kind(c) != kKeywordArg {
			continue
		}
		k, v := w.child(c, fName), w.child(c, fValue)
		if k < 0 || v < 0 || w.kind(v) != kIdentifier || w.n[v].start == w.n[v].stop || !w.isModuleName(w.text(v)) {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[w.name(k)] = w.name(v)
	}
	return out
}

func (w *walker) hasArgs(args int32) bool {
	return args >= 0 && w.firstCode(args) >= 0
}

// argNames lists the positional arguments that are plain names ("" for
// other expressions), up to the first *args, after which positions are
// unknown.
func (w *walker) argNames(args int32) []string {
	if args < 0 {
		return nil
	}
	if w.kind(args) == kGenExpr {
		return []string{""}
	}
	var out []string
	for c := w.first(args); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kKeywordArg, kDictSplat:
		case kListSplat:
			return out
		case kIdentifier:
			if n := w.text(c); n != "" && w.isModuleName(n) {
				out = append(out, w.name(c))
			} else {
				out = append(out, "")
			}
		default:
			out = append(out, "")
		}
	}
	return out
}

// argAt returns the argument at positional index pos, or the value of a
// keyword argument named one of kws; -1 when absent or unknowable.
func (w *walker) argAt(args int32, pos int, kws ...string) int32 {
	if args < 0 || w.kind(args) != kArgList {
		return -1
	}
	p := 0
	found := int32(-1)
	for c := w.first(args); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		switch w.kind(c) {
		case kKeywordArg:
			if n := w.child(c, fName); n >= 0 {
				for _, k := range kws {
					if w.text(n) == k {
						return w.child(c, fValue)
					}
				}
			}
		case kListSplat:
			p = -1 << 30
		case kDictSplat:
		default:
			if p == pos && found < 0 {
				found = c
			}
			p++
		}
	}
	return found
}

// fileAPI says where a known call's path argument is.
type fileAPI struct {
	write bool
	pos   int
	kws   []string
}

var (
	pandasReadKws  = []string{"filepath_or_buffer", "path_or_buf", "path", "io"}
	pandasWriteKws = []string{"path_or_buf", "path", "excel_writer"}
	imageKws       = []string{"fname", "filename", "uri"}
)

// fileAPIFor recognises the calls that read or write a file named by an
// argument (file edges). recv is the name the method is called
// on ("" for a bare function or another receiver).
func fileAPIFor(recv, method string) (fileAPI, bool) {
	switch method {
	case "to_csv", "to_parquet", "to_json", "to_pickle", "to_excel", "to_feather", "to_hdf", "to_stata", "to_orc", "to_xml":
		return fileAPI{true, 0, pandasWriteKws}, true
	case "savefig":
		return fileAPI{true, 0, []string{"fname"}}, true
	case "read_csv", "read_table", "read_fwf", "read_parquet", "read_json", "read_pickle", "read_excel",
		"read_feather", "read_hdf", "read_stata", "read_orc", "read_xml", "read_sas", "read_spss":
		return fileAPI{false, 0, pandasReadKws}, true
	case "imread": // plt, matplotlib.image, cv2, imageio, skimage.io
		return fileAPI{false, 0, imageKws}, true
	case "imsave", "imwrite":
		return fileAPI{true, 0, imageKws}, true
	}
	switch recv {
	case "np", "numpy":
		switch method {
		case "save", "savez", "savez_compressed":
			return fileAPI{true, 0, []string{"file"}}, true
		case "savetxt":
			return fileAPI{true, 0, []string{"fname"}}, true
		case "load":
			return fileAPI{false, 0, []string{"file"}}, true
		case "loadtxt", "genfromtxt":
			return fileAPI{false, 0, []string{"fname"}}, true
		}
	case "joblib":
		switch method {
		case "dump":
			return fileAPI{true, 1, []string{"filename"}}, true
		case "load":
			return fileAPI{false, 0, []string{"filename"}}, true
		}
	case "torch":
		switch method {
		case "save":
			return fileAPI{true, 1, []string{"f"}}, true
		case "load":
			return fileAPI{false, 0, []string{"f"}}, true
		}
	}
	return fileAPI{}, false
}

// fileCall records the file a known call reads or writes. recvCall, when
// not -1, is the receiver expression of a method called on something
// other than a name, such as Path("p").write_text(…).
func (w *walker) fileCall(recv, method string, args, recvCall int32) {
	switch {
	case method == "open" && (recv == "" && recvCall < 0 || recv == "io"):
		w.openCall(args)
		return
	case recvCall >= 0:
		if w.kind(recvCall) != kCall {
			break
		}
		write := method == "write_text" || method == "write_bytes"
		if !write && method != "read_text" && method != "read_bytes" {
			break
		}
		f := w.child(recvCall, fFunction)
		if f < 0 {
			return
		}
		name := w.text(f)
		if w.kind(f) == kAttribute {
			if a := w.child(f, fAttribute); a >= 0 {
				name = w.text(a)
			}
		}
		if name == "Path" || name == "PurePath" {
			w.fileAction(write, w.argAt(w.child(recvCall, fArguments), 0))
		}
		return
	}
	if api, ok := fileAPIFor(recv, method); ok {
		w.fileAction(api.write, w.argAt(args, api.pos, api.kws...))
	}
}

// openCall classifies open(path, mode): a mode with w, a or x writes, a
// plain or missing one reads, "r+" does both; an unknown mode says nothing.
func (w *walker) openCall(args int32) {
	path := w.argAt(args, 0, "file")
	mode := "r"
	if m := w.argAt(args, 1, "mode"); m >= 0 {
		s, ok := w.stringValue(m)
		if !ok {
			return
		}
		mode = s
	}
	if strings.ContainsAny(mode, "wax") {
		w.fileAction(true, path)
		return
	}
	w.fileAction(false, path)
	if strings.Contains(mode, "+") {
		w.fileAction(true, path)
	}
}

// fileAction records a file read or write whose path is node p: a string
// literal gives the path, a name the variable holding it.
func (w *walker) fileAction(write bool, p int32) {
	if p < 0 {
		return
	}
	k, ak := uFileRead, actFileRead
	if write {
		k, ak = uFileWrite, actFileWrite
	}
	if w.kind(p) == kIdentifier {
		if w.n[p].start != w.n[p].stop {
			w.use(w.name(p), k, p, nil)
		}
		return
	}
	s, ok := w.stringValue(p)
	if !ok || s == "" {
		return // no file is called ""
	}
	// In a function or lambda the file is not touched now: it is part of
	// the enclosing definition's summary, in source order.
	if fs := w.funcScope(); fs != nil {
		fs.pending = append(fs.pending, pendingUse{path: s, kind: k})
		return
	}
	for sc := w.scope; sc != nil; sc = sc.parent {
		if sc.kind == scLambda {
			if sc.fb != nil {
				sc.fb.record(pendingUse{path: s, kind: k})
			}
			return
		}
	}
	w.emit(action{Kind: ak, Path: s, Cond: w.cond}, p)
}

var bareLocks = map[string]bool{"Lock": true, "RLock": true, "Semaphore": true, "BoundedSemaphore": true}

var moduleLocks = map[string]bool{
	"Lock": true, "RLock": true, "Semaphore": true, "BoundedSemaphore": true,
	"Condition": true, "Event": true, "Barrier": true,
}

// val is what an expression evaluates to, as far as a binding cares.
type val struct {
	kind valueKind
	str  string   // valString: the literal
	from string   // the name called to make the value, f in f(…)
	more []string // valString: further literals (a for target over a list of them)
	// members: the plain names a list, tuple, set or dict display holds
	// (action.Members).
	members []string
}

// loopValue is what a for target over iterable it takes: for a literal
// list, tuple or set of plain strings (for p in ["a.csv", "b.csv"]), each
// of them in turn, so that a file opened through the target is known.
func (w *walker) loopValue(it int32) val {
	it = w.unparen(it)
	if it < 0 {
		return val{}
	}
	switch w.kind(it) {
	case kList, kTuple, kSet:
	default:
		return val{}
	}
	var strs []string
	for c := w.first(it); c >= 0; c = w.next(c) {
		if !w.isCode(c) {
			continue
		}
		s, ok := w.stringValue(c)
		if !ok {
			return val{}
		}
		strs = append(strs, s)
	}
	if len(strs) == 0 {
		return val{}
	}
	return val{kind: valString, str: strs[0], more: strs[1:]}
}

// valueOf says what kind of value expression v evaluates to, where that
// matters for marshalling, file paths or method calls.
func (w *walker) valueOf(v int32) val {
	v = w.unparen(v)
	if v < 0 {
		return val{}
	}
	switch w.kind(v) {
	case kLambda:
		return val{kind: valLambda}
	case kGenExpr:
		return val{kind: valGenerator}
	case kString, kConcatString:
		if s, ok := w.stringValue(v); ok {
			return val{kind: valString, str: s}
		}
		return val{kind: valImmutable} // an f-string or bytes: still immutable
	case kInteger, kFloat, kTrue, kFalse, kNone, kUnaryOp, kTuple:
		if w.immutableLiteral(v, 0) {
			return val{kind: valImmutable}
		}
		if w.kind(v) == kTuple {
			return val{members: w.displayMembers(v)}
		}
	case kList, kSet, kDict:
		return val{members: w.displayMembers(v)}
	case kCall:
		fn := w.child(v, fFunction)
		if fn < 0 {
			break
		}
		switch w.kind(fn) {
		case kIdentifier:
			name := w.text(fn)
			if name == "" {
				break
			}
			from := ""
			if w.isModuleName(name) {
				from = w.name(fn)
			}
			switch {
			case name == "open":
				return val{kind: valOpenFile, from: from}
			case bareLocks[name]:
				return val{kind: valLock, from: from}
			case w.gens[name]:
				return val{kind: valGenerator, from: from}
			}
			return val{from: from}
		case kAttribute:
			obj, attr := w.child(fn, fObject), w.child(fn, fAttribute)
			if obj >= 0 && attr >= 0 && w.kind(obj) == kIdentifier && moduleLocks[w.text(attr)] {
				switch m := w.text(obj); {
				case bareLocks[w.text(attr)], m == "threading", m == "multiprocessing", m == "mp", m == "asyncio":
					return val{kind: valLock}
				}
			}
		}
	}
	return val{}
}

// immutableLiteral reports a literal of an immutable type: a string,
// bytes, number, bool or None, a signed number, or a tuple of such (not
// too deeply nested to look into).
func (w *walker) immutableLiteral(v int32, depth int) bool {
	v = w.unparen(v)
	if v < 0 || depth > 32 {
		return false
	}
	switch w.kind(v) {
	case kString, kConcatString, kInteger, kFloat, kTrue, kFalse, kNone:
		return true
	case kUnaryOp: // -1, +2.5, ~0
		return w.immutableLiteral(w.child(v, fArgument), depth+1)
	case kTuple:
		for c := w.first(v); c >= 0; c = w.next(c) {
			if w.isCode(c) && !w.immutableLiteral(c, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

// unparen strips parentheses around a single expression.
func (w *walker) unparen(i int32) int32 {
	for i >= 0 && w.kind(i) == kParenExpr {
		c := w.firstCode(i)
		if c < 0 || w.nextCode(c) >= 0 {
			return i
		}
		i = c
	}
	return i
}

// stringValue returns the value of a plain string literal (not an
// f-string or bytes), also implicitly concatenated ones.
func (w *walker) stringValue(i int32) (string, bool) {
	i = w.unparen(i)
	if i < 0 {
		return "", false
	}
	switch w.kind(i) {
	case kConcatString:
		var b strings.Builder
		for c := w.first(i); c >= 0; c = w.next(c) {
			if !w.isCode(c) {
				continue
			}
			if w.kind(c) != kString {
				return "", false
			}
			s, ok := w.stringValue(c)
			if !ok {
				return "", false
			}
			b.WriteString(s)
		}
		return b.String(), true
	case kString:
		var start, end int32 = -1, -1
		for c := w.first(i); c >= 0; c = w.next(c) {
			switch w.kind(c) {
			case kStringStart:
				start = c
			case kStringEnd:
				end = c
			case kInterpolation:
				return "", false
			}
		}
		if start < 0 || end < 0 || w.n[start].stop > w.n[end].start {
			return "", false
		}
		prefix := strings.ToLower(strings.TrimRight(w.text(start), `"'`))
		if strings.ContainsAny(prefix, "fbt") {
			return "", false
		}
		raw := w.src[w.n[start].stop:w.n[end].start]
		if strings.Contains(prefix, "r") {
			return strings.Clone(raw), true
		}
		// A bad \x escape is a syntax error in Python: no known string.
		v, err := notebook.UnescapePython(raw)
		if err != nil {
			return "", false
		}
		return strings.Clone(v), true
	}
	return "", false
}
