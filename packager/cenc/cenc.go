// Package cenc encrypts media samples for ISO/IEC 23001-7 Common Encryption: 'cenc' (AES-CTR) and
// 'cbcs' (AES-CBC with a 1:9 pattern and a constant IV), keeping the length prefixes, NAL unit
// headers and slice headers of AVC and HEVC video in the clear.
package cenc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Scheme is a protection scheme four-cc.
type Scheme string

// The two schemes players support today: cenc for DASH/Widevine/PlayReady, cbcs for FairPlay
// and for one set of files that every DRM can play.
const (
	CENC Scheme = "cenc"
	CBCS Scheme = "cbcs"
)

// ParseScheme validates a --scheme value.
func ParseScheme(s string) (Scheme, error) {
	switch Scheme(s) {
	case CENC, CBCS:
		return Scheme(s), nil
	}
	return "", fmt.Errorf("unknown protection scheme %q (want cenc or cbcs)", s)
}

// Subsample is one clear run followed by one protected run of a sample (the senc entry).
type Subsample struct {
	Clear     uint16
	Protected uint32
}

// Pattern is the cbcs crypt:skip block pattern; the zero value means every block is encrypted.
type Pattern struct{ Crypt, Skip uint8 }

// Encryptor encrypts the samples of one track in decode order. It is not safe for concurrent use:
// a cenc encryptor advances its IV with every sample.
type Encryptor struct {
	scheme   Scheme
	block    cipher.Block
	iv       [16]byte // cenc: the next sample's IV (first 8 bytes); cbcs: the constant IV
	pattern  Pattern
	nal      *nalLayout // nil: the whole sample is protected (audio)
	subs     []Subsample
	cbcIV    [16]byte // scratch for CBC chaining, so encryption does not allocate per sample
	sampleIV [16]byte // the IV EncryptSample returned last
}

// NewEncryptor returns an encryptor for one track. iv may be empty (a random one is drawn), 8 or
// 16 bytes; for cenc only its first 8 bytes are used, since CMAF requires 8-byte per-sample IVs.
// video describes the NAL structure of AVC/HEVC tracks; nil means the whole sample is protected.
func NewEncryptor(scheme Scheme, key [16]byte, iv []byte, video *VideoConfig) (*Encryptor, error) {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	e := &Encryptor{scheme: scheme, block: block}
	switch len(iv) {
	case 0:
		if _, err := rand.Read(e.iv[:]); err != nil {
			return nil, err
		}
	case 8, 16:
		copy(e.iv[:], iv)
	default:
		return nil, fmt.Errorf("IV must be 8 or 16 bytes, got %d", len(iv))
	}
	switch scheme {
	case CENC:
		clear(e.iv[8:])
	case CBCS:
		if video != nil {
			e.pattern = Pattern{Crypt: 1, Skip: 9}
		}
	default:
		return nil, fmt.Errorf("unknown protection scheme %q", scheme)
	}
	if video != nil {
		e.nal, err = newNALLayout(video)
		if err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Scheme returns the protection scheme.
func (e *Encryptor) Scheme() Scheme { return e.scheme }

// PerSampleIVSize is the tenc default_Per_Sample_IV_Size: 8 for cenc, 0 for cbcs (constant IV).
func (e *Encryptor) PerSampleIVSize() int {
	if e.scheme == CENC {
		return 8
	}
	return 0
}

// ConstantIV is the tenc default_constant_IV of cbcs, nil for cenc.
func (e *Encryptor) ConstantIV() []byte {
	if e.scheme == CBCS {
		return append([]byte(nil), e.iv[:]...)
	}
	return nil
}

// Pattern is the tenc crypt:skip pattern (cbcs video 1:9; zero otherwise).
func (e *Encryptor) Pattern() Pattern { return e.pattern }

// UsesSubsamples reports whether samples carry subsample maps (NAL-structured video).
func (e *Encryptor) UsesSubsamples() bool { return e.nal != nil }

// EncryptSample encrypts sample in place. It returns the sample's IV (8 bytes for cenc, nil for
// cbcs) and its subsample map (nil for whole-sample protection). The returned slices are only
// valid until the next call.
func (e *Encryptor) EncryptSample(sample []byte) (iv []byte, subsamples []Subsample, err error) {
	if e.nal != nil {
		e.subs, err = e.nal.subsamples(sample, e.scheme, e.subs[:0])
		if err != nil {
			return nil, nil, err
		}
		subsamples = e.subs
	}
	switch e.scheme {
	case CENC:
		e.sampleIV = e.iv
		iv = e.sampleIV[:8]
		e.encryptCTR(sample, subsamples)
		// The next sample starts a fresh counter block: IV + 1 in the top 64 bits, low half zero.
		binary.BigEndian.PutUint64(e.iv[:8], binary.BigEndian.Uint64(e.iv[:8])+1)
	case CBCS:
		e.encryptCBCS(sample, subsamples)
	}
	return iv, subsamples, nil
}

// encryptCTR runs one AES-CTR keystream over the concatenated protected ranges of the sample,
// as ISO/IEC 23001-7 §9.4 requires (the counter does not restart between subsamples).
func (e *Encryptor) encryptCTR(sample []byte, subsamples []Subsample) {
	var counter [16]byte
	copy(counter[:8], e.iv[:8])
	stream := cipher.NewCTR(e.block, counter[:])
	if subsamples == nil {
		stream.XORKeyStream(sample, sample)
		return
	}
	pos := 0
	for _, s := range subsamples {
		pos += int(s.Clear)
		p := sample[pos : pos+int(s.Protected)]
		stream.XORKeyStream(p, p)
		pos += int(s.Protected)
	}
}

// encryptCBCS encrypts with AES-CBC using the constant IV, restarted for every subsample (ISO/IEC
// 23001-7 §10.4). With a crypt:skip pattern only the first block of every ten is encrypted; a
// trailing partial block always stays clear.
func (e *Encryptor) encryptCBCS(sample []byte, subsamples []Subsample) {
	if subsamples == nil {
		e.cbcPattern(sample)
		return
	}
	pos := 0
	for _, s := range subsamples {
		pos += int(s.Clear)
		e.cbcPattern(sample[pos : pos+int(s.Protected)])
		pos += int(s.Protected)
	}
}

func (e *Encryptor) cbcPattern(data []byte) {
	e.cbcIV = e.iv
	whole := len(data) &^ 15
	if e.pattern.Crypt == 0 {
		cipher.NewCBCEncrypter(e.block, e.cbcIV[:]).CryptBlocks(data[:whole], data[:whole])
		return
	}
	crypt, step := int(e.pattern.Crypt)*16, int(e.pattern.Crypt+e.pattern.Skip)*16
	// The chain continues from one encrypted block group to the next, skipping the clear ones.
	enc := cipher.NewCBCEncrypter(e.block, e.cbcIV[:])
	for off := 0; off+crypt <= whole; off += step {
		enc.CryptBlocks(data[off:off+crypt], data[off:off+crypt])
	}
}
