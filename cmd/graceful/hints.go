package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/graceful-dev/graceful/internal/suggest"
)

// flagError adds a hint to an unknown flag. On the root it is most often a
// Helm 3 post-renderer call that forgot `--post-renderer-args render`; on a
// command, a typo of one of its flags.
func flagError(args []string) func(*cobra.Command, error) error {
	return func(cmd *cobra.Command, err error) error {
		var unknown *pflag.NotExistError
		if !errors.As(err, &unknown) || unknown.GetSpecifiedName() == "" {
			return err
		}
		name := unknown.GetSpecifiedName()
		root := cmd.Root()
		if cmd == root {
			if render, _, findErr := root.Find([]string{"render"}); findErr == nil && render.Flags().Lookup(name) != nil {
				return fmt.Errorf("%w; did you mean `%s render %s`? (Helm 3: pass --post-renderer-args render first)",
					err, root.CommandPath(), strings.Join(args, " "))
			}
			return fmt.Errorf("%w\nRun '%s --help' for the commands", err, root.CommandPath())
		}
		var known []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				known = append(known, f.Name)
			}
		})
		msg := err.Error()
		if s := suggest.Nearest(name, known); s != "" {
			msg += "; did you mean --" + s + "?"
		}
		return fmt.Errorf("%s\nSee '%s --help' for its flags", msg, cmd.CommandPath())
	}
}

// strictCompletion makes `graceful completion SHELL` fail on an unknown
// shell: cobra prints the help and exits 0, so `source <(graceful completion
// bsh)` would source help text.
func strictCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	completion, _, err := root.Find([]string{"completion"})
	if err != nil || completion == root {
		return
	}
	var shells []string
	for _, c := range completion.Commands() {
		shells = append(shells, c.Name())
	}
	completion.Args = cobra.ArbitraryArgs
	completion.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		return fmt.Errorf("completion: unknown shell %q: want one of %s", args[0], strings.Join(shells, ", "))
	}
}
