package keys

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

const kidHex, keyHex = "6bac8ec30ee3379f3d21290b3a2bc9c3", "3a54452ba2d2cad16bd879cdd47ab05b"

func TestParseRaw(t *testing.T) {
	r, err := ParseRaw([]string{kidHex + ":" + keyHex, "audio=cbbc38b6-b50d-ab53-f826-3e06b7382aa3:959dbd673980e1d1bdf2d36209495f4e:0102030405060708"})
	if err != nil {
		t.Fatal(err)
	}
	if r[0].TrackType != AnyTrack || r[0].KID.Hex() != kidHex || r[0].KID.UUID() != "6bac8ec3-0ee3-379f-3d21-290b3a2bc9c3" {
		t.Fatalf("first key %+v", r[0].KID)
	}
	if r[1].TrackType != Audio || len(r[1].IV) != 8 {
		t.Fatalf("second key type %s IV %d bytes", r[1].TrackType, len(r[1].IV))
	}
	set, err := r.Keys(context.Background(), Request{TrackTypes: []TrackType{HD, Audio}})
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := set.For(Audio); k.KID != r[1].KID {
		t.Fatal("AUDIO did not get its own key")
	}
	if k, _ := set.For(UHD1); k.KID != r[0].KID {
		t.Fatal("UHD1 did not fall back to the key for all tracks")
	}
}

func TestParseRawErrorsDoNotEchoKeys(t *testing.T) {
	for _, v := range []string{
		kidHex,                                 // no key
		kidHex + ":" + keyHex[:30],             // short key
		kidHex + ":" + keyHex + ":12",          // bad IV
		"XX=" + kidHex + ":" + keyHex,          // unknown track type
		kidHex + ":" + strings.Repeat("g", 32), // not hex
	} {
		_, err := ParseRaw([]string{v})
		if err == nil {
			t.Fatalf("%q accepted", v)
		}
		if strings.Contains(err.Error(), keyHex[:16]) || strings.Contains(err.Error(), "gggg") {
			t.Fatalf("error echoes key material: %v", err)
		}
	}
	if _, err := ParseRaw([]string{"HD=" + kidHex + ":" + keyHex, "hd=" + kidHex + ":" + keyHex}); err == nil {
		t.Fatal("two keys for HD accepted")
	}
}

func TestMissingTrackTypeIsAnError(t *testing.T) {
	r, _ := ParseRaw([]string{"HD=" + kidHex + ":" + keyHex})
	if _, err := r.Keys(context.Background(), Request{TrackTypes: []TrackType{HD, Audio}}); err == nil || !strings.Contains(err.Error(), "AUDIO") {
		t.Fatalf("err %v, want one naming AUDIO", err)
	}
}

func TestSecretNeverFormats(t *testing.T) {
	r, _ := ParseRaw([]string{kidHex + ":" + keyHex})
	for _, s := range []string{fmt.Sprint(r[0]), fmt.Sprintf("%+v", r[0]), fmt.Sprintf("%#v", r[0]), fmt.Sprintf("%v", r)} {
		if strings.Contains(s, "58") && strings.Contains(s, "84") || strings.Contains(s, keyHex) {
			// 0x3a=58, 0x54=84: the first key bytes printed as decimals
			t.Fatalf("key material formatted: %s", s)
		}
	}
}

func TestVideoTrackType(t *testing.T) {
	for h, want := range map[int]TrackType{360: SD, 576: SD, 720: HD, 1080: HD, 1440: UHD1, 2160: UHD1, 4320: UHD2} {
		if got := VideoTrackType(h); got != want {
			t.Errorf("%d lines: %s, want %s", h, got, want)
		}
	}
}

func TestThresholds(t *testing.T) {
	th, err := ParseThresholds("480, 720,1440")
	if err != nil {
		t.Fatal(err)
	}
	for h, want := range map[int]TrackType{360: SD, 480: SD, 540: HD, 720: HD, 1080: UHD1, 2160: UHD2} {
		if got := th.VideoTrackType(h); got != want {
			t.Errorf("%d lines with %v: %s, want %s", h, th, got, want)
		}
	}
	for h, want := range map[int]TrackType{576: SD, 720: HD, 1080: HD, 2160: UHD1, 4320: UHD2} {
		if got := (Thresholds{}).VideoTrackType(h); got != want || VideoTrackType(h) != want {
			t.Errorf("%d lines by default: %s, want %s", h, got, want)
		}
	}
	for _, bad := range []string{"", "576,1080", "576,x,2160", "1080,576,2160", "0,1,2", "576,1080,2160,4320"} {
		if _, err := ParseThresholds(bad); err == nil {
			t.Errorf("ParseThresholds(%q) accepted", bad)
		}
	}
}

func FuzzParseThresholds(f *testing.F) {
	for _, s := range []string{"576,1080,2160", "480, 720,1440", "1,2,3", "0,1,2", "576,1080", "a,b,c", "-1,5,9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := ParseThresholds(s)
		if err != nil {
			return
		}
		if !(0 < th.SD && th.SD < th.HD && th.HD < th.UHD1) {
			t.Fatalf("ParseThresholds(%q) = %+v: not rising positive heights", s, th)
		}
		if th.VideoTrackType(th.SD) != SD || th.VideoTrackType(th.UHD1+1) != UHD2 {
			t.Fatalf("%+v classes its own limits wrongly", th)
		}
	})
}
