package analyzer

// The only cgo in the project. Walking a tree through go-tree-sitter's Go
// API costs several cgo calls and a map insertion per node, more than the
// parse itself; here one C call parses a cell and copies every node into a
// flat Go array (symbol, field, flags, links, byte range), and the analysis
// then runs on Go memory only. The tree-sitter runtime and the Python
// grammar are the ones github.com/smacker/go-tree-sitter compiles in (go.mod
// pins the version); this file declares the few functions of its C API
// (tree_sitter/api.h, ABI 14) it calls, since that header is not on our
// include path. TestFlatTreeMatchesBinding checks the declarations against
// the Go binding's own view of the same trees.

/*
#include <stdint.h>
#include <stdbool.h>

typedef struct TSParser TSParser;
typedef struct TSTree TSTree;
typedef struct TSLanguage TSLanguage;
typedef struct { uint32_t context[4]; const void *id; const TSTree *tree; } TSNode;
typedef struct { const void *tree; const void *id; uint32_t context[3]; } TSTreeCursor;

extern const TSLanguage *tree_sitter_python(void);
extern TSParser *ts_parser_new(void);
extern void ts_parser_delete(TSParser *self);
extern bool ts_parser_set_language(TSParser *self, const TSLanguage *language);
extern void ts_parser_set_timeout_micros(TSParser *self, uint64_t timeout_micros);
extern void ts_parser_reset(TSParser *self);
extern TSTree *ts_parser_parse_string(TSParser *self, const TSTree *old_tree, const char *string, uint32_t length);
extern void ts_tree_delete(TSTree *self);
extern TSNode ts_tree_root_node(const TSTree *self);
extern TSTreeCursor ts_tree_cursor_new(TSNode node);
extern void ts_tree_cursor_delete(TSTreeCursor *self);
extern TSNode ts_tree_cursor_current_node(const TSTreeCursor *self);
extern uint16_t ts_tree_cursor_current_field_id(const TSTreeCursor *self);
extern bool ts_tree_cursor_goto_first_child(TSTreeCursor *self);
extern bool ts_tree_cursor_goto_next_sibling(TSTreeCursor *self);
extern bool ts_tree_cursor_goto_parent(TSTreeCursor *self);
extern uint16_t ts_node_symbol(TSNode self);
extern uint32_t ts_node_start_byte(TSNode self);
extern uint32_t ts_node_end_byte(TSNode self);
extern bool ts_node_is_missing(TSNode self);
extern bool ts_node_is_extra(TSNode self);
extern uint32_t ts_language_symbol_count(const TSLanguage *self);
extern const char *ts_language_symbol_name(const TSLanguage *self, uint16_t symbol);
extern int ts_language_symbol_type(const TSLanguage *self, uint16_t symbol);
extern uint32_t ts_language_field_count(const TSLanguage *self);
extern const char *ts_language_field_name_for_id(const TSLanguage *self, uint16_t id);

// di_node mirrors tnode in Go, field for field.
typedef struct {
	uint16_t sym;
	uint16_t field;
	uint16_t flags;
	uint16_t pad_;
	int32_t parent;
	int32_t next;
	int32_t end;
	uint32_t start;
	uint32_t stop;
} di_node;

enum { DI_MISSING = 1, DI_EXTRA = 2 };

static TSParser *di_parser_new(void) {
	TSParser *p = ts_parser_new();
	if (p && !ts_parser_set_language(p, tree_sitter_python())) {
		ts_parser_delete(p);
		return 0;
	}
	return p;
}

static TSTree *di_parse(TSParser *p, const char *src, uint32_t len, uint64_t timeout_micros) {
	if (len == 0) src = "";
	ts_parser_set_timeout_micros(p, timeout_micros);
	TSTree *t = ts_parser_parse_string(p, 0, src, len);
	if (!t) ts_parser_reset(p); // a timed-out parse would otherwise resume
	return t;
}

// di_walk copies the tree in preorder into out (up to cap nodes) and returns
// the number of nodes, so that a caller with too small a buffer can grow it
// and walk again without reparsing.
static int64_t di_walk(const TSTree *tree, di_node *out, int64_t cap) {
	TSTreeCursor c = ts_tree_cursor_new(ts_tree_root_node(tree));
	int64_t k = 0, cur = -1, parent = -1;
	for (;;) {
		if (k < cap) {
			TSNode n = ts_tree_cursor_current_node(&c);
			di_node *o = &out[k];
			o->sym = ts_node_symbol(n);
			o->field = ts_tree_cursor_current_field_id(&c);
			o->flags = (ts_node_is_missing(n) ? DI_MISSING : 0) | (ts_node_is_extra(n) ? DI_EXTRA : 0);
			o->pad_ = 0;
			o->parent = (int32_t)parent;
			o->next = -1;
			o->end = (int32_t)(k + 1);
			o->start = ts_node_start_byte(n);
			o->stop = ts_node_end_byte(n);
		}
		cur = k++;
		if (ts_tree_cursor_goto_first_child(&c)) {
			parent = cur;
			continue;
		}
		for (;;) {
			if (cur >= 0 && cur < cap) out[cur].end = (int32_t)k;
			if (ts_tree_cursor_goto_next_sibling(&c)) {
				if (cur >= 0 && cur < cap) out[cur].next = (int32_t)k;
				break;
			}
			if (!ts_tree_cursor_goto_parent(&c)) goto done;
			cur = parent;
			parent = (cur >= 0 && cur < cap) ? out[cur].parent : -1;
		}
	}
done:
	ts_tree_cursor_delete(&c);
	return k;
}
*/
import "C"

import (
	"math"
	"sync"
	"time"
	"unsafe"

	// The tree-sitter runtime (package sitter) and the Python grammar are
	// linked from here; the declarations above resolve against them.
	_ "github.com/smacker/go-tree-sitter/python"
)

// tnode is one syntax node, copied out of tree-sitter. Children of node i
// start at i+1 (when nodes[i+1].parent == i) and follow the next links;
// the subtree of i is nodes[i:end].
type tnode struct {
	sym    uint16
	field  uint16
	flags  uint16
	_      uint16
	parent int32
	next   int32
	end    int32
	start  uint32 // byte offsets in the parsed source
	stop   uint32
}

// Compile-time check that tnode and di_node have the same size.
const (
	_ = uint(C.sizeof_di_node - unsafe.Sizeof(tnode{}))
	_ = uint(unsafe.Sizeof(tnode{}) - C.sizeof_di_node)
)

const (
	flagMissing = C.DI_MISSING
	flagExtra   = C.DI_EXTRA
	symError    = math.MaxUint16 // tree-sitter's ts_builtin_sym_error
)

// parseTimeout bounds one cell's parse, so that no input can stall an
// analysis; real cells parse in well under a millisecond per kilobyte.
const parseTimeout = 10 * time.Second

// tsParser owns one C parser: not safe for concurrent use.
type tsParser struct {
	p *C.TSParser
}

func newTSParser() *tsParser {
	return &tsParser{p: C.di_parser_new()}
}

func (p *tsParser) close() {
	if p.p != nil {
		C.ts_parser_delete(p.p)
		p.p = nil
	}
}

// parse parses src and returns its nodes in buf (grown as needed); ok is
// false when tree-sitter returned no tree.
func (p *tsParser) parse(src string, buf []tnode) (nodes []tnode, ok bool) {
	if p.p == nil || int64(len(src)) > math.MaxUint32 {
		return buf[:0], false
	}
	tree := C.di_parse(p.p, (*C.char)(unsafe.Pointer(unsafe.StringData(src))), C.uint32_t(len(src)), C.uint64_t(parseTimeout.Microseconds()))
	if tree == nil {
		return buf[:0], false
	}
	defer C.ts_tree_delete(tree)
	for {
		var ptr *C.di_node
		if cap(buf) > 0 {
			ptr = (*C.di_node)(unsafe.Pointer(unsafe.SliceData(buf[:cap(buf)])))
		}
		n := int64(C.di_walk(tree, ptr, C.int64_t(cap(buf))))
		if n > math.MaxInt32 {
			return buf[:0], false
		}
		if n <= int64(cap(buf)) {
			return buf[:n], true
		}
		buf = make([]tnode, n, n+n/4)
	}
}

// symbolTable maps the grammar's symbol and field ids to the kinds the
// walker switches on; built once per process and read-only afterwards.
type symbolTable struct {
	kinds      []nodeKind
	named      []bool
	names      []string
	fields     []fieldKind
	fieldNames []string
}

var symbols = sync.OnceValue(func() *symbolTable {
	lang := C.tree_sitter_python()
	n := int(C.ts_language_symbol_count(lang))
	t := &symbolTable{kinds: make([]nodeKind, n), named: make([]bool, n), names: make([]string, n)}
	for i := 0; i < n; i++ {
		name := C.GoString(C.ts_language_symbol_name(lang, C.uint16_t(i)))
		named := C.ts_language_symbol_type(lang, C.uint16_t(i)) == 0 // TSSymbolTypeRegular
		t.names[i] = name
		t.named[i] = named
		if named {
			t.kinds[i] = namedKinds[name]
		} else {
			t.kinds[i] = anonKinds[name]
		}
	}
	nf := int(C.ts_language_field_count(lang))
	t.fields = make([]fieldKind, nf+1)
	t.fieldNames = make([]string, nf+1)
	for i := 1; i <= nf; i++ {
		t.fieldNames[i] = C.GoString(C.ts_language_field_name_for_id(lang, C.uint16_t(i)))
		t.fields[i] = fieldKinds[t.fieldNames[i]]
	}
	return t
})

func (t *symbolTable) kind(sym uint16) nodeKind {
	if int(sym) < len(t.kinds) {
		return t.kinds[sym]
	}
	if sym == symError {
		return kError
	}
	return kOther
}

func (t *symbolTable) isNamed(sym uint16) bool {
	return int(sym) < len(t.named) && t.named[sym]
}

func (t *symbolTable) name(sym uint16) string {
	if int(sym) < len(t.names) {
		return t.names[sym]
	}
	if sym == symError {
		return "ERROR"
	}
	return "?"
}

func (t *symbolTable) field(f uint16) fieldKind {
	if int(f) < len(t.fields) {
		return t.fields[f]
	}
	return fNone
}

type nodeKind uint8

const (
	kOther nodeKind = iota
	kError
	kComment
	kModule
	kBlock
	kExprStmt
	kAssign
	kAugAssign
	kNamedExpr
	kImport
	kImportFrom
	kFutureImport
	kAliasedImport
	kDottedName
	kRelativeImport
	kImportPrefix
	kWildcardImport
	kExecStmt
	kDelete
	kIf
	kElif
	kElse
	kMatch
	kCase
	kCasePattern
	kFor
	kWhile
	kTry
	kExcept
	kExceptGroup
	kFinally
	kWith
	kWithItem
	kFuncDef
	kDecorated
	kDecorator
	kClassDef
	kGlobal
	kNonlocal
	kTypeAlias
	kParameters
	kLambdaParams
	kDefaultParam
	kTypedParam
	kTypedDefaultParam
	kListSplatPattern
	kDictSplatPattern
	kKeywordSeparator
	kIdentifier
	kAttribute
	kSubscript
	kCall
	kArgList
	kKeywordArg
	kListSplat
	kDictSplat
	kLambda
	kListComp
	kDictComp
	kSetComp
	kGenExpr
	kForIn
	kIfClause
	kString
	kConcatString
	kStringStart
	kStringContent
	kStringEnd
	kEscapeSeq
	kInterpolation
	kPatternList
	kTuplePattern
	kListPattern
	kTuple
	kList
	kParenExpr
	kExprList
	kAsPattern
	kAsPatternTarget
	kKeywordPattern
	kClassPattern
	kSplatPattern
	kDictPattern
	kYield
	kConditionalExpr
	kBooleanOp
	kType
	kTypeParameter
	kPair
	kPass
	kSet
	kInteger
	kFloat
	kTrue
	kFalse
	kNone
	kUnaryOp
	kPrintStmt
	kReturn
	kRaise
	kBreak
	kContinue
	kLtGt // the anonymous `<>` operator token (Python 2's !=)
	kDict
)

var namedKinds = map[string]nodeKind{
	"comment":                  kComment,
	"module":                   kModule,
	"block":                    kBlock,
	"expression_statement":     kExprStmt,
	"assignment":               kAssign,
	"augmented_assignment":     kAugAssign,
	"named_expression":         kNamedExpr,
	"import_statement":         kImport,
	"import_from_statement":    kImportFrom,
	"future_import_statement":  kFutureImport,
	"aliased_import":           kAliasedImport,
	"dotted_name":              kDottedName,
	"relative_import":          kRelativeImport,
	"import_prefix":            kImportPrefix,
	"wildcard_import":          kWildcardImport,
	"exec_statement":           kExecStmt,
	"delete_statement":         kDelete,
	"if_statement":             kIf,
	"elif_clause":              kElif,
	"else_clause":              kElse,
	"match_statement":          kMatch,
	"case_clause":              kCase,
	"case_pattern":             kCasePattern,
	"for_statement":            kFor,
	"while_statement":          kWhile,
	"try_statement":            kTry,
	"except_clause":            kExcept,
	"except_group_clause":      kExceptGroup,
	"finally_clause":           kFinally,
	"with_statement":           kWith,
	"with_item":                kWithItem,
	"function_definition":      kFuncDef,
	"decorated_definition":     kDecorated,
	"decorator":                kDecorator,
	"class_definition":         kClassDef,
	"global_statement":         kGlobal,
	"nonlocal_statement":       kNonlocal,
	"type_alias_statement":     kTypeAlias,
	"parameters":               kParameters,
	"lambda_parameters":        kLambdaParams,
	"default_parameter":        kDefaultParam,
	"typed_parameter":          kTypedParam,
	"typed_default_parameter":  kTypedDefaultParam,
	"list_splat_pattern":       kListSplatPattern,
	"dictionary_splat_pattern": kDictSplatPattern,
	"keyword_separator":        kKeywordSeparator,
	"identifier":               kIdentifier,
	"attribute":                kAttribute,
	"subscript":                kSubscript,
	"call":                     kCall,
	"argument_list":            kArgList,
	"keyword_argument":         kKeywordArg,
	"list_splat":               kListSplat,
	"dictionary_splat":         kDictSplat,
	"lambda":                   kLambda,
	"list_comprehension":       kListComp,
	"dictionary_comprehension": kDictComp,
	"set_comprehension":        kSetComp,
	"generator_expression":     kGenExpr,
	"for_in_clause":            kForIn,
	"if_clause":                kIfClause,
	"string":                   kString,
	"concatenated_string":      kConcatString,
	"string_start":             kStringStart,
	"string_content":           kStringContent,
	"string_end":               kStringEnd,
	"escape_sequence":          kEscapeSeq,
	"interpolation":            kInterpolation,
	"pattern_list":             kPatternList,
	"tuple_pattern":            kTuplePattern,
	"list_pattern":             kListPattern,
	"tuple":                    kTuple,
	"list":                     kList,
	"parenthesized_expression": kParenExpr,
	"expression_list":          kExprList,
	"as_pattern":               kAsPattern,
	"as_pattern_target":        kAsPatternTarget,
	"keyword_pattern":          kKeywordPattern,
	"class_pattern":            kClassPattern,
	"splat_pattern":            kSplatPattern,
	"dict_pattern":             kDictPattern,
	"yield":                    kYield,
	"conditional_expression":   kConditionalExpr,
	"boolean_operator":         kBooleanOp,
	"type":                     kType,
	"type_parameter":           kTypeParameter,
	"pair":                     kPair,
	"pass_statement":           kPass,
	"set":                      kSet,
	"dictionary":               kDict,
	"integer":                  kInteger,
	"float":                    kFloat,
	"true":                     kTrue,
	"false":                    kFalse,
	"none":                     kNone,
	"unary_operator":           kUnaryOp,
	"print_statement":          kPrintStmt,
	"return_statement":         kReturn,
	"raise_statement":          kRaise,
	"break_statement":          kBreak,
	"continue_statement":       kContinue,
}

// anonKinds are the anonymous tokens the walker needs to tell apart.
var anonKinds = map[string]nodeKind{
	"<>": kLtGt,
}

type fieldKind uint8

const (
	fNone fieldKind = iota
	fAlias
	fAlternative
	fArgument
	fArguments
	fAttribute
	fBody
	fCondition
	fConsequence
	fDefinition
	fExpression
	fFunction
	fGuard
	fKey
	fLeft
	fModuleName
	fName
	fObject
	fParameters
	fReturnType
	fRight
	fSubject
	fSubscript
	fSuperclasses
	fType
	fTypeParameters
	fValue
)

var fieldKinds = map[string]fieldKind{
	"alias":           fAlias,
	"alternative":     fAlternative,
	"argument":        fArgument,
	"arguments":       fArguments,
	"attribute":       fAttribute,
	"body":            fBody,
	"condition":       fCondition,
	"consequence":     fConsequence,
	"definition":      fDefinition,
	"expression":      fExpression,
	"function":        fFunction,
	"guard":           fGuard,
	"key":             fKey,
	"left":            fLeft,
	"module_name":     fModuleName,
	"name":            fName,
	"object":          fObject,
	"parameters":      fParameters,
	"return_type":     fReturnType,
	"right":           fRight,
	"subject":         fSubject,
	"subscript":       fSubscript,
	"superclasses":    fSuperclasses,
	"type":            fType,
	"type_parameters": fTypeParameters,
	"value":           fValue,
}
