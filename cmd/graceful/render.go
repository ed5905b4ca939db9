package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/graceful-dev/graceful/render"
	"github.com/graceful-dev/graceful/transformers"
)

// renderOptions are the flags of `graceful render`.
type renderOptions struct {
	profile         string
	configFile      string
	profileFiles    []string
	providers       []string
	kubeVersion     string
	stopSignalField bool
	replacePreStop  bool
	pdb             bool
	inPlace         bool
	quiet           bool
	strict          bool
	// helmPlugin: run by Helm 4 as a post-renderer plugin (plugin.yaml
	// passes the flag), where the manifests come on stdin.
	helmPlugin bool
	paths      []string
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
    --post-renderer-args render --post-renderer-args --profile=nginx

Helm shows graceful's stderr only when it fails, never the warnings: add
--post-renderer-args --strict to make them fail the release.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := o.positional(args)
			if err != nil {
				return err
			}
			o.paths = paths
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	o.addSelectionFlags(f)
	f.BoolVar(&o.inPlace, "in-place", false, "write the result back into the files")
	f.BoolVar(&o.pdb, "pdb", false, "add a PodDisruptionBudget (maxUnavailable: 1) after each profiled Deployment or StatefulSet of more than one replica that none selects")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "do not print the summary on stderr")
	f.BoolVar(&o.strict, "strict", false, "fail (exit 3, nothing written) when there is any warning: Helm and kustomize show no warnings")
	f.BoolVar(&o.helmPlugin, helmPluginFlag, false, "set by plugin.yaml: running as a Helm 4 post-renderer, manifests on stdin")
	_ = f.MarkHidden(helmPluginFlag)
	_ = cmd.RegisterFlagCompletionFunc("profile", completeProfile)
	_ = cmd.RegisterFlagCompletionFunc("provider", completeList(transformers.ProviderNames()))
	_ = cmd.RegisterFlagCompletionFunc("kube-version", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"1.29", "1.30", "1.31", "1.32", "1.33", "1.34"}, cobra.ShellCompDirectiveNoFileComp
	})
	_ = cmd.RegisterFlagCompletionFunc("config", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
	})
	return cmd
}

const helmPluginFlag = "helm-plugin"

// completeList completes a comma-separated list: after "aws," it offers
// "aws,alibaba" and so on.
func completeList(names []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
		prefix := ""
		if i := strings.LastIndexByte(typed, ','); i >= 0 {
			prefix = typed[:i+1]
		}
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = prefix + n
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}

// positional checks the paths. Under Helm 4 the plugin already runs
// `graceful render`, so the Helm 3 habit `--post-renderer-args render`
// arrives as a path named render: it is skipped. Any other path is an error,
// as a post-renderer reads its manifests from stdin.
func (o *renderOptions) positional(args []string) ([]string, error) {
	if !o.helmPlugin {
		return args, nil
	}
	var paths []string
	for _, a := range args {
		if a != "render" && a != "-" {
			paths = append(paths, a)
		}
	}
	if len(paths) > 0 {
		return nil, fmt.Errorf("as a Helm post-renderer graceful reads the manifests from stdin; remove %q from --post-renderer-args (pass only flags, like --post-renderer-args --profile=nginx)", strings.Join(paths, " "))
	}
	return nil, nil
}

func (o *renderOptions) renderer() (*render.Renderer, error) {
	opts, err := o.options()
	if err != nil {
		return nil, err
	}
	return render.New(opts)
}

// options are the flags as render's options, with the --config file read.
func (o *renderOptions) options() (render.Options, error) {
	opts := render.Options{
		Profile:         o.profile,
		KubeVersion:     o.kubeVersion,
		Providers:       o.providers,
		StopSignalField: o.stopSignalField,
		ReplacePreStop:  o.replacePreStop,
		Strict:          o.strict,
		PDB:             o.pdb,
	}
	var err error
	opts.Catalog, opts.Config, err = loadSelection(o.profileFiles, o.configFile)
	return opts, err
}

func (o *renderOptions) run(stdin io.Reader, stdout, stderr io.Writer) error {
	r, err := o.renderer()
	if err != nil {
		return err
	}
	inputs, err := readInputs(o.paths, stdin, "render")
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
// command (render, patches) is named in hints.
func readInputs(paths []string, stdin io.Reader, command string) ([]render.Input, error) {
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
		before := len(inputs)
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return pathError(path, err)
			}
			if d.Name() == "Chart.yaml" && path != p {
				dir := filepath.Dir(path)
				return fmt.Errorf("%s is a Helm chart: render it first, e.g. `helm template NAME %s | graceful %s -`", dir, dir, command)
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
		if err := hasDocuments(p, inputs[before:]); err != nil {
			return nil, err
		}
	}
	return inputs, nil
}

// hasDocuments rejects a path that yields no manifests: a typo in a path
// must not pass for a chart with nothing to change.
func hasDocuments(p string, inputs []render.Input) error {
	if len(inputs) == 0 {
		return fmt.Errorf("%s: no manifests there (no .yaml, .yml or .json files)", p)
	}
	for _, in := range inputs {
		if render.HasDocuments(in.Data) {
			return nil
		}
	}
	if len(inputs) == 1 && inputs[0].Name == p {
		return fmt.Errorf("%s: the file holds no documents", p)
	}
	return fmt.Errorf("%s: none of its %d manifest files holds a document", p, len(inputs))
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

// pathError says "PATH: no such file or directory" rather than Go's "lstat PATH: ...".
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return err
}

// writeFileKeepMode replaces a file atomically, keeping its mode. A symlink
// is written through: its target changes, the link stays.
func writeFileKeepMode(path string, data []byte) error {
	path, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
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
