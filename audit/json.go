package audit

import (
	"encoding/json"
	"io"

	"github.com/graceful-dev/graceful/transformers"
)

// JSONVersion names the schema of WriteJSON's output; fields are only
// ever added under the same version.
const JSONVersion = "graceful.dev/check/v1"

type jsonReport struct {
	Version string       `json:"version"`
	Summary jsonSummary  `json:"summary"`
	Objects []jsonObject `json:"objects"`
}

type jsonSummary struct {
	Objects  int `json:"objects"`
	Findings int `json:"findings"`
	Error    int `json:"error"`
	Warning  int `json:"warning"`
	Info     int `json:"info"`
	// Ignored: findings --ignore or graceful.dev/check-ignore left out.
	Ignored int `json:"ignored"`
}

type jsonObject struct {
	File       string        `json:"file"`
	Line       int           `json:"line,omitempty"`
	Index      int           `json:"index"`
	Item       int           `json:"item,omitempty"`
	Source     string        `json:"source,omitempty"`
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Namespace  string        `json:"namespace,omitempty"`
	Name       string        `json:"name"`
	Findings   []jsonFinding `json:"findings"`
	Fix        jsonFix       `json:"fix"`
	Notes      []string      `json:"notes,omitempty"`
}

type jsonFinding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Field    string `json:"field,omitempty"`
	Line     int    `json:"line,omitempty"`
	Message  string `json:"message"`
	Current  string `json:"current,omitempty"`
	Proposed string `json:"proposed,omitempty"`
}

type jsonFix struct {
	Decision string       `json:"decision,omitempty"`
	Changes  []jsonChange `json:"changes"`
	Notes    []string     `json:"notes,omitempty"`
}

type jsonChange struct {
	Field    string `json:"field"`
	Current  string `json:"current,omitempty"`
	Proposed string `json:"proposed,omitempty"`
	Message  string `json:"message"`
}

// WriteJSON writes the report in the schema the README documents.
func (r *Report) WriteJSON(w io.Writer) error {
	c := r.Counts()
	out := jsonReport{Version: JSONVersion, Objects: []jsonObject{}, Summary: jsonSummary{Objects: r.Objects,
		Error: c[transformers.Error], Warning: c[transformers.Warning], Info: c[transformers.Info], Ignored: r.Ignored}}
	out.Summary.Findings = out.Summary.Error + out.Summary.Warning + out.Summary.Info
	for _, res := range r.Results {
		o := jsonObject{File: res.Ref.File, Line: res.Ref.Line, Index: res.Ref.Index, Item: res.Ref.Item, Source: res.Ref.Source,
			APIVersion: res.Ref.APIVersion, Kind: res.Ref.Kind, Namespace: res.Ref.Namespace, Name: res.Ref.Name,
			Fix: jsonFix{Decision: res.Fix.Decision, Changes: []jsonChange{}, Notes: res.Fix.Notes}, Notes: res.Notes}
		for _, f := range res.Findings {
			o.Findings = append(o.Findings, jsonFinding{Code: f.Code, Severity: string(f.Severity), Field: f.Field, Line: f.Line,
				Message: f.Message, Current: f.Current, Proposed: f.Proposed})
		}
		for _, ch := range res.Fix.Changes {
			o.Fix.Changes = append(o.Fix.Changes, jsonChange{Field: ch.Field, Current: ch.Current, Proposed: ch.Proposed, Message: ch.Message})
		}
		out.Objects = append(out.Objects, o)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
