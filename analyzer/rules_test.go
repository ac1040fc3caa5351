package analyzer

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// analyzeFixture analyses one flow fixture (and checks it as
// TestFlowFixtures does), for tests of what the `# ins:` notation cannot
// state: metrics, parameter lists, facts.
func analyzeFixture(t *testing.T, name string) *Analysis {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "flow", name))
	if err != nil {
		t.Fatal(err)
	}
	fc := parsePercent(t, string(src))
	an := Analyze(context.Background(), fc.nb, Options{})
	checkFlow(t, fc, an)
	return an
}

func stepByName(an *Analysis, name string) *Step {
	for _, s := range an.Steps {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// A metric naming a parameter or a functions-cell value is reported by the
// last step; one naming a value, by its last writer.
func TestMetricsOfParametersAndSharedNames(t *testing.T) {
	an := analyzeFixture(t, "r05-metric-names-a-parameter.py")
	want := map[string][]string{"compute": {"total"}, "pick": {"best"}, "summary": {"SCALE", "d1"}}
	for _, s := range an.Steps {
		if got := s.Metrics; !reflect.DeepEqual(got, orEmpty(want[s.Name])) {
			t.Errorf("step %s: metrics %v, want %v", s.Name, got, want[s.Name])
		}
	}
}

// A parameter declared twice is one parameter with the later default, in
// the place of its first declaration.
func TestDuplicateParameterKeepsOne(t *testing.T) {
	an := analyzeFixture(t, "r08-parameter-declared-twice.py")
	want := []Parameter{{Name: "LR", Type: "float", Default: "0.01"}, {Name: "EPOCHS", Type: "int", Default: "3"}}
	if !reflect.DeepEqual(an.Parameters, want) {
		t.Errorf("parameters = %+v, want %+v", an.Parameters, want)
	}
}

func orEmpty(xs []string) []string {
	if xs == nil {
		return []string{}
	}
	return xs
}

// factsOf renders the actions of one cell as "LINE:KIND NAME" items, with
// :imm for a binding of an immutable literal.
func factsOf(t *testing.T, src string) []string {
	t.Helper()
	e := newExtractor()
	defer e.close()
	cf := e.extractCell(src, "python")
	var out []string
	for _, a := range cf.Actions {
		s := formatAction(a, false)
		if a.Value == valImmutable {
			s += ":imm"
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

// TestMutationRules pins the extractor's mutation rules: which calls
// change the name they involve.
func TestMutationRules(t *testing.T) {
	cases := []struct {
		src  string
		want []string
	}{
		// A method of the name itself mutates it; one of a value inside
		// it, only when in place.
		{"x.strip()", []string{"mutate x"}},
		{"names[0].split('.')", []string{"read names"}},
		{"cfg.title.upper()", []string{"read cfg"}},
		{"groups['a'].append(1)", []string{"mutate groups"}},
		{"cfg.tags.sort()", []string{"mutate cfg"}},
		{"df['a'].fillna(0, inplace=True)", []string{"mutate df"}},
		{"df['a'].fillna(0, inplace=False)", []string{"read df"}},
		{"m.layers[0].fit(X)", []string{"read X", "mutate m"}},
		{"m.encoder.weight.add_(1)", []string{"mutate m"}},
		{"fig.axes[0].set_title('t')", []string{"mutate fig"}},
		{"df['a'].plot()", []string{"read df"}},
		{"(x).strip()", []string{"mutate x"}},
		// Arguments known to be changed in place. (A method of a module
		// or builtin, np.sort, "mutates" it; the graph ignores that.)
		{"np.add.at(a, [0], 1)", []string{"read a", "read np", "mutate a"}},
		{"add.at(a, [0], 1)", []string{"read a", "mutate add", "mutate a"}},
		{"np.put_along_axis(a, i, 0, axis=1)", []string{"read a", "read i", "mutate np", "mutate a"}},
		{"copyto(d, s)", []string{"read d", "read s", "call copyto(d s)", "mutate d"}},
		{"np.clip(x, 0, 1, out=x)", []string{"read x", "read x", "mutate np", "mutate x"}},
		{"np.divmod(x, 3, out=(q, r))", []string{"read x", "read q", "read r", "mutate np", "mutate q", "mutate r"}},
		{"torch.nn.init.zeros_(w.bias)", []string{"read w", "mutate torch", "mutate w"}},
		{"list.append(xs, 1)", []string{"read xs", "mutate list", "mutate xs"}},
		{"object.__setattr__(o, 'a', 1)", []string{"read o", "mutate object", "mutate o"}},
		{"np.sort(a)", []string{"read a", "mutate np"}},
		{"sched.every(2).at('10:30')", []string{"mutate sched", "method at"}},
		// Augmented assignment is a rebinding mutation.
		{"n += 1", []string{"mutate n"}},
		// A loop target is an element of what the loop walks: a known
		// change of it changes that; another method call reads it.
		{"for c in cs:\n    c.fit(X)", []string{"read cs", "write c?", "read X?", "mutate c?", "mutate cs?"}},
		{"for c in cs:\n    c.score(X)", []string{"read cs", "write c?", "read X?", "mutate c?", "read cs?"}},
		{"for k, v in d.items():\n    v['a'] = 1", []string{"mutate d", "write k?", "write v?", "mutate v?", "mutate d?"}},
		{"for i, (n, m) in enumerate(zip(ns, ms)):\n    m.x += 1", []string{"read ns", "read ms", "call zip(ns ms)", "call enumerate(_)", "write i?", "write n?", "write m?", "mutate m?", "mutate ms?"}},
		{"for df in [a, b]:\n    df['x'] = 1", []string{"read a", "read b", "write df?", "mutate df?", "mutate a?", "mutate b?"}},
		{"for c in cs:\n    c = copy(c)\n    c.fit(X)", []string{"read cs", "write c?", "read c?", "call copy(c)?", "write c<-copy?", "read X?", "mutate c?"}},
		{"for r in rows:\n    clean(r)", []string{"read rows", "write r?", "read r?", "call clean(r)?"}},
		{"[m.fit(X) for m in ms]", []string{"read ms", "read X?", "mutate ms?", "method fit?"}},
		{"for r in df.iterrows():\n    r[1]['a'] = 0", []string{"mutate df", "write r?", "mutate r?"}},
	}
	for _, c := range cases {
		if got := factsOf(t, c.src); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.src, got, c.want)
		}
	}
}

func TestImmutableLiterals(t *testing.T) {
	for src, imm := range map[string]bool{
		"v = 1": true, "v = -2.5": true, "v = True": true, "v = None": true, "v = b'x'": true,
		"v = f'{a}'": true, "v = (1, 'a', (None,))": true, "v = ()": true,
		"v = [1]": false, "v = (1, [2])": false, "v = {}": false, "v = f()": false, "v = -x": false,
	} {
		got := factsOf(t, src)
		last := got[len(got)-1]
		if strings.HasSuffix(last, ":imm") != imm {
			t.Errorf("%s: %q, want immutable=%v", src, got, imm)
		}
	}
}

// TestRegions checks the region tree the graph's covering test relies on:
// a read after a write in the same or a nested region is covered, one in
// a sibling or outer region is not.
func TestRegions(t *testing.T) {
	src := strings.Join([]string{
		"for i in xs:", // 1: write i (loop region)
		"    if i:",    // 2: read i (covered)
		"        y = i",
		"    print(y)", // 4: y in the loop region, written in the if region: not covered
		"else:",
		"    print(i)", // 6: the else clause: not covered
		"print(i)",     // 7: top level: not covered
	}, "\n")
	e := newExtractor()
	defer e.close()
	cf := e.extractCell(src, "python")
	g := &graph{facts: []*cellFacts{cf}}
	var wi, wy *binding
	covered := map[string]bool{}
	for _, a := range cf.Actions {
		switch {
		case a.Kind == actWrite && a.Name == "i":
			wi = &binding{maybe: true, cover: []regionRef{{0, a.Region}}}
		case a.Kind == actWrite && a.Name == "y":
			wy = &binding{maybe: true, cover: []regionRef{{0, a.Region}}}
		case a.Kind == actRead && a.Name == "i" && wi != nil:
			covered["i@"+strconv.Itoa(a.Line)] = g.covered(wi, 0, a.Region)
		case a.Kind == actRead && a.Name == "y" && wy != nil:
			covered["y@"+strconv.Itoa(a.Line)] = g.covered(wy, 0, a.Region)
		}
	}
	want := map[string]bool{"i@2": true, "i@3": true, "y@4": false, "i@6": false, "i@7": false}
	if !reflect.DeepEqual(covered, want) {
		t.Errorf("covered = %v, want %v", covered, want)
	}
}

// TestDisplayMembers pins which bindings name the values they hold: a
// list, tuple, set or dict display's plain names, not a call's.
func TestDisplayMembers(t *testing.T) {
	for src, want := range map[string][]string{
		"c = [a, b]":           {"a", "b"},
		"c = (a, f(b), a)":     {"a"},
		"c = {'k': a, **b}":    {"a"},
		"c = {a, b.x}":         {"a"},
		"c = list((a, b))":     nil,
		"c = [a.copy(), b[0]]": nil,
		"c: list = [a]":        {"a"},
	} {
		e := newExtractor()
		cf := e.extractCell(src, "python")
		e.close()
		var got []string
		for _, a := range cf.Actions {
			if a.Kind == actWrite && a.Name == "c" {
				got = a.Members
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: members %q, want %q", src, got, want)
		}
	}
}

// TestMethodSummaries pins a class's per-method summaries: what each
// does to globals, whether it changes its self, the methods it calls.
func TestMethodSummaries(t *testing.T) {
	src := strings.Join([]string{
		"class W:",
		"    n = 0",
		"    def restock(self, p):",
		"        for it in self.items.values():",
		"            it.stock += p",
		"            W.n += 1",
		"    def top_up(self):",
		"        self.restock(100)",
		"    def total(self):",
		"        return sum(i.stock for i in self.items.values())",
		"    def log(self):",
		"        LOG.append(self.total())",
		"    def rename(self, name):",
		"        self.name = name",
	}, "\n")
	e := newExtractor()
	defer e.close()
	cf := e.extractCell(src, "python")
	w := cf.Funcs["W"]
	if w == nil || len(w.Methods) != 5 {
		t.Fatalf("methods of W: %+v", w)
	}
	type summary struct {
		mutates, methodCalls, selfCalls []string
		mutatesSelf                     bool
	}
	want := map[string]summary{
		"restock": {mutates: []string{"W"}, methodCalls: []string{"values"}, selfCalls: []string{"values"}, mutatesSelf: true},
		"top_up":  {methodCalls: []string{"restock"}, selfCalls: []string{"restock"}},
		"total":   {methodCalls: []string{"values"}, selfCalls: []string{"values"}},
		"log":     {mutates: []string{"LOG"}, methodCalls: []string{"append", "total"}, selfCalls: []string{"total"}},
		"rename":  {mutatesSelf: true},
	}
	for name, ws := range want {
		m := w.Methods[name]
		got := summary{m.Mutates, m.MethodCalls, m.SelfCalls, m.MutatesSelf}
		if !reflect.DeepEqual(got, ws) {
			t.Errorf("%s: %+v, want %+v", name, got, ws)
		}
	}
	if !reflect.DeepEqual(w.Mutates, []string{"LOG", "W"}) {
		t.Errorf("W mutates %q: a class still merges its methods", w.Mutates)
	}
}

// A step defining a function replays the earlier imports its body uses;
// a step only calling it through a value replays none.
func TestFunctionDefinitionReplaysItsImports(t *testing.T) {
	an := analyzeFixture(t, "r15-function-defined-imports-its-modules.py")
	rules, apply := stepByName(an, "rules"), stepByName(an, "apply")
	if rules == nil || apply == nil {
		t.Fatalf("steps %v, want rules and apply", an.Steps)
	}
	if !reflect.DeepEqual(rules.Imports, []string{"import re"}) {
		t.Errorf("rules: imports %q, want [import re]", rules.Imports)
	}
	if len(apply.Imports) != 0 {
		t.Errorf("apply: imports %q, want none", apply.Imports)
	}
}
