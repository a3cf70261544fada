// Package dims implements the media server manual's DIMS image commands (crop, thumbnail, resize, format, quality, optimize, composite, byoriginal, firstframeonly) in pure Go.
package dims

import (
	"fmt"
)

// Reason is one of the manual's four DIMS failures.
type Reason int

// The manual's failures, in the order it lists them.
const (
	NotDownloaded Reason = iota // the original could not be read completely
	TooLarge                    // the original is larger than MaxSourceSize
	LoadFailed                  // the original's image data cannot be decoded (or is a decompression bomb)
	ConvertFailed               // a bad command, an unknown preset or an unsupported image
)

// sentences are the 500 response bodies, verbatim from the manual (OnFailure="message").
var sentences = [...]string{
	NotDownloaded: "The original file was not successfully downloaded.",
	TooLarge:      "The original file size is too large.",
	LoadFailed:    "The original file loading failed.",
	ConvertFailed: "Image converting failed or invalid DIMS command.",
}

// Sentence is the manual's text for r.
func (r Reason) Sentence() string { return sentences[r] }

// Error is a DIMS failure. Error() is exactly the manual's sentence, which is what a client may
// see; Detail says why, for logs only. All four failures fall under OnFailure: a server answers
// 500 with the sentence when OnFailure is "message", or 302 to the original when it is
// "redirect" (Redirect is set from the configuration that was in force).
type Error struct {
	Reason   Reason
	Detail   string
	Redirect bool
}

func (e *Error) Error() string { return e.Reason.Sentence() }

func failf(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}
