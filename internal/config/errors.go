package config

import (
	"errors"
	"fmt"
	"strconv"
)

// FieldError is one problem with a topology, found while decoding or
// validating. Parse, Load and Validate return one FieldError per problem,
// joined with errors.Join; use errors.As, or Unwrap() []error on the joined
// error, to inspect them.
type FieldError struct {
	// File is the topology file's path, set by Load.
	File string
	// Line is the 1-based line in the file, when known.
	Line int
	// Path is the key path, e.g. "vpcEndpoints[1].vpc"; "" for the whole
	// document.
	Path string
	// Msg says what is wrong.
	Msg string
}

// Error formats the error as "[file:][line:] path: msg"; without a file the
// line is written "line N: ".
func (e *FieldError) Error() string {
	var b []byte
	switch {
	case e.File != "" && e.Line > 0:
		b = fmt.Appendf(b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b = append(b, e.File+": "...)
	case e.Line > 0:
		b = append(b, "line "+strconv.Itoa(e.Line)+": "...)
	}
	if e.Path != "" {
		b = append(b, e.Path+": "...)
	}
	return string(append(b, e.Msg...))
}

// fieldErrors collects FieldErrors.
type fieldErrors struct {
	list []*FieldError
}

func (fe *fieldErrors) add(path, format string, args ...any) {
	fe.list = append(fe.list, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// err joins the collected errors; nil if there are none.
func (fe *fieldErrors) err() error {
	if len(fe.list) == 0 {
		return nil
	}
	errs := make([]error, len(fe.list))
	for i, e := range fe.list {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// field joins a key to a parent path.
func field(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// index appends a list index to a path.
func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
