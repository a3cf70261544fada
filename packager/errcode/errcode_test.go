package errcode

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestReportShape(t *testing.T) {
	e := New(ServerError, "server said <fail> & \"stop\"")
	r := e.Report()
	lines := strings.Split(strings.TrimSpace(r), "\n")
	if lines[0] != `<?xml version="1.0" encoding="UTF-8"?>` || lines[1] != "<PallyconPackager>" {
		t.Fatalf("report starts %q", lines[:2])
	}
	want := []string{"<RESULT>2002</RESULT>", "<ERRORMSG>The server returned an error. (See INFO.)</ERRORMSG>",
		`<INFO>server said &lt;fail&gt; &amp; "stop"</INFO>`}
	for i, w := range want {
		if lines[2+i] != w {
			t.Fatalf("line %d = %q, want %q", 2+i, lines[2+i], w)
		}
	}
	if !strings.HasPrefix(lines[5], "<WHERE>errcode.TestReportShape (errcode/errcode_test.go:") {
		t.Fatalf("WHERE %q does not name this test", lines[5])
	}
	if lines[6] != "</PallyconPackager>" || lines[7] != "<STACKTRACE>" || lines[len(lines)-1] != "</STACKTRACE>" {
		t.Fatalf("report ends %q", lines[6:])
	}
	// The block is two well-formed XML elements, as the manual shows them.
	dec := xml.NewDecoder(strings.NewReader(strings.SplitN(r, "\n", 2)[1]))
	roots := 0
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	if roots != 2 {
		t.Fatalf("%d top-level elements, want PallyconPackager and STACKTRACE", roots)
	}
}

func TestWrapKeepsInnermostCode(t *testing.T) {
	inner := New(FileNotFound, "gone")
	outer := Wrap(Unexpected, fmt.Errorf("context: %w", inner), "more")
	if outer != inner || CodeOf(outer) != FileNotFound {
		t.Fatalf("Wrap replaced a coded error: %v", outer)
	}
	plain := errors.New("disk full")
	w := Wrap(CreateNoSpace, plain, "write segment")
	if w.Code != CreateNoSpace || w.Info != "write segment: disk full" || !errors.Is(w, plain) {
		t.Fatalf("Wrap = %+v", w)
	}
	if CodeOf(nil) != OK || CodeOf(plain) != Unexpected || From(plain).Code != Unexpected {
		t.Fatal("CodeOf/From on plain errors")
	}
}

func TestEveryCodeHasAMessage(t *testing.T) {
	for _, c := range []Code{OK, NoArguments, InvalidArgument, ArgumentCount, FileNotFound, FileAccess, CreateTooDeep,
		CreateNameLong, CreateNoSpace, MoveFailed, SizeUnreadable, RequestFailed, ServerError, InvalidBlockSize,
		NoPrivateKey, InvalidKey, Unexpected} {
		if _, ok := messages[c]; !ok {
			t.Errorf("code %d has no ERRORMSG", c)
		}
	}
	if Code(4242).Message() != messages[Unexpected] {
		t.Error("an unknown code should read as the unexpected-error message")
	}
}
