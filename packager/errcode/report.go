package errcode

import (
	"encoding/xml"
	"strconv"
	"strings"
)

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
		b.WriteString(" from ")
		xml.EscapeText(&b, []byte(fn))
		b.WriteString("\n")
	}
	b.WriteString("</STACKTRACE>\n")
	return b.String()
}

func element(b *strings.Builder, name, text string) {
	b.WriteString("<" + name + ">")
	xml.EscapeText(b, []byte(text))
	b.WriteString("</" + name + ">\n")
}
