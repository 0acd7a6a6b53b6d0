package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// normalizeArgs reorders a command line so that urfave/cli v2 reads every
// flag wherever people type it. Left alone, v2 stops reading flags at the
// first positional argument (`otapub verify v1.2.0 --require x` would take
// "--require" as an argument) and knows app-level flags only before the
// subcommand (`otapub serve --repo o/r` would fail). This moves app-level
// flags before the subcommand and the subcommand's flags before its
// arguments, keeping every value with its flag; "--" ends flag reading as
// usual.
func normalizeArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	global := valueFlags(app.Flags)
	globals, rest := splitFlags(args[1:], global, nil, true)
	if len(rest) == 0 {
		return args
	}
	cmd := app.Command(rest[0])
	if cmd == nil {
		return args // let urfave/cli say what is wrong
	}
	own := valueFlags(cmd.Flags)
	var positional []string
	cmdFlags, positional := splitFlags(rest[1:], own, global, false)
	// Flags of the app that came after the subcommand go back before it.
	var moved []string
	cmdFlags, moved = partition(cmdFlags, global, own)
	out := append([]string{args[0]}, globals...)
	out = append(out, moved...)
	out = append(out, rest[0])
	out = append(out, cmdFlags...)
	if len(positional) > 0 {
		out = append(out, "--")
		out = append(out, positional...)
	}
	return out
}

// checkCommand fails for a subcommand otapub does not have; urfave/cli v2
// would only print a suggestion and exit 0.
func checkCommand(app *cli.App, args []string) error {
	if len(args) < 2 {
		return nil
	}
	_, rest := splitFlags(args[1:], valueFlags(app.Flags), nil, true)
	if len(rest) == 0 || rest[0] == "--" || rest[0] == "help" || app.Command(rest[0]) != nil {
		return nil
	}
	names := make([]string, 0, len(app.Commands))
	for _, c := range app.Commands {
		names = append(names, c.Name)
	}
	return usageError{fmt.Errorf("unknown command %q: otapub has %s", rest[0], strings.Join(names, ", "))}
}

// flagArity maps each name and alias of a flag to whether it takes a value.
type flagArity map[string]bool

func valueFlags(flags []cli.Flag) flagArity {
	m := flagArity{}
	for _, f := range flags {
		takes := true
		if d, ok := f.(cli.DocGenerationFlag); ok {
			takes = d.TakesValue()
		}
		for _, n := range f.Names() {
			m[n] = takes
		}
	}
	return m
}

// flagName returns the name in "-x", "--name" or "--name=value", and
// whether the value is attached.
func flagName(arg string) (name string, attached bool) {
	name = strings.TrimLeft(arg, "-")
	name, _, attached = strings.Cut(name, "=")
	return name, attached
}

func isFlag(arg string) bool { return len(arg) > 1 && arg[0] == '-' && arg != "--" }

// splitFlags separates flags (with their values) from other arguments.
// With stopAtFirst it stops at the first non-flag (the subcommand).
// Flags known to neither a nor b are kept as flags without a value, so
// urfave/cli can report them.
func splitFlags(args []string, a, b flagArity, stopAtFirst bool) (flags, rest []string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if stopAtFirst {
				return flags, args[i:]
			}
			return flags, append(rest, args[i+1:]...)
		}
		if !isFlag(arg) {
			if stopAtFirst {
				return flags, args[i:]
			}
			rest = append(rest, arg)
			continue
		}
		flags = append(flags, arg)
		name, attached := flagName(arg)
		takes, known := a[name]
		if !known {
			takes = b[name]
		}
		if takes && !attached && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, rest
}

// partition moves flags that only global knows (and their values) out of flags.
func partition(flags []string, global, own flagArity) (keep, moved []string) {
	for i := 0; i < len(flags); i++ {
		name, attached := flagName(flags[i])
		_, mine := own[name]
		takes, isGlobal := global[name]
		n := 1
		if takes && !attached && i+1 < len(flags) {
			n = 2
		}
		if isGlobal && !mine {
			moved = append(moved, flags[i:i+n]...)
		} else {
			keep = append(keep, flags[i:i+n]...)
		}
		i += n - 1
	}
	return keep, moved
}
