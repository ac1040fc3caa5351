package kernelgw

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/datainsight/datainsight/kernelgw/rpc"
)

// EnvParams are env's params.
type EnvParams struct {
	Kernel string `json:"kernel" doc:"The id of a running kernel of the sidecar's Jupyter server (the notebook's own kernel)."`
}

// Distribution is an installed Python distribution.
type Distribution struct {
	Name    string `json:"name" doc:"Its name, as its metadata spells it."`
	Version string `json:"version"`
}

// PythonEnv is what an interpreter runs with.
type PythonEnv struct {
	Version        string         `json:"version" doc:"The Python version, e.g. 3.11.2."`
	SysVersion     string         `json:"sys_version" doc:"sys.version, in full."`
	Implementation string         `json:"implementation" doc:"CPython, PyPy, ..."`
	Executable     string         `json:"executable" doc:"sys.executable."`
	Prefix         string         `json:"prefix" doc:"sys.prefix: the environment (a virtual environment's folder, for one)."`
	Packages       []Distribution `json:"packages" doc:"The installed distributions, by name (the first found on sys.path where several have the same name)."`
}

// EnvWarning is a difference between the kernel's environment and the
// one local runs use.
type EnvWarning struct {
	Kind    string `json:"kind" doc:"version (the Python versions differ), missing (a package of the kernel's that local runs do not have) or other-version (a package at another version)."`
	Package string `json:"package,omitempty" doc:"The package, for missing and other-version."`
	Kernel  string `json:"kernel,omitempty" doc:"Its version in the kernel."`
	Local   string `json:"local,omitempty" doc:"Its version where local runs run (\"\" when missing)."`
	Message string `json:"message" doc:"The difference, in words."`
}

// EnvResult is a kernel's Python environment, compared with local runs'.
type EnvResult struct {
	Kernel      PythonEnv    `json:"kernel" doc:"The kernel's environment."`
	LocalPython string       `json:"local_python" doc:"The interpreter local runs use (the configured python)."`
	Local       *PythonEnv   `json:"local,omitempty" doc:"Its environment; absent when it could not be run (a warning says why)."`
	Warnings    []EnvWarning `json:"warnings" doc:"How local runs' environment differs from the kernel's: what may make a step fail, or compute otherwise, there."`
}

const envMarker = "__datainsight_env__ "

// envCode describes the interpreter it runs in, with nothing but the
// standard library (importlib.metadata: no pip needed).
const envCode = `
import sys, json, platform, re
from importlib import metadata
pkgs = {}
for d in metadata.distributions():
    try:
        name = d.metadata["Name"]
        version = d.version
    except Exception:
        continue
    if not name:
        continue
    key = re.sub(r"[-_.]+", "-", name).lower()
    if key not in pkgs:
        pkgs[key] = {"name": name, "version": version or ""}
print(MARKER + json.dumps({
    "version": platform.python_version(), "sys_version": sys.version,
    "implementation": platform.python_implementation(), "executable": sys.executable,
    "prefix": sys.prefix, "packages": [pkgs[k] for k in sorted(pkgs)],
}))
`

// envTimeout bounds the local interpreter's run of envCode.
const envTimeout = time.Minute

func (s *Sidecar) env(ctx context.Context, _ *rpc.Conn, p EnvParams) (EnvResult, error) {
	if s.jupyter == nil {
		return EnvResult{}, rpc.Errorf(rpc.CodeFailed, "env needs the Jupyter server the kernels run in: start serve with --jupyter-url (and --jupyter-token)")
	}
	if p.Kernel == "" {
		return EnvResult{}, rpc.FieldError("kernel", "required: the id of a running kernel")
	}
	code, err := privateSnippet(envCode, "_datainsight_env", map[string]any{"MARKER": envMarker})
	if err != nil {
		return EnvResult{}, err
	}
	res := EnvResult{LocalPython: s.svc.Config().Python, Warnings: []EnvWarning{}}
	if err := s.kernelAnswer(ctx, p.Kernel, "the environment's description", code, envMarker, &res.Kernel); err != nil {
		return EnvResult{}, err
	}
	if res.Kernel.Packages == nil {
		res.Kernel.Packages = []Distribution{}
	}
	local, err := localEnv(ctx, res.LocalPython, s.Root(), code)
	if err != nil {
		res.Warnings = append(res.Warnings, EnvWarning{Kind: "unavailable",
			Message: fmt.Sprintf("the interpreter local runs use (%s) could not be asked: %v", res.LocalPython, err)})
		return res, nil
	}
	res.Local = local
	res.Warnings = append(res.Warnings, compareEnvs(&res.Kernel, local)...)
	return res, nil
}

// localEnv runs code (envCode, as sent to kernels) with the interpreter
// python, in the folder dir (the notebook root).
func localEnv(ctx context.Context, python, dir, code string) (*PythonEnv, error) {
	ctx, cancel := context.WithTimeout(ctx, envTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", code)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			lines := strings.Split(msg, "\n")
			return nil, fmt.Errorf("%v: %s", err, lines[len(lines)-1])
		}
		return nil, err
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, envMarker); ok {
			var env PythonEnv
			if err := json.Unmarshal([]byte(rest), &env); err != nil {
				return nil, fmt.Errorf("its answer: %v", err)
			}
			if env.Packages == nil {
				env.Packages = []Distribution{}
			}
			return &env, nil
		}
	}
	return nil, fmt.Errorf("it printed no answer")
}

// normName is a distribution's name as PEP 503 compares them.
func normName(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// compareEnvs lists how local differs from the kernel's environment k:
// the Python version, then the kernel's packages local lacks or has at
// another version, by name.
func compareEnvs(k, local *PythonEnv) []EnvWarning {
	var out []EnvWarning
	if k.Version != local.Version || k.Implementation != local.Implementation {
		out = append(out, EnvWarning{Kind: "version", Kernel: k.Implementation + " " + k.Version, Local: local.Implementation + " " + local.Version,
			Message: fmt.Sprintf("the kernel runs %s %s, local runs %s %s (%s)", k.Implementation, k.Version, local.Implementation, local.Version, local.Executable)})
	}
	have := make(map[string]Distribution, len(local.Packages))
	for _, d := range local.Packages {
		have[normName(d.Name)] = d
	}
	pkgs := append([]Distribution(nil), k.Packages...)
	sort.Slice(pkgs, func(i, j int) bool { return normName(pkgs[i].Name) < normName(pkgs[j].Name) })
	for _, d := range pkgs {
		l, ok := have[normName(d.Name)]
		switch {
		case !ok:
			out = append(out, EnvWarning{Kind: "missing", Package: d.Name, Kernel: d.Version,
				Message: fmt.Sprintf("%s %s is installed in the kernel, not where local runs run", d.Name, d.Version)})
		case l.Version != d.Version:
			out = append(out, EnvWarning{Kind: "other-version", Package: d.Name, Kernel: d.Version, Local: l.Version,
				Message: fmt.Sprintf("%s is %s in the kernel, %s where local runs run", d.Name, d.Version, l.Version)})
		}
	}
	return out
}
