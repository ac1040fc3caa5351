package notebook

import "time"

// Pipeline is what the annotations of a notebook say: which cells form which
// steps, the roles of the other cells, and the settings of the pipeline and
// of each step. It says nothing about data flow (that is the analyzer's).
type Pipeline struct {
	Settings Settings

	// Steps in notebook order of their first cell. A step name repeated on
	// non-adjacent cells is one step placed at its first cell.
	Steps []*Step

	Imports        []int // cells prepended to every step (imports tag, and untagged cells after one)
	Functions      []int // cells prepended after the imports (functions tag, ...)
	ParameterCells []int // pipeline-parameters cells
	MetricsCells   []int // pipeline-metrics cells
	Skipped        []int // skip cells (untagged cells after one join the step above it)

	Parameters []Parameter // in cell and line order
	Metrics    []Metric

	// ByHeadings is true when the notebook has no step tags and was cut at
	// markdown "##" headings.
	ByHeadings bool
}

// Step is one pipeline step: a run of cells executed as one process.
type Step struct {
	Name     string
	Cells    []int        // code cells, in notebook order
	Prev     []string     // explicit prev: edges, validated to name earlier steps
	Settings StepSettings // from the step's tags, over the notebook's step_defaults
}

// StepSettings are the per-step tags beyond the step name.
type StepSettings struct {
	Image        string            `json:"image,omitempty"`
	Env          []EnvVar          `json:"env,omitempty"`
	Secrets      []SecretEnv       `json:"secrets,omitempty"`
	Limits       map[string]string `json:"limits,omitempty"`
	Requests     map[string]string `json:"requests,omitempty"`
	NodeSelector map[string]string `json:"node_selector,omitempty"`
	Tolerations  []Toleration      `json:"tolerations,omitempty"`
	Retry        int               `json:"retry,omitempty"`
	Timeout      Duration          `json:"timeout,omitempty"`
	CacheOff     bool              `json:"cache_off,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Labels       map[string]string `json:"labels,omitempty"`
}

// EnvVar is an env:NAME=VALUE tag.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SecretEnv is a secret:NAME/KEY=ENVVAR tag: Kubernetes secret NAME's KEY
// exposed as environment variable Env.
type SecretEnv struct {
	Secret string `json:"secret"`
	Key    string `json:"key"`
	Env    string `json:"env"`
}

// Toleration is a toleration:KEY=VALUE:EFFECT tag (VALUE may be empty).
type Toleration struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"`
}

// Parameter is one `name = literal` line of a pipeline-parameters cell.
type Parameter struct {
	Name    string
	Default Literal
	Cell    int
	Line    int
}

// Metric is one `name` or `print(name)` line of a pipeline-metrics cell.
type Metric struct {
	Name string
	Cell int
	Line int
}

// Duration is a time.Duration that reads "90s", "1h30m", "2d" or a number
// of seconds, and prints as Go does.
type Duration time.Duration
