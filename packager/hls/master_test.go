package hls

import (
	"testing"

	"drmpack/packager/demux"
)

// TestTitleMaster pins the master playlist of a title with two video renditions and two audio
// languages in different codecs: a group per audio codec, every video variant once per group
// with the group's bit rates added, RFC 5646 languages, one session key per distinct FairPlay
// key, and the I-frame variants.
func TestTitleMaster(t *testing.T) {
	fairPlay := func(uri string, iv byte) keyTag {
		return keyTag{Method: "SAMPLE-AES", URI: uri, IV: []byte{iv, 15: iv}, KeyFormat: FairPlayKeyFormat}
	}
	video := func(w, h int) *demux.Track {
		return &demux.Track{Kind: demux.Video, Width: w, Height: h, Timescale: 25, Samples: make([]demux.Sample, 50)}
	}
	videos := []rendition{{name: "video_360p", track: video(640, 360)}, {name: "video_720p", track: video(1280, 720)}}
	for _, v := range videos {
		for i := range v.track.Samples {
			v.track.Samples[i].Dur = 1
		}
	}
	vres := []*Result{
		{Index: "video_360p/index.m3u8", Bandwidth: 500000, AverageBandwidth: 400000, Codecs: []string{"avc1.64001E"}, key: fairPlay("skd://sd", 1)},
		{Index: "video_720p/index.m3u8", Bandwidth: 1500000, AverageBandwidth: 1200000, Codecs: []string{"avc1.64001F"}, key: fairPlay("skd://hd", 2)},
	}
	audios := []rendition{
		{name: "audio_eng", track: &demux.Track{Kind: demux.Audio, Language: "eng", Channels: 2}},
		{name: "audio_kor", track: &demux.Track{Kind: demux.Audio, Language: "kor", Channels: 6}},
	}
	ares := []*Result{
		{Index: "audio_eng/index.m3u8", Bandwidth: 130000, AverageBandwidth: 128000, Codecs: []string{"mp4a.40.2"}, key: fairPlay("skd://audio", 3)},
		{Index: "audio_kor/index.m3u8", Bandwidth: 390000, AverageBandwidth: 384000, Codecs: []string{"ac-3"}, key: fairPlay("skd://audio", 4)},
	}
	iframes := []iframeVariant{{uri: "video_360p/iframes.m3u8", peak: 60000, avg: 50000}, {}}
	got := titleMaster(videos, vres, iframes, audios, ares, 3)
	want := `#EXTM3U
#EXT-X-VERSION:5
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://sd",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://hd",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI="skd://audio",KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-mp4a_40_2",NAME="audio_eng",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio_eng/index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-ac-3",NAME="audio_kor",LANGUAGE="ko",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="6",URI="audio_kor/index.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=630000,AVERAGE-BANDWIDTH=528000,CODECS="avc1.64001E,mp4a.40.2",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio-mp4a_40_2"
video_360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=890000,AVERAGE-BANDWIDTH=784000,CODECS="avc1.64001E,ac-3",RESOLUTION=640x360,FRAME-RATE=25.000,AUDIO="audio-ac-3"
video_360p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1630000,AVERAGE-BANDWIDTH=1328000,CODECS="avc1.64001F,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio-mp4a_40_2"
video_720p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=1890000,AVERAGE-BANDWIDTH=1584000,CODECS="avc1.64001F,ac-3",RESOLUTION=1280x720,FRAME-RATE=25.000,AUDIO="audio-ac-3"
video_720p/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=60000,AVERAGE-BANDWIDTH=50000,CODECS="avc1.64001E",RESOLUTION=640x360,URI="video_360p/iframes.m3u8"
`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
