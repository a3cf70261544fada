package mpd

import "testing"

func TestSelfCloseEmpty(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<A></A>`, `<A/>`},
		{`<A x="1"></A>`, `<A x="1"/>`},
		{`<A><B x="&gt;&lt;/B&gt;"></B></A>`, `<A><B x="&gt;&lt;/B&gt;"/></A>`},
		{`<A><B></B><C></C></A>`, `<A><B/><C/></A>`},
		{`<A>text</A>`, `<A>text</A>`},
		{`<AB></A>`, `<AB></A>`}, // not a pair; left alone
		{`<cenc:pssh></cenc:pssh>`, `<cenc:pssh/>`},
		{"<A>\n  <B></B>\n</A>", "<A>\n  <B/>\n</A>"},
		{`</B></A>`, `</B></A>`},
		{`></`, `></`},
		{``, ``},
	}
	for _, tc := range tests {
		if got := string(selfCloseEmpty([]byte(tc.in))); got != tc.want {
			t.Errorf("selfCloseEmpty(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
