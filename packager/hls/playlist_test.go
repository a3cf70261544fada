package hls

import (
	"strings"
	"testing"
)

func TestMediaPlaylistVersions(t *testing.T) {
	segs := []segmentEntry{{"0.ts", 9.96}, {"1.ts", 10.5}, {"2.ts", 3.2}}
	v3 := mediaPlaylist(segs, 0, 3, keyTag{}, "")
	want := "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:11\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXTINF:9.960,\n0.ts\n#EXTINF:10.500,\n1.ts\n#EXTINF:3.200,\n2.ts\n#EXT-X-ENDLIST\n"
	if v3 != want {
		t.Fatalf("version 3:\n%s\nwant\n%s", v3, want)
	}
	v1 := mediaPlaylist(segs, 7, 1, keyTag{}, "")
	want = "#EXTM3U\n#EXT-X-TARGETDURATION:11\n#EXT-X-MEDIA-SEQUENCE:7\n#EXT-X-PLAYLIST-TYPE:VOD\n" +
		"#EXTINF:10,\n0.ts\n#EXTINF:11,\n1.ts\n#EXTINF:3,\n2.ts\n#EXT-X-ENDLIST\n"
	if v1 != want {
		t.Fatalf("version 1:\n%s\nwant\n%s", v1, want)
	}
}

func TestKeyTags(t *testing.T) {
	iv := []byte{0xDA, 0x9B, 0xB2, 0x1E, 0x32, 0xEC, 0x5E, 0x7A, 0x3C, 0xDB, 0x3C, 0xED, 0x78, 0x4C, 0x28, 0x41}
	fairplay := keyTag{Method: "SAMPLE-AES", URI: "skd://Eup1PCPnvAJEdLK5dsQ76w==", IV: iv, KeyFormat: FairPlayKeyFormat}
	segs := []segmentEntry{{"0.ts", 4}}
	for _, ver := range []int{1, 3} {
		p := mediaPlaylist(segs, 0, ver, fairplay, "")
		if !strings.Contains(p, "#EXT-X-VERSION:5\n") ||
			!strings.Contains(p, `#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://Eup1PCPnvAJEdLK5dsQ76w==",IV=0xDA9BB21E32EC5E7A3CDB3CED784C2841,KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`+"\n") {
			t.Fatalf("version %d FairPlay playlist:\n%s", ver, p)
		}
	}
	// AES-128 with the sequence number as IV adds nothing to version 1; an explicit IV needs 2.
	if p := mediaPlaylist(segs, 0, 1, keyTag{Method: "AES-128", URI: "k.bin"}, ""); strings.Contains(p, "VERSION") || !strings.Contains(p, `#EXT-X-KEY:METHOD=AES-128,URI="k.bin"`+"\n") {
		t.Fatalf("AES-128 version 1:\n%s", p)
	}
	if p := mediaPlaylist(segs, 0, 1, keyTag{Method: "AES-128", URI: "k.bin", IV: iv}, ""); !strings.Contains(p, "#EXT-X-VERSION:2\n") {
		t.Fatalf("AES-128 with IV, version 1:\n%s", p)
	}
	m := masterPlaylist(variant{URI: "playlist.m3u8", Bandwidth: 600000, AverageBandwidth: 500000, Codecs: []string{"avc1.64001F", "mp4a.40.2"}, Width: 1280, Height: 720, FrameRate: 29.97}, 3, fairplay)
	want := "#EXTM3U\n#EXT-X-VERSION:5\n#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"skd://Eup1PCPnvAJEdLK5dsQ76w==\",IV=0xDA9BB21E32EC5E7A3CDB3CED784C2841,KEYFORMAT=\"com.apple.streamingkeydelivery\",KEYFORMATVERSIONS=\"1\"\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=600000,AVERAGE-BANDWIDTH=500000,CODECS=\"avc1.64001F,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=29.970\nplaylist.m3u8\n"
	if m != want {
		t.Fatalf("master:\n%s\nwant\n%s", m, want)
	}
}
