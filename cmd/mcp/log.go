package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/lmittmann/tint"
	"golang.org/x/term"
)

// setupLogging installs the process-wide slog logger: tint (colour) on a
// terminal, JSON otherwise, unless format says which.
func setupLogging(format, level string, w io.Writer) error {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	tty := isTerminal(w)
	var h slog.Handler
	switch strings.ToLower(format) {
	case "":
		if tty {
			h = tint.NewHandler(w, &tint.Options{Level: lvl})
		} else {
			h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl})
		}
	case "text":
		h = tint.NewHandler(w, &tint.Options{Level: lvl, NoColor: !tty})
	case "json":
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl})
	default:
		return fmt.Errorf("--log-format %q: want text or json", format)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

// isTerminal reports whether w is a terminal, which decides colour.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
