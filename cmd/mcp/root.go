package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"mcp.dev/mcp/internal/version"
)

// envPrefix is the prefix of the environment variable of every flag:
// --git-password-file is read from MCP_GIT_PASSWORD_FILE.
const envPrefix = "MCP_"

// globalOptions are the flags every command has.
type globalOptions struct {
	logFormat string
	logLevel  string
}

func newRootCmd() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:   "mcp",
		Short: "GitOps for many Kubernetes clusters from one config repo",
		Long: `mcp renders the desired state of every cluster described in a config repo,
diffs it against what each cluster holds, applies the difference to all
clusters concurrently and writes what happened back to the repo.

Every flag can also be set by an environment variable: MCP_<FLAG>, upper
case, with "-" as "_" (for example MCP_LOG_LEVEL=debug).`,
		// --version prints what "mcp version" prints.
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), os.LookupEnv); err != nil {
				return err
			}
			return setupLogging(g.logFormat, g.logLevel, os.Stderr)
		},
	}
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "", `log format: "text" or "json" (default: text with colour on a terminal, JSON otherwise)`)
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn or error")

	root.SetVersionTemplate("{{.Version}}\n")
	root.InitDefaultVersionFlag() // now, so that help lists it
	root.Flags().Lookup("version").Usage = "print the version, commit and Go version, as mcp version does"
	root.AddCommand(newVersionCmd())
	addCommands(root)
	return root
}

// addCommands registers the commands beyond version; each lives in its own
// file and is only added once it works.
func addCommands(root *cobra.Command) {
	root.AddCommand(newRenderCmd())
	root.AddCommand(newValidateCmd())
	root.AddCommand(newDiffCmd())
	root.AddCommand(newApplyCmd())
	root.AddCommand(newRunCmd())
	root.AddCommand(newClusterCmd())
}

// applyEnv sets every flag that was not given on the command line from its
// MCP_* environment variable. Flags win over the environment.
func applyEnv(flags *pflag.FlagSet, lookup func(string) (string, bool)) error {
	var errs []error
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		name := envName(f.Name)
		v, ok := lookup(name)
		if !ok {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			// Repeatable flags take a comma-separated list.
			if err := sv.Replace(splitList(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			f.Changed = true
			return
		}
		if err := flags.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

// envName is the environment variable read for a flag.
func envName(flag string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
