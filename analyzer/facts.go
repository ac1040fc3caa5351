package analyzer

// This file is the contract between the per-cell extractor (Python source →
// facts, the only code that touches tree-sitter) and the step graph (facts of
// every cell → steps, ins, outs, edges). Facts are plain Go values, immutable
// once built, so the Analyzer can cache them per cell and reuse them after an
// edit elsewhere.

// cellFacts is what one code cell does at module level, in execution order.
type cellFacts struct {
	// Lang is the cell's language as go-enry names it ("Python", "Shell",
	// "SQL", "R", "Text" for %%writefile, ...): the notebook's kernel language
	// unless a %% cell magic says otherwise.
	Lang string
	// CellMagic is the %% magic's name without %% ("bash", "capture", "time"),
	// "" for none; CellMagicArgs the rest of that first line.
	CellMagic     string
	CellMagicArgs string

	Actions  []action              // module-level effects, in source order
	Funcs    map[string]*funcFacts // functions and classes defined at module level (last definition wins)
	Imports  []importStmt          // module-level import statements, in order
	Settings []settingStmt         // top-level statements that may change a process-wide setting, in order
	// RNGCalls are the module-level calls that may draw from a global
	// random generator: Name is the name the dotted callee Method starts
	// from (np in np.random.rand); the graph resolves it (rngUse) after
	// the cell's actions.
	RNGCalls []action
	Problems []problem // syntax errors, shell lines, cell magics, ...

	// Regions is the tree of the cell's conditional regions (see
	// action.Region): Regions[r] is the region r is nested in, -1 for the
	// cell's top level, region 0. Nil when the cell has no conditional code.
	Regions []int32
}

type actionKind uint8

const (
	actRead      actionKind = iota + 1 // Name's value is read
	actWrite                           // Name is bound (assignment, def, class, import, for/with/except/match target, walrus)
	actMutate                          // Name is read and changed in place: x.a = …, x[k] = …, x += …, del x[k], x.m(…)
	actDel                             // del Name: read, then unbound
	actUnbind                          // Name unbound without a read (an `except … as Name` handler ending)
	actCall                            // Name(…) called: a read of Name plus the called function's effects (funcFacts)
	actDynamic                         // star import, globals(), locals(), vars(), exec, eval: any name may be read
	actFileRead                        // a file is read: Path, or the path held by the module-level name Name
	actFileWrite                       // a file is written: Path, or the path held by Name
	actMethod                          // a method named Method is called on a value no name holds (f().m(…)): the graph applies the notebook's methods of that name; Method valueCall: a value no name holds is called
)

// valueKind says what an actWrite binds, where the extractor can tell.
type valueKind uint8

const (
	valOther     valueKind = iota
	valModule              // an import statement's name
	valFunction            // def
	valClass               // class
	valLambda              // name = lambda …
	valOpenFile            // name = open(…) (not in a with)
	valGenerator           // name = (… for …) or a call of a generator function defined in the cell
	valLock                // name = threading.Lock()/RLock()/…
	valString              // name = "string literal" (Str holds it; for file paths)
	valImmutable           // name = another literal of an immutable type: number, bool, None, bytes, f-string, tuple of such
)

type action struct {
	Kind  actionKind
	Value valueKind // actWrite only
	Cond  bool      // may not happen: under if/for/while/try/with/match, or in a loop/comprehension body
	// Soft (actRead) marks a read IPython makes only if the name exists:
	// $name in a shell line or magic is left as is when no variable has
	// that name (it is usually a shell variable, $HOME), so nothing
	// defining it is no error.
	Soft bool
	// Aug (actMutate) marks x += …: the name is read and rebound, not only
	// changed in place, so a parameter or a shared name becomes the
	// step's own value even when its type is immutable.
	Aug bool
	// Region is the innermost conditional region the action is in (0: the
	// cell's top level). A region is one run of code that may not happen
	// (an if branch, a loop's target and body, a try body, a handler, a
	// with body, a case, a comprehension, ...); code in it runs only after
	// the code before it in the same region ran. So a read in region r, or
	// in a region nested in r, that follows a write in r sees that write:
	// the graph needs the value from before the step only for reads no
	// such write covers.
	Region int32

	Name string   // the module-level name; for file actions, the name holding the path ("" when Path is set)
	Path string   // file actions: the literal path as written
	Args []string // actCall: plain names passed as positional arguments, in order ("" for non-names)
	Str  string   // actWrite with valString: the literal's value
	More []string // actWrite with valString: more values, for a for target over a list of literals
	Line int      // 1-based, in the cell's original source
	Col  int      // 1-based, in characters

	// Kwargs (actCall) maps keyword arguments passed as plain module-level
	// names (f(bucket=items) → bucket: items), for matching MutatesParams
	// through funcFacts.Params.
	Kwargs map[string]string
	// From (actWrite) is the name whose call produced the value (x = f(…),
	// inv = Invoice(…)), "" otherwise: a later method call on x runs the
	// methods of that class.
	From string

	// Method is the name of the method called, for the actRead or
	// actMutate of the name a method call's receiver chain starts from
	// (x.m(…), x[k].m(…), and the values a loop target t in t.m(…)
	// walks) and for actMethod: the graph applies what the methods of
	// that name of the notebook's classes do, and a read becomes a
	// mutation when one of them changes its object.
	Method string
	// Members (actWrite) lists the plain names in the list, tuple, set or
	// dict display bound to Name (combine = [train, test]): they and Name
	// form a may-alias group (see graph.group).
	Members []string
	// ArgAliases (actCall) maps an argument that is a loop target (for d
	// in combine: clean(d)) to what it aliases: a call that changes the
	// argument changes those too.
	ArgAliases map[string][]aliasRef
}

// aliasRef is a name a loop target aliases: its elements (Elem), as for
// x in `for t in x`, or the name's value itself, as for a in
// `for t in [a, b]`.
type aliasRef struct {
	Name string
	Elem bool
}

// funcFacts summarises a function or class body for call sites: what a call
// reads, rebinds and mutates among module-level names. Local names, parameters
// and names bound in nested scopes are excluded; builtins are NOT (the graph
// decides, since a notebook may shadow a builtin).
// valueCall is the method name under which a call of a value no name
// holds (rules[k](…), f()(…)) is recorded, as an actMethod in code that
// runs now and in funcFacts.MethodCalls in a body: which function runs
// depends on the value, so it may be any the notebook defines (a function
// kept in a dict by a decorator, passed on in a list), with what that
// function does to module-level names. No Python method has this name.
const valueCall = "()"

type funcFacts struct {
	Name  string
	Class bool     // a class: its methods' facts are merged here (instantiating or using it may run any)
	Reads []string // free names read in the body, nested scopes included; sorted, unique
	Calls []string // free names called in the body (a subset of Reads); sorted, unique
	// Names declared `global` and rebound: Writes when never read in the body
	// (a blind rebind), ReadWrites when also read (hits += 1).
	Writes     []string
	ReadWrites []string
	Mutates    []string // free names changed in place in the body (log.append(…), obj.a = …)
	// MutatesParams holds the indices of positional parameters the body
	// changes in place (def f(d): d["k"] = 1 → [0]), so f(x) mutates x.
	MutatesParams []int
	// Params names the positional parameters, in order (for a class, those
	// of its __init__ after self), so that a parameter passed by keyword
	// (action.Kwargs) can be matched with MutatesParams.
	Params []string
	// Files holds the file reads and writes in the body (actFileRead or
	// actFileWrite with a literal Path, or Name when the path is held by a
	// free module-level name), in source order, without positions.
	Files []action
	// Dynamic is set when the body calls globals(), exec or eval: a call
	// may read or write any module-level name.
	Dynamic bool
	// MethodCalls names the methods the body calls on any value (x.m(…),
	// self.m(…), f().m(…)), sorted, unique: a call may run the notebook's
	// methods of those names.
	MethodCalls []string

	// Methods (a class) holds the summary of each method the class body
	// defines, by name, for method calls on its instances.
	Methods map[string]*funcFacts
	// MutatesSelf (a method) is set when the body changes its first
	// parameter's value in place (self.a = …, self.items[k] = …,
	// self.log.append(…), through a loop over self.items.values(), …).
	MutatesSelf bool
	// SelfCalls (a method) names the methods the body calls on self or a
	// value inside it without a known change (self.refill(…),
	// self.items[k].bump(…)): if one of those changes its object, so does
	// this method.
	SelfCalls []string
}

// importStmt is a module-level import statement, kept so that a later step
// using one of its names can replay it instead of marshalling a module.
type importStmt struct {
	Names []string // names it binds (import a.b → "a"; import a as b → "b"; from m import x as y → "y")
	Star  bool     // from m import *
	Text  string   // the statement's source, normalised to one line
	Line  int
	Cond  bool // under if/try/...
}

// problem is a diagnostic found in one cell, before the cell index is known.
type problem struct {
	Severity string // "error", "warning", "info"
	Code     string // syntax-error, shell-line, cell-magic, ...
	Line     int    // 1-based
	Col      int    // 1-based, characters
	Message  string
}
