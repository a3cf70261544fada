package hls

import (
	"fmt"
	"math"
	"strings"
)

// segmentEntry is one line pair of a media playlist.
type segmentEntry struct {
	URI      string
	Duration float64 // seconds
}

// keyTag is the EXT-X-KEY of a playlist; Method "" means no encryption.
type keyTag struct {
	Method    string // SAMPLE-AES or AES-128
	URI       string
	IV        []byte // explicit IV; nil: the segment's media sequence number
	KeyFormat string // "" is identity
}

func (k keyTag) attributes() string {
	a := fmt.Sprintf("METHOD=%s,URI=%q", k.Method, k.URI)
	if k.IV != nil {
		a += fmt.Sprintf(",IV=0x%X", k.IV)
	}
	if k.KeyFormat != "" {
		a += fmt.Sprintf(",KEYFORMAT=%q,KEYFORMATVERSIONS=\"1\"", k.KeyFormat)
	}
	return a
}

// version is the EXT-X-VERSION a playlist needs: the configured index version, raised by the
// features the key uses (IV needs 2, KEYFORMAT needs 5; RFC 8216 7). 0 means no version tag,
// which is version 1.
func (k keyTag) version(indexVersion int) int {
	v := indexVersion
	if k.IV != nil {
		v = max(v, 2)
	}
	if k.KeyFormat != "" {
		v = max(v, 5)
	}
	if v <= 1 {
		return 0
	}
	return v
}

// extinf formats a duration as the manual's index versions do: three decimals from version 3
// on, a rounded integer for version 1.
func extinf(d float64, indexVersion int) string {
	if indexVersion < 3 {
		return fmt.Sprintf("%d", int(math.Round(d)))
	}
	return fmt.Sprintf("%.3f", d)
}

// mediaPlaylist renders a VOD media playlist. The target duration is the largest EXTINF rounded
// to the nearest integer, as RFC 8216 4.3.3.1 requires. mapURI names the init segment of fMP4
// segments (EXT-X-MAP, which needs version 6); "" for MPEG-TS.
func mediaPlaylist(segs []segmentEntry, sequence, indexVersion int, key keyTag, mapURI string) string {
	target := 1
	for _, s := range segs {
		target = max(target, int(math.Round(s.Duration)))
	}
	var b strings.Builder
	b.WriteString("#EXTM3U\n")
	v := key.version(indexVersion)
	if mapURI != "" {
		v = max(v, 6)
	}
	if v > 0 {
		fmt.Fprintf(&b, "#EXT-X-VERSION:%d\n", v)
	}
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", target)
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", sequence)
	b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	if key.Method != "" {
		fmt.Fprintf(&b, "#EXT-X-KEY:%s\n", key.attributes())
	}
	if mapURI != "" {
		fmt.Fprintf(&b, "#EXT-X-MAP:URI=%q\n", mapURI)
	}
	for _, s := range segs {
		fmt.Fprintf(&b, "#EXTINF:%s,\n%s\n", extinf(s.Duration, indexVersion), s.URI)
	}
	b.WriteString("#EXT-X-ENDLIST\n")
	return b.String()
}

// variant is the one rendition a master playlist names.
type variant struct {
	URI              string
	Bandwidth        int64 // peak segment bit rate
	AverageBandwidth int64
	Codecs           []string
	Width, Height    int     // 0 for audio-only
	FrameRate        float64 // 0 for audio-only
	// Audio is the media playlist of a separate audio rendition (fMP4 segments carry one track
	// each); "" when the variant's segments hold the audio.
	Audio string
}

// masterPlaylist renders the Alternates index: one EXT-X-STREAM-INF naming the media playlist.
// A FairPlay key is announced with EXT-X-SESSION-KEY so players can fetch the licence early.
func masterPlaylist(v variant, indexVersion int, key keyTag) string {
	var b strings.Builder
	b.WriteString("#EXTM3U\n")
	if ver := key.version(indexVersion); ver > 0 {
		fmt.Fprintf(&b, "#EXT-X-VERSION:%d\n", ver)
	}
	if key.KeyFormat != "" {
		fmt.Fprintf(&b, "#EXT-X-SESSION-KEY:%s\n", key.attributes())
	}
	if v.Audio != "" {
		fmt.Fprintf(&b, "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"audio\",NAME=\"audio\",DEFAULT=YES,AUTOSELECT=YES,URI=%q\n", v.Audio)
	}
	fmt.Fprintf(&b, "#EXT-X-STREAM-INF:%s", v.attributes())
	if v.Audio != "" {
		b.WriteString(`,AUDIO="audio"`)
	}
	fmt.Fprintf(&b, "\n%s\n", v.URI)
	return b.String()
}

// attributes are the EXT-X-STREAM-INF attributes of a variant (without AUDIO or URI).
func (v variant) attributes() string {
	a := fmt.Sprintf("BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,CODECS=%q", v.Bandwidth, v.AverageBandwidth, strings.Join(v.Codecs, ","))
	if v.Width > 0 && v.Height > 0 {
		a += fmt.Sprintf(",RESOLUTION=%dx%d", v.Width, v.Height)
	}
	if v.FrameRate > 0 {
		a += fmt.Sprintf(",FRAME-RATE=%.3f", v.FrameRate)
	}
	return a
}
