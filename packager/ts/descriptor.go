package ts

// Descriptor tags used in the PMT.
const (
	tagRegistration         = 0x05
	tagPrivateDataIndicator = 0x0F
)

// PrivateDataIndicator is a private_data_indicator_descriptor (ISO/IEC 13818-1 2.6.29) with a
// four-character code, as SAMPLE-AES marks encrypted streams: "zavc", "aacd", "ac3d", "ec3d".
func PrivateDataIndicator(fourCC string) []byte {
	return append([]byte{tagPrivateDataIndicator, 4}, fourCC[:4]...)
}

// Registration is a registration_descriptor (ISO/IEC 13818-1 2.6.8) with a format_identifier and
// additional_identification_info.
func Registration(formatID string, info []byte) []byte {
	b := append([]byte{tagRegistration, byte(4 + len(info))}, formatID[:4]...)
	return append(b, info...)
}

// AudioSetup is the audio_setup_information Apple's SAMPLE-AES carries in an "apad"
// registration descriptor, so a player can configure an encrypted audio decoder: audio_type
// ("zaac" AAC-LC, "zach" HE-AAC, "zacp" HE-AACv2, "zac3" AC-3, "zec3" E-AC-3), priming samples,
// version 1 and the setup data (AudioSpecificConfig, the first 10 bytes of an AC-3 syncframe,
// or the dec3 payload).
func AudioSetup(audioType string, priming uint16, setup []byte) []byte {
	b := append([]byte(nil), audioType[:4]...)
	b = append(b, byte(priming>>8), byte(priming), 1, byte(len(setup)))
	return append(b, setup...)
}
