package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/render"
)

// renderOptions are the flags of `graceful render`.
type renderOptions struct {
	profile         string
	configFile      string
	providers       []string
	kubeVersion     string
	stopSignalField bool
	replacePreStop  bool
	inPlace         bool
	quiet           bool
	paths           []string
}

func newRenderCmd() *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render [PATH|-]...",
		Short: "Rewrite manifests from files, directories or stdin to stdout",
		Long: `Rewrite Kubernetes manifests so that their workloads shut down gracefully.

PATH is a file or a directory (read recursively: .yaml, .yml, .json); "-" or no
PATH reads stdin. The result goes to stdout, or back into the files with
--in-place. A short summary of what changed goes to stderr (--quiet silences it).

As a Helm 3 post-renderer:
  helm template my-release ./chart --post-renderer ./bin/graceful \
    --post-renderer-args render --post-renderer-args --profile=nginx`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.paths = args
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	o.addSelectionFlags(f)
	f.BoolVar(&o.inPlace, "in-place", false, "write the result back into the files")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary on stderr")
	return cmd
}

func (o *renderOptions) renderer() (*render.Renderer, error) {
	opts := render.Options{
		Profile:         o.profile,
		KubeVersion:     o.kubeVersion,
		Providers:       o.providers,
		StopSignalField: o.stopSignalField,
		ReplacePreStop:  o.replacePreStop,
	}
	if o.configFile != "" {
		data, err := os.ReadFile(o.configFile)
		if err != nil {
			return nil, err
		}
		if opts.Config, err = render.ParseConfig(data); err != nil {
			return nil, fmt.Errorf("config %s: %w", o.configFile, err)
		}
	}
	return render.New(opts)
}

func (o *renderOptions) run(stdin io.Reader, stdout, stderr io.Writer) error {
	r, err := o.renderer()
	if err != nil {
		return err
	}
	inputs, err := readInputs(o.paths, stdin)
	if err != nil {
		return err
	}
	limitMemory(inputs)
	if o.inPlace {
		for _, in := range inputs {
			if in.Name == "" {
				return fmt.Errorf("--in-place needs files, not stdin")
			}
		}
	}
	outputs, report, err := r.Render(inputs)
	if err != nil {
		return err
	}
	// Everything is rendered before anything is written: an error leaves no
	// half-written output behind.
	if o.inPlace {
		for _, out := range outputs {
			if out.Changed {
				if err := writeFileKeepMode(out.Name, out.Bytes()); err != nil {
					return err
				}
			}
		}
	} else if err := writeOutputs(stdout, outputs); err != nil {
		return err
	}
	if !o.quiet {
		report.WriteSummary(stderr)
	}
	return nil
}

// readInputs reads the files and directories named, or stdin.
func readInputs(paths []string, stdin io.Reader) ([]render.Input, error) {
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var inputs []render.Input
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			inputs = append(inputs, render.Input{Data: data})
			continue
		}
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || (path != p && !isManifestFile(path)) {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			inputs = append(inputs, render.Input{Name: path, Data: data})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return inputs, nil
}

// limitMemory asks the Go runtime to collect harder as the heap nears ten
// times the input (graceful's memory budget), unless GOMEMLIMIT says otherwise.
// It costs no time on typical streams: the live heap stays well below.
func limitMemory(inputs []render.Input) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	size := int64(0)
	for _, in := range inputs {
		size += int64(len(in.Data))
	}
	debug.SetMemoryLimit(max(10*size, 32<<20))
}

func isManifestFile(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// writeOutputs writes rendered inputs as one stream; a file that does not
// start a document gets a `---` so documents do not run together.
func writeOutputs(w io.Writer, outputs []render.Output) error {
	for i := range outputs {
		out := &outputs[i]
		if i > 0 {
			sep := ""
			if !outputs[i-1].EndsLine() {
				sep = "\n"
			}
			if !out.StartsDocument() {
				sep += "---\n"
			}
			if _, err := io.WriteString(w, sep); err != nil {
				return err
			}
		}
		if _, err := out.WriteTo(w); err != nil {
			return err
		}
	}
	return nil
}

func writeFileKeepMode(path string, data []byte) error {
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp := path + ".graceful-tmp"
	if err := os.WriteFile(tmp, data, info.Mode().Perm()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
