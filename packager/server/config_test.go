package server

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"drmpack/packager/errcode"
)

// The manual's configuration blocks, together, with the values of its examples.
const manualXML = `<Server>
  <VHostDefault>
    <Media>
      <UpfrontMP4Header>ON</UpfrontMP4Header>
      <UpfrontM4AHeader>OFF</UpfrontM4AHeader>
      <MP4Trimming StartParam="start" EndParam="end" AllTracks="off" MultiParam="trimming" MaxRatio="50">ON</MP4Trimming>
      <M4ATrimming StartParam="s" EndParam="e" AllTracks="on" MultiParam="multi">ON</M4ATrimming>
      <MP3Trimming StartParam="start" EndParam="end">OFF</MP3Trimming>
      <MP4HLS Status="Active" Keyword="mp4hls">
        <Index Ver="1" Alternates="on">index.m3u8</Index>
        <Sequence>5</Sequence>
        <Duration>4</Duration>
        <AlternatesName>playlist.m3u8</AlternatesName>
      </MP4HLS>
      <MP3HLS Status="Active" Keyword="mp3hls">
        <Index Ver="3" Alternates="off">list.m3u8</Index>
      </MP3HLS>
    </Media>
    <Options>
      <Dims Status="Active" Keyword="12AB" MaxSourceSize="3" OnFailure="redirect" />
    </Options>
  </VHostDefault>
  <Cache MemoryMB="32"/>
  <Limits HeavyRequests="3" HeavyWaitMs="250" MaxURLBytes="4096"/>
</Server>`

func TestConfigDefaultsAreAllOff(t *testing.T) {
	for _, doc := range []string{"<Server/>", "<Server><VHostDefault><Media/><Options/></VHostDefault></Server>"} {
		cfg, err := ParseConfig([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		want := DefaultConfig()
		if !reflect.DeepEqual(cfg.MP4Trimming, want.MP4Trimming) || !reflect.DeepEqual(cfg.MP4HLS, want.MP4HLS) || !reflect.DeepEqual(cfg.MP3HLS, want.MP3HLS) {
			t.Fatalf("%s: %+v", doc, cfg)
		}
		if cfg.UpfrontMP4 || cfg.UpfrontM4A || cfg.MP4Trimming.On || cfg.M4ATrimming.On || cfg.MP3Trimming.On || cfg.MP4HLS.Active || cfg.MP3HLS.Active || cfg.Dims.Active || len(cfg.Warnings) > 0 {
			t.Fatalf("%s: something is on by default: %+v", doc, cfg)
		}
	}
	d := DefaultConfig()
	if d.MP4Trimming.StartParam != "start" || d.MP4Trimming.EndParam != "end" || d.MP4Trimming.MultiParam != "trimming" || d.MP4Trimming.MaxRatio != 50 ||
		d.MP4HLS.Keyword != "mp4hls" || d.MP3HLS.Keyword != "mp3hls" || d.MP4HLS.Index != "index.m3u8" || d.MP4HLS.IndexVersion != 3 ||
		d.MP4HLS.Sequence != 0 || d.MP4HLS.Duration != 10*time.Second || d.MP4HLS.AlternatesName != "playlist.m3u8" ||
		d.Dims.Keyword != "dims" || d.Dims.MaxSourceSize != 10<<20 || d.Dims.Redirect {
		t.Fatalf("defaults differ from the manual's: %+v", d)
	}
}

func TestConfigManualExample(t *testing.T) {
	cfg, err := ParseConfig([]byte(manualXML))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) > 0 {
		t.Fatalf("warnings: %v", cfg.Warnings)
	}
	if !cfg.UpfrontMP4 || cfg.UpfrontM4A || !cfg.MP4Trimming.On || cfg.MP3Trimming.On {
		t.Fatalf("switches: %+v", cfg)
	}
	if m := cfg.M4ATrimming; !m.On || m.StartParam != "s" || m.EndParam != "e" || !m.AllTracks || m.MultiParam != "multi" || m.MaxRatio != 50 {
		t.Fatalf("M4ATrimming %+v", m)
	}
	if h := cfg.MP4HLS; !h.Active || h.IndexVersion != 1 || !h.Alternates || h.Sequence != 5 || h.Duration != 4*time.Second {
		t.Fatalf("MP4HLS %+v", h)
	}
	if h := cfg.MP3HLS; !h.Active || h.Index != "list.m3u8" || h.Duration != 10*time.Second {
		t.Fatalf("MP3HLS %+v", h)
	}
	if d := cfg.Dims; !d.Active || d.Keyword != "12AB" || d.MaxSourceSize != 3<<20 || !d.Redirect {
		t.Fatalf("Dims %+v", d)
	}
	if cfg.Cache.MemoryBytes != 32<<20 || cfg.Limits != (Limits{HeavyRequests: 3, HeavyWait: 250 * time.Millisecond, MaxURLBytes: 4096}) {
		t.Fatalf("Cache %+v Limits %+v", cfg.Cache, cfg.Limits)
	}
}

func TestConfigReportsUnknownNames(t *testing.T) {
	cfg, err := ParseConfig([]byte(`<Server><VHostDefault><Media>
		<MP4Trimming Strat="x">ON</MP4Trimming><ApplyQueryString>ON</ApplyQueryString>
		<MP4HLS Status="Active"><Segments>3</Segments></MP4HLS></Media>
		<Options><Dims port="8500"><Composite Name="a" File="a.png" Opacity="3"/></Dims></Options></VHostDefault>
		<Vhosts/></Server>`))
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(cfg.Warnings, "\n")
	for _, want := range []string{"attribute Strat", "<ApplyQueryString>", "<Segments>", "attribute port", "attribute Opacity", "<Vhosts>"} {
		if !strings.Contains(all, want) {
			t.Errorf("no warning about %s in\n%s", want, all)
		}
	}
}

func TestConfigKeywordConflict(t *testing.T) {
	cfg, err := ParseConfig([]byte(`<Server><VHostDefault><Media>
		<MP4HLS Status="Active" Keyword="hls"/><MP3HLS Status="Active" Keyword="hls"/></Media></VHostDefault></Server>`))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.MP4HLS.Active || cfg.MP3HLS.Active || len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "MP3HLS") {
		t.Fatalf("MP4HLS %v MP3HLS %v warnings %v", cfg.MP4HLS.Active, cfg.MP3HLS.Active, cfg.Warnings)
	}
}

func TestConfigRefusesBadValues(t *testing.T) {
	for _, doc := range []string{
		`<Server><VHostDefault><Media><UpfrontMP4Header>YES</UpfrontMP4Header></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4Trimming MaxRatio="150">ON</MP4Trimming></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4Trimming StartParam="a&amp;b">ON</MP4Trimming></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4Trimming StartParam="x" EndParam="x">ON</MP4Trimming></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4HLS Status="On"/></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4HLS Keyword="a/b"/></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4HLS><Index Ver="2"/></MP4HLS></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4HLS><Duration>0</Duration></MP4HLS></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP4HLS><Sequence>-1</Sequence></MP4HLS></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Media><MP3HLS><AlternatesName>index.m3u8</AlternatesName></MP3HLS></Media></VHostDefault></Server>`,
		`<Server><VHostDefault><Options><Dims Status="Active" MaxSourceSize="big"/></Options></VHostDefault></Server>`,
		`<Server><Limits HeavyRequests="0"/></Server>`,
		`<Media/>`,
		`<Server><VHostDefault>`,
	} {
		if _, err := ParseConfig([]byte(doc)); errcode.CodeOf(err) != errcode.InvalidArgument {
			t.Errorf("%s: %v, want %d", doc, err, errcode.InvalidArgument)
		}
	}
}
