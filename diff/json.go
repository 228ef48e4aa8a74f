package diff

import (
	"encoding/json"
	"io"
)

// The JSON schema written by WriteJSON. Field names are part of mcp's
// contract with scripts: add fields, never rename or remove them.
//
//	{"clusters": [{
//	  "name": "aws-eu-prod",
//	  "error": "...",                      // only when the plan failed
//	  "leaves": true, "remaining": 12,     // only when the cluster leaves management
//	  "changes": [{                        // unchanged objects are left out
//	    "action": "update",                // create | update | delete | adopt | keep | orphan | replace
//	    "group": "apps", "kind": "Deployment", "namespace": "web", "name": "web",
//	    "file": "apps/web/deploy.yaml",    // when known
//	    "placement": "web",                // when known
//	    "wave": 0,                         // the apply wave (mcp.dev/wave)
//	    "reason": "kept: 2 unmanaged objects inside",   // when the action needs one
//	    "fields": [{"path": "spec.replicas", "old": 2, "new": 3},
//	               {"path": "data.password", "sensitive": true}]
//	  }],
//	  "summary": {"create": 0, "update": 1, "delete": 0, "adopt": 0, "keep": 0, "orphan": 0, "replace": 0, "unchanged": 4},
//	  "undecrypted": ["apps/web/db.sops.yaml"]   // only when encrypted files were compared without a key
//	}],
//	"warnings": ["apps/web.yaml:7: Deployment web: unknown field spec.foo: …"]}
//
// "adopt": the object exists without mcp's label and outside its
// inventory, and applying takes it over; its fields are listed as for an
// update. "keep": prune would delete the object but keeps it, for the
// reason given. "orphan": the object is no longer desired but its
// Placement says prune: false: it stays on the cluster and mcp stops
// managing it. "replace": the server refuses to change the object in
// place (immutable fields, listed in "fields" and named in "reason"), so
// applying deletes it and creates it anew. "leaves": the cluster's Cluster document is gone; mcp stops
// reconciling it and deletes nothing, and "remaining" objects it managed
// stay there.
//
// "old" or "new" is left out where the field is absent on that side, and
// both are always left out of a sensitive field.
//
// "warnings": the render's warnings, one line each (absent when none).
//
// "undecrypted": SOPS-encrypted files whose values were not decrypted (no
// age key, as in the CI of a pull request) but compared by ciphertext: a
// value whose ciphertext changed is sensitive and changed.
type (
	jsonPlan struct {
		Clusters []jsonCluster `json:"clusters"`
		Warnings []string      `json:"warnings,omitempty"`
	}
	jsonCluster struct {
		Name      string       `json:"name"`
		Error     string       `json:"error,omitempty"`
		Leaves    bool         `json:"leaves,omitempty"`
		Remaining int          `json:"remaining,omitempty"`
		Changes   []jsonChange `json:"changes"`
		Summary   Summary      `json:"summary"`
		// Undecrypted lists the files compared by ciphertext.
		Undecrypted []string `json:"undecrypted,omitempty"`
	}
	jsonChange struct {
		Action    Action      `json:"action"`
		Group     string      `json:"group"`
		Kind      string      `json:"kind"`
		Namespace string      `json:"namespace"`
		Name      string      `json:"name"`
		File      string      `json:"file,omitempty"`
		Placement string      `json:"placement,omitempty"`
		Wave      int         `json:"wave"`
		Reason    string      `json:"reason,omitempty"`
		Fields    []jsonField `json:"fields,omitempty"`
	}
	jsonField struct {
		Path      string `json:"path"`
		Old       any    `json:"old,omitempty"`
		New       any    `json:"new,omitempty"`
		Sensitive bool   `json:"sensitive,omitempty"`
	}
)

// WriteJSON writes p in the schema documented above, indented, one
// document followed by a newline.
func WriteJSON(w io.Writer, p Plan) error {
	out := jsonPlan{Clusters: make([]jsonCluster, 0, len(p.Clusters)), Warnings: p.Warnings}
	for _, c := range p.Clusters {
		jc := jsonCluster{Name: c.Cluster, Leaves: c.Leaves, Remaining: c.Remaining, Changes: []jsonChange{}, Summary: c.Summary(), Undecrypted: c.Undecrypted}
		if c.Err != nil {
			jc.Error = c.Err.Error()
		}
		for _, ch := range c.Changes {
			if !shown(ch) {
				continue
			}
			jch := jsonChange{
				Action: ch.Action, Group: ch.Key.Group, Kind: ch.Key.Kind,
				Namespace: ch.Key.Namespace, Name: ch.Key.Name,
				File: ch.File, Placement: ch.Placement, Wave: ch.Wave, Reason: ch.Reason,
			}
			for _, fc := range ch.Fields {
				jf := jsonField{Path: fc.Path, Sensitive: fc.Sensitive}
				if !fc.Sensitive {
					jf.Old, jf.New = fc.Old, fc.New
				}
				jch.Fields = append(jch.Fields, jf)
			}
			jc.Changes = append(jc.Changes, jch)
		}
		out.Clusters = append(out.Clusters, jc)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
