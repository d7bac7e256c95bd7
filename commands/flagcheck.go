package commands

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/urfave/cli/v2"
)

// minInt is the smallest value each integer flag takes; flags not named
// here take any value their command accepts.
var minInt = map[string]int{"max-pending": 1, "max-args": 1, "max-keys": 1, "top": 0}

// checkFlagValues is every command's Before: one rule per kind of flag,
// so that no command takes a value that means nothing. A duration given
// must be positive, a string given must not be empty (an empty -o would
// silently mean "no file"), and the integers of minInt must reach it.
func checkFlagValues(c *cli.Context) error {
	if c.Command == nil {
		return nil
	}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if !c.IsSet(name) {
			continue
		}
		switch f.(type) {
		case *cli.DurationFlag:
			if d := c.Duration(name); d <= 0 {
				return &exitError{code: 2, err: fmt.Errorf("--%s %s: want a positive duration, e.g. 5s or 500ms", name, d)}
			}
		case *cli.StringFlag:
			if c.String(name) == "" {
				return &exitError{code: 2, err: fmt.Errorf("--%s: the value is empty", name)}
			}
		case *cli.IntFlag:
			if m, ok := minInt[name]; ok && c.Int(name) < m {
				return &exitError{code: 2, err: fmt.Errorf("--%s %d: want at least %d", name, c.Int(name), m)}
			}
		}
	}
	return nil
}

// flagParseRE matches the flag package's error for a value it cannot parse.
var flagParseRE = regexp.MustCompile(`^invalid value "([^"]*)" for flag -([A-Za-z0-9-]+): parse error$`)

// explainFlagError adds what a value needs to the flag package's bare
// "parse error": a duration given as a plain number lacks its unit.
func explainFlagError(app *cli.App, err error) error {
	m := flagParseRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	for _, cmd := range app.Commands {
		for _, f := range cmd.Flags {
			if _, ok := f.(*cli.DurationFlag); !ok {
				continue
			}
			for _, n := range f.Names() {
				if n != m[2] {
					continue
				}
				if _, perr := strconv.ParseFloat(m[1], 64); perr == nil {
					return &exitError{code: 2, err: fmt.Errorf("-%s %s: a duration needs a unit, e.g. %ss or %sms", m[2], m[1], m[1], m[1])}
				}
				return &exitError{code: 2, err: fmt.Errorf("-%s %q: not a duration; want e.g. 5s, 500ms, 2m", m[2], m[1])}
			}
		}
	}
	return &exitError{code: 2, err: errors.Unwrap(err)}
}
