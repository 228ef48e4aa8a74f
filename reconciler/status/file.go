package status

import (
	"bytes"
	"time"

	"go.yaml.in/yaml/v3"

	"mcp.dev/mcp/apply"
)

// statusFile is the YAML document of SPEC section 5.
type statusFile struct {
	APIVersion string         `json:"apiVersion" yaml:"apiVersion"`
	Kind       string         `json:"kind" yaml:"kind"`
	Metadata   map[string]any `json:"metadata" yaml:"metadata"`
	Status     fileStatus     `json:"status" yaml:"status"`
}

type fileStatus struct {
	Revision string       `json:"revision" yaml:"revision"`
	Result   apply.Status `json:"result" yaml:"result"`
	Message  string       `json:"message" yaml:"message"`
	Since    string       `json:"since" yaml:"since"`
	Summary  Summary      `json:"summary" yaml:"summary"`
	Objects  []Object     `json:"objects,omitempty" yaml:"objects,omitempty"`
}

// MarshalFile renders the status file of one cluster, its fields in
// the order of SPEC section 5 so that the file reads top-down in git.
func MarshalFile(s Cluster) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(statusFile{
		APIVersion: "mcp.dev/v1alpha1",
		Kind:       "ClusterStatus",
		Metadata:   map[string]any{"name": s.Name},
		Status: fileStatus{
			Revision: s.Revision,
			Result:   s.Result,
			Message:  s.Message,
			Since:    s.Since.UTC().Format(time.RFC3339),
			Summary:  s.Summary,
			Objects:  s.Objects,
		},
	})
	return buf.Bytes(), err
}

// UnmarshalFile reads what MarshalFile wrote.
func UnmarshalFile(data []byte) (Cluster, error) {
	var f statusFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return Cluster{}, err
	}
	since, err := time.Parse(time.RFC3339, f.Status.Since)
	if err != nil {
		return Cluster{}, err
	}
	name, _ := f.Metadata["name"].(string)
	return Cluster{
		Name: name, Result: f.Status.Result, Revision: f.Status.Revision, Message: f.Status.Message,
		Since: since, Summary: f.Status.Summary, Objects: f.Status.Objects,
	}, nil
}
