package notebook

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Diagnostic codes of the annotation language.
const (
	CodeUnknownTag       = "unknown-tag"
	CodeBadTag           = "bad-tag"
	CodeBadStepName      = "bad-step-name"
	CodePrevUnknownStep  = "prev-unknown-step"
	CodeDuplicateStepTag = "duplicate-step-tag"
	CodeBadParameter     = "bad-parameter"
	CodeBadMetric        = "bad-metric"
	CodeUntaggedPrologue = "untagged-prologue"
)

// stepNameRE is Kale's rule for step names.
var stepNameRE = regexp.MustCompile(`^[_a-z][_a-z0-9]*$`)

// ValidStepName reports whether name is a valid step name.
func ValidStepName(name string) bool { return stepNameRE.MatchString(name) }

// role is what a cell is for, from its tags.
type role int

const (
	roleNone role = iota
	roleStep
	roleImports
	roleFunctions
	roleParameters
	roleMetrics
	roleSkip
)

var roleTags = map[string]role{
	"imports":             roleImports,
	"functions":           roleFunctions,
	"pipeline-parameters": roleParameters,
	"pipeline-metrics":    roleMetrics,
	"skip":                roleSkip,
}

// knownPrefixes are the tags that take a value after a colon; used both to
// parse and to suggest a fix for a typo.
var knownPrefixes = []string{"block", "step", "prev", "annotation", "label", "limit", "request",
	"image", "env", "secret", "node", "toleration", "retry", "timeout", "cache"}

// cellTags is one code cell's tags, classified.
type cellTags struct {
	role     role
	stepName string // for roleStep; "" continues the previous step
	prev     []string
	settings []string // setting tags, validated later against StepSettings
}

// ParsePipeline reads the annotations of nb. It never stops at the first
// problem: every bad tag is reported, and the Pipeline is what the notebook
// says with the offending tags ignored (so a live view can show both).
func ParsePipeline(nb *Notebook) (*Pipeline, []Diagnostic) {
	p := &Pipeline{}
	var diags []Diagnostic
	settings, sdiags := parseSettings(nb.Metadata)
	p.Settings = settings
	diags = append(diags, sdiags...)

	var defaults StepSettings
	for _, t := range settings.StepDefaults {
		if err := applySetting(&defaults, t); err != nil {
			diags = append(diags, Diagnostic{Severity: Error, Code: CodeBadTag, Message: fmt.Sprintf("metadata step_defaults: tag %q: %v", t, err)})
		}
	}

	tags := make([]cellTags, len(nb.Cells))
	anyStep := false
	for i, c := range nb.Cells {
		if c.Type != Code {
			continue
		}
		var d []Diagnostic
		tags[i], d = classify(i, c.Tags)
		diags = append(diags, d...)
		if tags[i].role == roleStep {
			anyStep = true
		}
	}
	if !anyStep {
		p.ByHeadings = true
		cutAtHeadings(nb, tags)
	}

	byName := map[string]*Step{}
	type prevRef struct {
		cell int
		name string
		step *Step
	}
	var prevs []prevRef
	var cur *Step       // the step untagged cells join
	curRole := roleNone // or the role cell they join
	for i, c := range nb.Cells {
		if c.Type != Code {
			continue
		}
		t := tags[i]
		r := t.role
		if r == roleNone {
			// Untagged: join the role cell above (Kale), or the step above.
			r = curRole
			if r == roleNone || r == roleSkip {
				r = roleStep
			}
		} else if r != roleSkip {
			curRole = r
		}
		switch r {
		case roleImports:
			p.Imports = append(p.Imports, i)
		case roleFunctions:
			p.Functions = append(p.Functions, i)
		case roleParameters:
			p.ParameterCells = append(p.ParameterCells, i)
			ps, d := parseParameters(i, c.Source)
			p.Parameters = append(p.Parameters, ps...)
			diags = append(diags, d...)
		case roleMetrics:
			p.MetricsCells = append(p.MetricsCells, i)
			ms, d := parseMetrics(i, c.Source)
			p.Metrics = append(p.Metrics, ms...)
			diags = append(diags, d...)
		case roleSkip:
			p.Skipped = append(p.Skipped, i)
		case roleStep:
			name := t.stepName
			if t.role == roleStep && name == "" && cur == nil {
				diags = append(diags, CellDiag(Error, i, 0, 0, CodeBadStepName, "empty step name with no step before it to continue; name the step (block:NAME)"))
			}
			if t.role == roleStep && name != "" {
				if s, ok := byName[name]; ok {
					cur = s
				} else {
					cur = &Step{Name: name, Settings: cloneSettings(defaults)}
					byName[name] = cur
					p.Steps = append(p.Steps, cur)
				}
			}
			if cur == nil {
				// Untagged code before any step tag that follows no role
				// cell: Kale drops it silently; we keep it as a step.
				cur = &Step{Name: "start", Settings: cloneSettings(defaults)}
				byName["start"] = cur
				p.Steps = append(p.Steps, cur)
				if !p.ByHeadings {
					diags = append(diags, CellDiag(Warning, i, 0, 0, CodeUntaggedPrologue, "untagged code before the first step tag forms a step named \"start\"; tag it (block:NAME), or tag it skip to leave it out"))
				}
			}
			curRole = roleNone
			cur.Cells = append(cur.Cells, i)
			for _, pv := range t.prev {
				prevs = append(prevs, prevRef{cell: i, name: pv, step: cur})
			}
			for _, st := range t.settings {
				if err := applySetting(&cur.Settings, st); err != nil {
					diags = append(diags, CellDiag(Error, i, 0, 0, CodeBadTag, "tag %q: %v", st, err))
				}
			}
		}
		if t.role != roleStep && t.role != roleNone && len(t.settings)+len(t.prev) > 0 {
			diags = append(diags, CellDiag(Warning, i, 0, 0, CodeBadTag, "step tags on a %s cell have no effect: %s", roleName(t.role), strings.Join(append(append([]string{}, t.prev...), t.settings...), ", ")))
		}
	}

	// prev: must name a step that starts before the cell carrying the tag.
	order := map[string]int{}
	for _, s := range p.Steps {
		order[s.Name] = s.Cells[0]
	}
	for _, pr := range prevs {
		first, ok := order[pr.name]
		switch {
		case !ok:
			diags = append(diags, CellDiag(Error, pr.cell, 0, 0, CodePrevUnknownStep, "prev:%s names no step of this notebook%s", pr.name, suggest(pr.name, stepNames(p.Steps))))
		case pr.name == pr.step.Name:
			diags = append(diags, CellDiag(Error, pr.cell, 0, 0, CodePrevUnknownStep, "prev:%s names the step itself", pr.name))
		case first > pr.cell || first > pr.step.Cells[0]:
			diags = append(diags, CellDiag(Error, pr.cell, 0, 0, CodePrevUnknownStep, "prev:%s names a step that comes later in the notebook (cell %d); a step can only follow earlier steps", pr.name, first))
		default:
			if !contains(pr.step.Prev, pr.name) {
				pr.step.Prev = append(pr.step.Prev, pr.name)
			}
		}
	}
	for _, s := range p.Steps {
		sort.Strings(s.Prev)
	}
	return p, diags
}

func classify(cell int, raw []string) (cellTags, []Diagnostic) {
	var t cellTags
	var diags []Diagnostic
	bad := func(code, format string, args ...any) {
		diags = append(diags, CellDiag(Error, cell, 0, 0, code, format, args...))
	}
	var roles []string
	for _, tag := range raw {
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		if r, ok := roleTags[tag]; ok {
			if t.role != roleNone && t.role != r {
				bad(CodeDuplicateStepTag, "tags %q and %q give the cell two roles; keep one", strings.Join(roles, `", "`), tag)
				continue
			}
			t.role = r
			roles = append(roles, tag)
			continue
		}
		key, val, hasColon := strings.Cut(tag, ":")
		switch {
		case hasColon && (key == "block" || key == "step"):
			if val != "" && !ValidStepName(val) {
				bad(CodeBadStepName, "step name %q in tag %q must match [_a-z][_a-z0-9]* (lower-case letters, digits and _; not starting with a digit)", val, tag)
				continue
			}
			if t.role == roleStep {
				if val != t.stepName {
					bad(CodeDuplicateStepTag, "cell has two step tags (%q and %q); a cell belongs to one step", key+":"+t.stepName, tag)
				}
				continue
			}
			if t.role != roleNone {
				bad(CodeDuplicateStepTag, "tag %q on a %s cell: a cell is either a step or %s", tag, strings.Join(roles, ", "), strings.Join(roles, ", "))
				continue
			}
			t.role, t.stepName = roleStep, val
			roles = append(roles, tag)
		case hasColon && key == "prev":
			if !ValidStepName(val) {
				bad(CodeBadStepName, "prev:%s: %q is not a valid step name", val, val)
				continue
			}
			t.prev = append(t.prev, val)
		case hasColon && contains(knownPrefixes, key):
			if err := applySetting(&StepSettings{}, tag); err != nil {
				bad(CodeBadTag, "tag %q: %v", tag, err)
				continue
			}
			t.settings = append(t.settings, tag)
		default:
			bad(CodeUnknownTag, "unknown tag %q%s", tag, suggestTag(tag))
		}
	}
	return t, diags
}

func roleName(r role) string {
	for k, v := range roleTags {
		if v == r {
			return k
		}
	}
	return "step"
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var effects = map[string]bool{"NoSchedule": true, "PreferNoSchedule": true, "NoExecute": true}

// applySetting applies one setting tag (limit:, env:, ...) to s, or says
// what is wrong with it.
func applySetting(s *StepSettings, tag string) error {
	key, val, ok := strings.Cut(tag, ":")
	if !ok {
		return fmt.Errorf("not a setting tag")
	}
	setMap := func(m *map[string]string, k, v string) {
		if *m == nil {
			*m = map[string]string{}
		}
		(*m)[k] = v
	}
	switch key {
	case "annotation", "label":
		k, v, ok := strings.Cut(val, ":")
		if !ok || k == "" {
			return fmt.Errorf("expected %s:KEY:VALUE", key)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("key %q: %s", k, errs[0])
		}
		if key == "label" {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				return fmt.Errorf("label value %q: %s", v, errs[0])
			}
			setMap(&s.Labels, k, v)
		} else {
			setMap(&s.Annotations, k, v)
		}
	case "limit", "request":
		i := strings.LastIndexByte(val, ':')
		if i <= 0 {
			return fmt.Errorf("expected %s:RESOURCE:QUANTITY, e.g. %s:memory:4Gi", key, key)
		}
		res, qty := val[:i], val[i+1:]
		if errs := validation.IsQualifiedName(res); len(errs) > 0 {
			return fmt.Errorf("resource %q: %s", res, errs[0])
		}
		if err := validQuantity(qty); err != nil {
			return fmt.Errorf("quantity %q is not a Kubernetes quantity (e.g. 500m, 4Gi, 1)", qty)
		}
		if key == "limit" {
			setMap(&s.Limits, res, qty)
		} else {
			setMap(&s.Requests, res, qty)
		}
	case "image":
		if val == "" {
			return fmt.Errorf("expected image:REFERENCE, e.g. image:python:3.11-slim")
		}
		// The reference's own grammar, not a list of bad characters: \r,
		// NUL and U+2028 got through one.
		if err := ValidImage(val); err != nil {
			return err
		}
		s.Image = val
	case "env":
		n, v, ok := strings.Cut(val, "=")
		if !ok || !envNameRE.MatchString(n) {
			return fmt.Errorf("expected env:NAME=VALUE with NAME a valid variable name")
		}
		s.Env = append(s.Env, EnvVar{Name: n, Value: v})
	case "secret":
		ref, env, ok := strings.Cut(val, "=")
		name, k, ok2 := strings.Cut(ref, "/")
		if !ok || !ok2 || name == "" || k == "" || !envNameRE.MatchString(env) {
			return fmt.Errorf("expected secret:NAME/KEY=ENVVAR")
		}
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return fmt.Errorf("secret name %q: %s", name, errs[0])
		}
		s.Secrets = append(s.Secrets, SecretEnv{Secret: name, Key: k, Env: env})
	case "node":
		k, v, ok := strings.Cut(val, "=")
		if !ok || k == "" {
			return fmt.Errorf("expected node:KEY=VALUE")
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return fmt.Errorf("node label %q: %s", k, errs[0])
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return fmt.Errorf("node label value %q: %s", v, errs[0])
		}
		setMap(&s.NodeSelector, k, v)
	case "toleration":
		t, err := ParseToleration(val)
		if err != nil {
			return err
		}
		s.Tolerations = append(s.Tolerations, t)
	case "retry":
		n, err := strconv.Atoi(val)
		if err != nil || n < 0 || n > 100 {
			return fmt.Errorf("expected retry:N with N between 0 and 100")
		}
		s.Retry = n
	case "timeout":
		d, err := ParseDuration(val)
		if err != nil {
			return err // it says what is wrong: too long, NaN, negative, no unit
		}
		if d <= 0 {
			return fmt.Errorf("expected timeout:DURATION, e.g. timeout:30m")
		}
		s.Timeout = d
	case "cache":
		switch val {
		case "off":
			s.CacheOff = true
		case "on":
			s.CacheOff = false
		default:
			return fmt.Errorf("expected cache:off (or cache:on)")
		}
	default:
		return fmt.Errorf("unknown setting")
	}
	return nil
}

// ParseToleration parses KEY=VALUE:EFFECT (VALUE may be empty: KEY:EFFECT
// tolerates the taint whatever its value).
func ParseToleration(spec string) (Toleration, error) {
	i := strings.LastIndexByte(spec, ':')
	if i <= 0 {
		return Toleration{}, fmt.Errorf("expected KEY=VALUE:EFFECT, e.g. nvidia.com/gpu=present:NoSchedule")
	}
	kv, eff := spec[:i], spec[i+1:]
	k, v, _ := strings.Cut(kv, "=")
	if !effects[eff] {
		return Toleration{}, fmt.Errorf("effect %q must be NoSchedule, PreferNoSchedule or NoExecute", eff)
	}
	if errs := validation.IsQualifiedName(k); len(errs) > 0 {
		return Toleration{}, fmt.Errorf("toleration key %q: %s", k, errs[0])
	}
	return Toleration{Key: k, Value: v, Effect: eff}, nil
}

func validQuantity(q string) error {
	_, err := resource.ParseQuantity(q)
	return err
}

func cloneSettings(s StepSettings) StepSettings {
	c := s
	c.Env = append([]EnvVar(nil), s.Env...)
	c.Secrets = append([]SecretEnv(nil), s.Secrets...)
	c.Tolerations = append([]Toleration(nil), s.Tolerations...)
	for _, m := range []*map[string]string{&c.Limits, &c.Requests, &c.NodeSelector, &c.Annotations, &c.Labels} {
		if *m != nil {
			cp := make(map[string]string, len(*m))
			for k, v := range *m {
				cp[k] = v
			}
			*m = cp
		}
	}
	return c
}

// cutAtHeadings turns a notebook without step tags into steps, one per
// markdown "##" section, by giving each section's first code cell a step tag.
func cutAtHeadings(nb *Notebook, tags []cellTags) {
	seen := map[string]int{}
	pending := ""
	for i, c := range nb.Cells {
		switch c.Type {
		case Markdown:
			if h, ok := level2Heading(c.Source); ok {
				name := slug(h)
				seen[name]++
				if n := seen[name]; n > 1 {
					name = fmt.Sprintf("%s_%d", name, n)
				}
				pending = name
			}
		case Code:
			if pending != "" && tags[i].role == roleNone {
				tags[i].role, tags[i].stepName = roleStep, pending
				pending = ""
			}
		}
	}
}

// level2Heading returns the text of the first "## " heading of a markdown cell.
func level2Heading(src string) (string, bool) {
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimRight(line, "\r")
		t := strings.TrimLeft(line, " ")
		if len(line)-len(t) > 3 {
			continue // indented code block
		}
		if rest, ok := strings.CutPrefix(t, "##"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			rest = strings.TrimSpace(strings.TrimRight(strings.TrimSpace(rest), "#"))
			if rest != "" {
				return rest, true
			}
		}
	}
	return "", false
}

// slug makes a step name from a heading: lower-case, runs of other
// characters collapsed to "_", trimmed, "step_" before a leading digit.
func slug(h string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(h) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	s := b.String()
	if s == "" {
		return "step"
	}
	if s[0] >= '0' && s[0] <= '9' {
		s = "step_" + s
	}
	return s
}

var assignRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)\s*(?::\s*[A-Za-z_][A-Za-z0-9_.\[\], ]*)?=([^=].*)?$`)

// parseParameters reads a pipeline-parameters cell: `name = literal` lines
// (a literal may span lines inside brackets), comments and blank lines.
func parseParameters(cell int, src string) ([]Parameter, []Diagnostic) {
	var ps []Parameter
	var diags []Diagnostic
	lines := strings.Split(src, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\r")
		trimmed := strings.TrimSpace(stripComment(line))
		if trimmed == "" {
			continue
		}
		lineNo := i + 1
		m := assignRE.FindStringSubmatch(trimmed)
		if m == nil {
			diags = append(diags, CellDiag(Error, cell, lineNo, 1, CodeBadParameter, "pipeline-parameters line %q is not `name = literal`", trimmed))
			continue
		}
		expr := m[2]
		// Join continuation lines while brackets are open.
		for depth(expr) > 0 && i+1 < len(lines) {
			i++
			expr += "\n" + stripComment(strings.TrimRight(lines[i], "\r"))
		}
		lit, err := ParseLiteral(expr)
		if err != nil {
			diags = append(diags, CellDiag(Error, cell, lineNo, 1, CodeBadParameter, "parameter %s: %v", m[1], err))
			continue
		}
		ps = append(ps, Parameter{Name: m[1], Default: lit, Cell: cell, Line: lineNo})
	}
	return ps, diags
}

// stripComment removes a trailing # comment that is not inside a string.
func stripComment(line string) string {
	var q byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case q != 0 && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && c == '#':
			return line[:i]
		}
	}
	return line
}

// depth counts unclosed brackets outside strings.
func depth(s string) int {
	d := 0
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0 && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == 0 && strings.IndexByte("([{", c) >= 0:
			d++
		case q == 0 && strings.IndexByte(")]}", c) >= 0:
			d--
		}
	}
	return d
}

var metricRE = regexp.MustCompile(`^(?:print\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)|([A-Za-z_][A-Za-z0-9_]*))$`)

func parseMetrics(cell int, src string) ([]Metric, []Diagnostic) {
	var ms []Metric
	var diags []Diagnostic
	for i, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(stripComment(strings.TrimRight(line, "\r")))
		if t == "" {
			continue
		}
		m := metricRE.FindStringSubmatch(t)
		if m == nil {
			diags = append(diags, CellDiag(Warning, cell, i+1, 1, CodeBadMetric, "pipeline-metrics line %q is not `name` or `print(name)`; ignored", t))
			continue
		}
		name := m[1] + m[2]
		ms = append(ms, Metric{Name: name, Cell: cell, Line: i + 1})
	}
	return ms, diags
}

func stepNames(steps []*Step) []string {
	var ns []string
	for _, s := range steps {
		ns = append(ns, s.Name)
	}
	return ns
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// otherTools maps tags of tools our users come from to ours.
var otherTools = map[string]string{
	"parameters": `"pipeline-parameters" (Papermill's "parameters")`,
	"metrics":    `"pipeline-metrics"`,
	"step":       `"block:NAME"`,
}

// suggestTag proposes the known tag closest to a misspelt one.
func suggestTag(tag string) string {
	if ours, ok := otherTools[tag]; ok {
		return " (did you mean " + ours + "?)"
	}
	key, _, _ := strings.Cut(tag, ":")
	cands := append([]string{}, knownPrefixes...)
	for k := range roleTags {
		cands = append(cands, k)
	}
	sort.Strings(cands)
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(key, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return " (see the annotation language: block:NAME, prev:NAME, imports, functions, pipeline-parameters, pipeline-metrics, skip, limit:, ...)"
	}
	if _, isRole := roleTags[best]; isRole {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return fmt.Sprintf(" (did you mean %q?)", best+":"+strings.TrimPrefix(tag, key+":"))
}

func suggest(name string, names []string) string {
	best, bestD := "", 3
	for _, c := range names {
		if d := editDistance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
