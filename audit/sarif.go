package audit

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// SARIF 2.1.0, as GitHub code scanning reads it: one run, every rule in
// tool.driver.rules, a result per finding with a relative artifact URI and
// its start line.

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool sarifTool `json:"tool"`
	// OriginalURIBaseIDs says where SRCROOT, the base of relative URIs, is.
	OriginalURIBaseIDs map[string]sarifArtifact `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult            `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	ShortDescription     sarifText    `json:"shortDescription"`
	FullDescription      sarifText    `json:"fullDescription"`
	Help                 sarifText    `json:"help"`
	DefaultConfiguration sarifDefault `json:"defaultConfiguration"`
}

type sarifDefault struct {
	Level string `json:"level"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// srcRoot is the uriBaseId of the files under the working directory.
const srcRoot = "SRCROOT"

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// SARIFOptions: BaseDir makes absolute file paths relative (GitHub wants
// paths from the repository's root); Version is graceful's.
type SARIFOptions struct {
	BaseDir string
	Version string
}

func sarifLevel(s transformers.Severity) string {
	switch s {
	case transformers.Error:
		return "error"
	case transformers.Warning:
		return "warning"
	}
	return "note"
}

// artifact is the location of an object's file: a URI relative to SRCROOT
// (the working directory) for a file under it, else a file:// URI. stdin
// has none: Helm's `# Source:` file stands in, without a line (the stream's
// lines are not the template's).
func artifact(ref render.Ref, base string) (a sarifArtifact, line int) {
	if ref.File == "" {
		if ref.Source != "" {
			return sarifArtifact{URI: relativeURI(ref.Source)}, 0
		}
		return sarifArtifact{URI: "stdin"}, ref.Line
	}
	p := ref.File
	if !filepath.IsAbs(p) && base != "" {
		p = filepath.Join(base, p)
	}
	p = filepath.Clean(p)
	if base != "" {
		if rel, err := filepath.Rel(base, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return sarifArtifact{URI: relativeURI(rel), URIBaseID: srcRoot}, ref.Line
		}
	}
	if !filepath.IsAbs(p) { // no base to resolve it against
		return sarifArtifact{URI: relativeURI(p)}, ref.Line
	}
	return sarifArtifact{URI: fileURI(p)}, ref.Line
}

// relativeURI is a relative path as a URI reference: slashes, escaped.
func relativeURI(p string) string {
	return (&url.URL{Path: filepath.ToSlash(filepath.Clean(p))}).EscapedPath()
}

// fileURI is an absolute path as a file:// URI.
func fileURI(p string) string {
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // C:/x on Windows
	}
	return (&url.URL{Scheme: "file", Path: p}).String()
}

// WriteSARIF writes the report as a SARIF 2.1.0 log.
func (r *Report) WriteSARIF(w io.Writer, opts SARIFOptions) error {
	driver := sarifDriver{Name: "graceful check", InformationURI: "https://github.com/graceful-dev/graceful", Version: opts.Version}
	index := map[string]int{}
	for i, rule := range Rules {
		index[rule.Code] = i
		driver.Rules = append(driver.Rules, sarifRule{ID: rule.Code,
			ShortDescription: sarifText{rule.Short}, FullDescription: sarifText{rule.Full}, Help: sarifText{rule.Full},
			DefaultConfiguration: sarifDefault{sarifLevel(rule.Level)}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	if opts.BaseDir != "" && filepath.IsAbs(opts.BaseDir) {
		run.OriginalURIBaseIDs = map[string]sarifArtifact{srcRoot: {URI: strings.TrimSuffix(fileURI(opts.BaseDir), "/") + "/"}}
	}
	for _, res := range r.Results {
		art, objLine := artifact(res.Ref, opts.BaseDir)
		for _, f := range res.Findings {
			msg := objectName(res.Ref) + ": " + f.Message
			if f.Proposed != "" {
				msg += ". Fix (graceful render): " + f.Proposed
			}
			phys := sarifPhysical{ArtifactLocation: art}
			if line := f.Line; objLine > 0 && line > 0 {
				phys.Region = &sarifRegion{StartLine: line}
			} else if objLine > 0 {
				phys.Region = &sarifRegion{StartLine: objLine}
			}
			run.Results = append(run.Results, sarifResult{RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity),
				Message: sarifText{msg}, Locations: []sarifLocation{{PhysicalLocation: phys,
					LogicalLocations: []sarifLogical{{FullyQualifiedName: objectName(res.Ref) + "/" + f.Field, Kind: "object"}}}}})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}})
}
