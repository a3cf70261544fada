package pssh

import (
	"encoding/binary"
	"fmt"
)

// WidevinePsshData field numbers and wire types.
//
// Source: the WidevinePsshData message published in Shaka Packager
// (packager/media/base/widevine_pssh_data.proto) and the newer copy of the
// Widevine licence protocol (license_protocol.proto, as mirrored by
// pywidevine), which agree on:
//
//	optional Algorithm algorithm         = 1; // enum {UNENCRYPTED=0; AESCTR=1}, deprecated
//	repeated bytes     key_id            = 2;
//	optional string    provider          = 3; // deprecated in the newer proto, still used by licence services
//	optional bytes     content_id        = 4;
//	optional string    track_type        = 5; // deprecated, not emitted
//	optional uint32    protection_scheme = 9; // big-endian fourcc
const (
	wvFieldAlgorithm        = 1
	wvFieldKeyID            = 2
	wvFieldProvider         = 3
	wvFieldContentID        = 4
	wvFieldProtectionScheme = 9

	wvAlgorithmAESCTR = 1

	wireVarint = 0
	wireBytes  = 2
)

// WidevineData returns the WidevinePsshData protobuf to carry in a Widevine
// pssh box: algorithm AESCTR (field 1) only when scheme is "cenc", key_id
// (field 2) for each kid in order, provider (3) if non-empty, content_id (4)
// if non-empty, and protection_scheme (9) as the big-endian fourcc of scheme.
//
// Fields are written in field-number order, the order a protobuf library
// serialises them in, so the output is byte-identical to what the Widevine
// tooling produces for the same message.
//
// Why algorithm only for "cenc": the field is deprecated and its enum has no
// CBC value, so writing AESCTR for 'cbcs' would contradict field 9, and
// writing UNENCRYPTED would be false. Bento4 (mp4-dash, utils/mp4utils.py,
// ComputeWidevineHeader) does the same: algorithm=1 for 'cenc' only,
// protection_scheme always. Shaka Packager (widevine_pssh_generator.cc)
// omits field 1 altogether. We follow Bento4 so that anything still reading
// the legacy field sees a value that agrees with field 9, and so that 'cenc'
// output matches the key-service-issued header the tests use as reference,
// which carries algorithm=1.
//
// scheme must be one of the four ISO/IEC 23001-7 schemes ("cenc", "cens",
// "cbc1", "cbcs"), or "" to omit protection_scheme (the licence service then
// assumes 'cenc'). Any other value is a programming error, because the
// engine validates the scheme long before it gets here, and WidevineData
// panics rather than emit a header that silently mislabels the content.
func WidevineData(kids [][16]byte, provider string, contentID []byte, scheme string) []byte {
	fourcc, ok := schemeFourCC(scheme)
	if !ok {
		panic(fmt.Sprintf("pssh: WidevineData: unsupported protection scheme %q", scheme))
	}
	// Generous size estimate: 18 bytes per key_id plus room for the keys and
	// length prefixes of the other fields.
	b := make([]byte, 0, len(kids)*18+len(provider)+len(contentID)+32)
	if scheme == "cenc" {
		b = appendVarintField(b, wvFieldAlgorithm, wvAlgorithmAESCTR)
	}
	for i := range kids {
		b = appendBytesField(b, wvFieldKeyID, kids[i][:])
	}
	if provider != "" {
		b = appendBytesField(b, wvFieldProvider, []byte(provider))
	}
	if len(contentID) > 0 {
		b = appendBytesField(b, wvFieldContentID, contentID)
	}
	if scheme != "" {
		b = appendVarintField(b, wvFieldProtectionScheme, uint64(fourcc))
	}
	return b
}

// schemeFourCC maps a Common Encryption scheme name to its big-endian fourcc
// ('cenc' = 0x63656E63, 'cbcs' = 0x63626373). "" maps to 0 and is valid.
func schemeFourCC(scheme string) (uint32, bool) {
	switch scheme {
	case "":
		return 0, true
	case "cenc", "cens", "cbc1", "cbcs":
		return binary.BigEndian.Uint32([]byte(scheme)), true
	}
	return 0, false
}

// The protobuf wire format is small enough to write by hand
// (https://protobuf.dev/programming-guides/encoding/): a field is a varint key
// (field_number<<3 | wire_type) followed by a varint value or by a varint
// length and that many bytes. Doing it here keeps the module free of a
// protobuf dependency for ten lines of encoding.

func appendVarintField(b []byte, field int, v uint64) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|wireVarint)
	return binary.AppendUvarint(b, v)
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(field)<<3|wireBytes)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}
