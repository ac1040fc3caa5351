package analyzer

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDump(t *testing.T) {
	src := os.Getenv("DUMP")
	if src == "" {
		t.Skip()
	}
	b, _ := os.ReadFile(src)
	e := newExtractor()
	defer e.close()
	cf := e.extractCell(string(b), "python")
	fmt.Printf("lang=%s magic=%s args=%q\n", cf.Lang, cf.CellMagic, cf.CellMagicArgs)
	kinds := map[actionKind]string{actRead: "read", actWrite: "write", actMutate: "mutate", actDel: "del", actUnbind: "unbind", actCall: "call", actDynamic: "dynamic", actFileRead: "fileread", actFileWrite: "filewrite"}
	for _, a := range cf.Actions {
		fmt.Printf("  %d:%d %s %s path=%q args=%q cond=%v val=%d str=%q\n", a.Line, a.Col, kinds[a.Kind], a.Name, a.Path, a.Args, a.Cond, a.Value, a.Str)
	}
	for n, f := range cf.Funcs {
		fmt.Printf("  func %s %+v\n", n, *f)
	}
	for _, i := range cf.Imports {
		fmt.Printf("  import %+v\n", i)
	}
	for _, p := range cf.Problems {
		fmt.Printf("  problem %+v\n", p)
	}
}
