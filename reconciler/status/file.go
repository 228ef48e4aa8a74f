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
	// Health and its counts are kstatus over the desired objects.
	Health       apply.HealthState `json:"health,omitempty" yaml:"health,omitempty"`
	HealthCounts *HealthCounts     `json:"healthCounts,omitempty" yaml:"healthCounts,omitempty"`
	Message      string            `json:"message" yaml:"message"`
	Since        string            `json:"since" yaml:"since"`
	Summary      Summary           `json:"summary" yaml:"summary"`
	Objects      []Object          `json:"objects,omitempty" yaml:"objects,omitempty"`
	// Unhealthy are the desired objects that are not healthy.
	Unhealthy []fileUnhealthy `json:"unhealthy,omitempty" yaml:"unhealthy,omitempty"`
	Charts    []Chart         `json:"charts,omitempty" yaml:"charts,omitempty"`
}

// fileUnhealthy is Unhealthy with its time as RFC 3339 text, as since is.
type fileUnhealthy struct {
	Kind      string `json:"kind" yaml:"kind"`
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name      string `json:"name" yaml:"name"`
	File      string `json:"file,omitempty" yaml:"file,omitempty"`
	Status    string `json:"status" yaml:"status"`
	Message   string `json:"message,omitempty" yaml:"message,omitempty"`
	Since     string `json:"since" yaml:"since"`
}

// MarshalFile renders the status file of one cluster, its fields in
// the order of SPEC section 5 so that the file reads top-down in git.
func MarshalFile(s Cluster) ([]byte, error) {
	var counts *HealthCounts
	if s.Health != "" {
		counts = &s.HealthCounts
	}
	var unhealthy []fileUnhealthy
	for _, u := range s.Unhealthy {
		unhealthy = append(unhealthy, fileUnhealthy{Kind: u.Kind, Namespace: u.Namespace, Name: u.Name, File: u.File,
			Status: u.Status, Message: u.Message, Since: u.Since.UTC().Format(time.RFC3339)})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(statusFile{
		APIVersion: "mcp.dev/v1alpha1",
		Kind:       "ClusterStatus",
		Metadata:   map[string]any{"name": s.Name},
		Status: fileStatus{
			Revision:     s.Revision,
			Result:       s.Result,
			Health:       s.Health,
			HealthCounts: counts,
			Message:      s.Message,
			Since:        s.Since.UTC().Format(time.RFC3339),
			Summary:      s.Summary,
			Objects:      s.Objects,
			Unhealthy:    unhealthy,
			Charts:       s.Charts,
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
	c := Cluster{
		Name: name, Result: f.Status.Result, Revision: f.Status.Revision, Message: f.Status.Message,
		Since: since, Summary: f.Status.Summary, Objects: f.Status.Objects, Health: f.Status.Health,
		Charts: f.Status.Charts,
	}
	if f.Status.HealthCounts != nil {
		c.HealthCounts = *f.Status.HealthCounts
	}
	for _, u := range f.Status.Unhealthy {
		t, err := time.Parse(time.RFC3339, u.Since)
		if err != nil {
			return Cluster{}, err
		}
		c.Unhealthy = append(c.Unhealthy, Unhealthy{Kind: u.Kind, Namespace: u.Namespace, Name: u.Name, File: u.File,
			Status: u.Status, Message: u.Message, Since: t})
	}
	return c, nil
}
