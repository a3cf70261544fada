// Package sampleaes encrypts H.264 NAL units and AAC, AC-3 and E-AC-3 frames as Apple's "MPEG-2
// Stream Encryption Format for HTTP Live Streaming" (SAMPLE-AES) specifies: AES-128-CBC without
// padding, the IV restarting at every NAL unit and audio frame, clear leaders that keep headers
// readable, and emulation prevention re-applied to encrypted NAL units.
package sampleaes

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
)

// Leaders and pattern of the format.
const (
	videoClearLeader = 32  // NAL header byte + 31 bytes
	videoClearRun    = 144 // clear bytes after each encrypted block
	audioClearLeader = 16  // after the frame header
	blockSize        = 16
)

// Encrypter encrypts with one key and IV. It is not safe for concurrent use.
type Encrypter struct {
	block   cipher.Block
	iv      [16]byte
	chain   [16]byte
	scratch []byte
}

// New returns an Encrypter for a content key and the IV that the playlist's EXT-X-KEY signals.
func New(key, iv [16]byte) (*Encrypter, error) {
	b, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	return &Encrypter{block: b, iv: iv}, nil
}

// Clone returns an Encrypter with the same key and IV for use on another goroutine.
func (e *Encrypter) Clone() *Encrypter {
	return &Encrypter{block: e.block, iv: e.iv}
}

// EncryptsNAL reports whether a NAL unit of this header byte and size is protected: coded slices
// (types 1 and 5) longer than 48 bytes; shorter ones would have no whole block after the leader.
func EncryptsNAL(nal []byte) bool {
	if len(nal) <= videoClearLeader+blockSize {
		return false
	}
	t := nal[0] & 0x1F
	return t == 1 || t == 5
}

// AppendNAL appends nal (a NAL unit as stored, emulation prevention included, without start
// code) to dst. A protected NAL unit has its 16-byte block at 32, 192, 352, ... bytes encrypted in
// one CBC chain (the last 16 bytes or fewer stay clear), and emulation prevention applied over the
// result, since ciphertext can contain start code prefixes. A decrypter removes that layer,
// decrypts, and has the original unit back.
func (e *Encrypter) AppendNAL(dst, nal []byte) []byte {
	if !EncryptsNAL(nal) {
		return append(dst, nal...)
	}
	e.scratch = append(e.scratch[:0], nal...)
	p := e.scratch
	e.chain = e.iv
	enc := cipher.NewCBCEncrypter(e.block, e.chain[:])
	for off := videoClearLeader; len(p)-off > blockSize; off += blockSize + videoClearRun {
		enc.CryptBlocks(p[off:off+blockSize], p[off:off+blockSize])
	}
	return AppendEscaped(dst, p)
}

// EncryptAudioFrame encrypts one audio frame in place: headerLen bytes (the ADTS header; 0 for
// AC-3, whose syncinfo lies inside the clear leader) and the 16 bytes after them stay clear, then
// every whole 16-byte block is encrypted; a partial last block stays clear.
func (e *Encrypter) EncryptAudioFrame(frame []byte, headerLen int) {
	start := headerLen + audioClearLeader
	if len(frame) < start+blockSize {
		return
	}
	whole := (len(frame) - start) &^ (blockSize - 1)
	e.chain = e.iv
	cipher.NewCBCEncrypter(e.block, e.chain[:]).CryptBlocks(frame[start:start+whole], frame[start:start+whole])
}

// AppendEscaped appends p with H.264 emulation prevention (ISO/IEC 14496-10 7.4.1): a 0x03 byte
// after every two zero bytes that are followed by a byte of 0x00 to 0x03.
func AppendEscaped(dst, p []byte) []byte {
	const low7, high = 0x7F7F7F7F7F7F7F7F, 0x8080808080808080
	zeros, from := 0, 0 // zero bytes just before p[i]; start of what is not appended yet
	for i := 0; i < len(p); {
		// Eight bytes at a time while no zero run is pending and the word has neither two
		// adjacent zero bytes nor a zero last byte; only pairs of zeros can need an escape.
		if zeros == 0 && len(p)-i >= 8 {
			v := binary.LittleEndian.Uint64(p[i:])
			z := ^((v&low7 + low7) | v) & high // the top bit of every zero byte
			if z&(z>>8) == 0 && z>>56 == 0 {
				i += 8
				continue
			}
		}
		b := p[i]
		if zeros >= 2 && b <= 3 {
			dst = append(append(dst, p[from:i]...), 3)
			from, zeros = i, 0
		}
		if b == 0 {
			zeros++
		} else {
			zeros = 0
		}
		i++
	}
	return append(dst, p[from:]...)
}
