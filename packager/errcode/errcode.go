// Package errcode carries the packager manual's numeric error codes and renders failures as the
// manual's XML report block.
package errcode

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Code is one of the manual's result codes. The numbers are a contract with scripts that read
// the CLI's exit report, so they never change.
type Code int

// The manual's codes (packager manual, section 4).
const (
	OK               Code = 0
	NoArguments      Code = 1101
	InvalidArgument  Code = 1102
	ArgumentCount    Code = 1103
	FileNotFound     Code = 1201
	FileAccess       Code = 1202
	CreateTooDeep    Code = 1203
	CreateNameLong   Code = 1204
	CreateNoSpace    Code = 1205
	MoveFailed       Code = 1206
	SizeUnreadable   Code = 1207
	RequestFailed    Code = 2001
	ServerError      Code = 2002
	InvalidBlockSize Code = 2003
	NoPrivateKey     Code = 2004
	InvalidKey       Code = 2005
	Unexpected       Code = -1
)

var messages = map[Code]string{
	OK:               "Success.",
	NoArguments:      "No arguments were given to the command.",
	InvalidArgument:  "An invalid argument was given. (See INFO.)",
	ArgumentCount:    "The number of arguments after the command is wrong.",
	FileNotFound:     "The file is not at the given path.",
	FileAccess:       "The file cannot be accessed. (permission / file name)",
	CreateTooDeep:    "Failed to create a file or folder. (the path is too deep)",
	CreateNameLong:   "Failed to create a file or folder. (the name is too long)",
	CreateNoSpace:    "Failed to create a file or folder. (not enough space)",
	MoveFailed:       "Failed to move the file to its destination.",
	SizeUnreadable:   "Failed to read the file size.",
	RequestFailed:    "Sending the request to the server failed.",
	ServerError:      "The server returned an error. (See INFO.)",
	InvalidBlockSize: "Invalid block size.",
	NoPrivateKey:     "There is no private key.",
	InvalidKey:       "The private key is invalid.",
	Unexpected:       "An unexpected error occurred.",
}

// Message is the manual's ERRORMSG text for c.
func (c Code) Message() string {
	if m, ok := messages[c]; ok {
		return m
	}
	return messages[Unexpected]
}

// Error is a failure with a manual code. Info explains this occurrence to a person; it must never
// contain key material. Where and Stack record the Go function that raised it.
type Error struct {
	Code  Code
	Info  string
	Where string   // "function (file:line)"
	Stack []string // callers, innermost first
	Err   error    // underlying cause, if any (its text is already part of Info)
}

func (e *Error) Error() string {
	if e.Info == "" {
		return fmt.Sprintf("%d: %s", e.Code, e.Code.Message())
	}
	return fmt.Sprintf("%d: %s", e.Code, e.Info)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with code c and a formatted INFO, recording the caller as WHERE.
func New(c Code, format string, args ...any) *Error {
	e := &Error{Code: c, Info: fmt.Sprintf(format, args...)}
	e.record(2)
	return e
}

// Wrap returns an Error with code c whose INFO is the context followed by err's text. If err
// already is an *Error it is returned unchanged: the innermost code is the most precise one.
func Wrap(c Code, err error, context string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	info := err.Error()
	if context != "" {
		info = context + ": " + info
	}
	e = &Error{Code: c, Info: info, Err: err}
	e.record(2)
	return e
}

// From converts any error to an *Error, keeping a coded one and classing the rest as Unexpected.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	e = &Error{Code: Unexpected, Info: err.Error(), Err: err}
	e.record(2)
	return e
}

// CodeOf returns the code of err: OK for nil, the carried code for an *Error, else Unexpected.
func CodeOf(err error) Code {
	if err == nil {
		return OK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Unexpected
}

func (e *Error) record(skip int) {
	pcs := make([]uintptr, 16)
	n := runtime.Callers(skip+1, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if e.Where == "" {
			e.Where = fmt.Sprintf("%s (%s:%d)", shortFunc(f.Function), shortFile(f.File), f.Line)
		}
		if strings.HasPrefix(f.Function, "runtime.") || strings.HasPrefix(f.Function, "testing.") {
			break
		}
		e.Stack = append(e.Stack, shortFunc(f.Function))
		if !more {
			break
		}
	}
}

// shortFunc keeps the package name and function: "drmpack/packager/dash.(*writer).run" → "dash.(*writer).run".
func shortFunc(fn string) string {
	if i := strings.LastIndex(fn, "/"); i >= 0 {
		return fn[i+1:]
	}
	return fn
}

// shortFile keeps the last directory and file name, enough to find the line in this repository.
func shortFile(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) > 2 {
		parts = parts[len(parts)-2:]
	}
	return strings.Join(parts, "/")
}
