package kernelgw

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"

	"github.com/datainsight/datainsight/kernelgw/rpc"
	"github.com/datainsight/datainsight/notebook"
	"github.com/datainsight/datainsight/service"
)

// SettingsParams are settings.get's params.
type SettingsParams struct {
	Path string `json:"path" doc:"The notebook's path, relative to the notebook root (or absolute, inside it)."`
}

// SetSettingsParams are settings.set's params.
type SetSettingsParams struct {
	Path     string          `json:"path" doc:"The notebook's path, relative to the notebook root (or absolute, inside it)."`
	Settings json.RawMessage `json:"settings" doc:"The new metadata.datainsight: an object (name, description, image, volumes, workspace, marshal, step_defaults, timeout, parallelism, service_account, image_pull_secrets, ttl); null removes it."`
}

// SettingsResult is a notebook's pipeline settings.
type SettingsResult struct {
	Settings  json.RawMessage           `json:"settings" doc:"metadata.datainsight as the notebook has it (null when it has none)."`
	Effective notebook.Settings         `json:"effective" doc:"The settings a run uses: these, with Kale's kubeflow_notebook metadata filling in where they are silent; a setting with an error is left out."`
	Problems  []notebook.SettingProblem `json:"problems" doc:"Mistakes and notes about the settings, each naming its field (metadata.datainsight.volumes[1].mount_path)."`
}

func settingsResult(ns *service.NotebookSettings) SettingsResult {
	r := SettingsResult{Settings: ns.Raw, Effective: ns.Settings, Problems: ns.Problems}
	if len(r.Settings) == 0 {
		r.Settings = json.RawMessage("null")
	}
	if r.Problems == nil {
		r.Problems = []notebook.SettingProblem{}
	}
	return r
}

func (s *Sidecar) settingsGet(ctx context.Context, _ *rpc.Conn, p SettingsParams) (SettingsResult, error) {
	if p.Path == "" {
		return SettingsResult{}, rpc.FieldError("path", "required: a notebook")
	}
	abs, err := s.resolve("path", p.Path)
	if err != nil {
		return SettingsResult{}, err
	}
	ns, err := s.svc.Settings(ctx, abs)
	if err != nil {
		return SettingsResult{}, settingsError(err)
	}
	return settingsResult(ns), nil
}

func (s *Sidecar) settingsSet(ctx context.Context, _ *rpc.Conn, p SetSettingsParams) (SettingsResult, error) {
	if p.Path == "" {
		return SettingsResult{}, rpc.FieldError("path", "required: a notebook")
	}
	if len(p.Settings) == 0 {
		return SettingsResult{}, rpc.FieldError("settings", "required: an object, or null to remove the settings")
	}
	abs, err := s.resolve("path", p.Path)
	if err != nil {
		return SettingsResult{}, err
	}
	ns, err := s.svc.SetSettings(ctx, abs, p.Settings)
	if err != nil {
		return SettingsResult{}, settingsError(err)
	}
	return settingsResult(ns), nil
}

// settingsError names, for settings refused, the field of the request
// that holds the first mistake (settings.volumes[1].mount_path), and lists
// them all in data.problems.
func settingsError(err error) error {
	var se *service.SettingsError
	switch {
	case errors.As(err, &se):
		field := "settings"
		if len(se.Problems) > 0 {
			field = "settings" + strings.TrimPrefix(se.Problems[0].Field, "metadata."+service.SettingsKey)
		}
		e := rpc.FieldError(field, "%s", strings.TrimPrefix(se.Error(), se.Path+": "))
		e.Data = map[string]any{"field": field, "problems": se.Problems}
		return e
	case errors.Is(err, service.ErrChanged):
		return rpc.Errorf(rpc.CodeConflict, "%w", err)
	case errors.Is(err, notebook.ErrTooLarge):
		return rpc.Errorf(rpc.CodeTooLarge, "%w", err)
	case errors.Is(err, fs.ErrNotExist):
		return &rpc.Error{Code: rpc.CodeNotFound, Message: "field \"path\": " + err.Error(), Data: map[string]string{"field": "path"}}
	}
	return err
}
