package errcode

import (
	"strconv"
	"strings"
)

// textEscaper escapes what XML character data requires and nothing more, so INFO stays readable
// in a log view (quotes are legal in text).
var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Report renders e as the manual's log block: the <PallyconPackager> element with RESULT,
// ERRORMSG, INFO and WHERE, followed by a STACKTRACE element (the manual puts it after the root
// element, and tools that scrape the old packager's logs expect that shape).
func (e *Error) Report() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<PallyconPackager>\n")
	element(&b, "RESULT", strconv.Itoa(int(e.Code)))
	element(&b, "ERRORMSG", e.Code.Message())
	element(&b, "INFO", e.Info)
	element(&b, "WHERE", e.Where)
	b.WriteString("</PallyconPackager>\n")
	b.WriteString("<STACKTRACE>\n")
	for _, fn := range e.Stack {
		b.WriteString(" from " + textEscaper.Replace(fn) + "\n")
	}
	b.WriteString("</STACKTRACE>\n")
	return b.String()
}

func element(b *strings.Builder, name, text string) {
	b.WriteString("<" + name + ">" + textEscaper.Replace(text) + "</" + name + ">\n")
}
