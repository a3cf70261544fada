package demux

import "testing"

func TestLanguageTag(t *testing.T) {
	for in, want := range map[string]string{"kor": "ko", "eng": "en", "ger": "de", "deu": "de", "fil": "fil", "und": "", "": ""} {
		if got := languageTag(in); got != want {
			t.Errorf("languageTag(%q) = %q, want %q", in, got, want)
		}
	}
}
