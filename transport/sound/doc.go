// Package sound carries small messages (a payee's pairing code, about 300 to 400 bytes)
// as audio, for phones without Bluetooth or a camera that works: written as a WAV file by
// one phone, played by its speaker, recorded by the other's microphone, decoded.
//
// # Modes
//
// Ultrasonic (the default): 32-tone continuous-phase FSK from 17.0 to 20.1 kHz in
// 100 Hz steps, in two groups of 16 sounding together, so that each 12 ms symbol carries
// one byte (the high nibble in the lower group, the low nibble in the upper): 2 ms of
// guard, where the echo of the previous symbol dies and each tone glides to its new
// frequency (a raised cosine, with continuous phase: no clicks, and the energy below
// 16 kHz 74 dB under the total, TestUltrasonicStaysInBand), then a 10 ms window over
// which the tones are orthogonal and the receiver measures each with the Goertzel
// algorithm. 667 bit/s raw. Before the data, a 150 ms linear chirp from 17.0 to 20.1 kHz (the preamble:
// found by correlating the recording with it, FFT by FFT, normalised by the recording's
// energy so that a quiet recording is found as well as a loud one); after it, the same
// chirp downwards (the postamble: its distance from the preamble measures the
// receiver's clock against the sender's, up to 0.5% apart, and the symbols are read at
// the corrected rate). Sample rates from 44.1 kHz up.
//
// Audible: Bell 202, 1200 baud AFSK (mark 1200 Hz, space 2200 Hz), asynchronous 8-N-1
// bytes, least significant bit first, after 300 ms of mark: the modulation of caller ID
// and APRS, which minimodem's "1200" mode reads and writes byte for byte (tested both
// ways). 960 bit/s of data. For speakers that cannot play 17 kHz, at the cost of being
// heard.
//
// # Frame
//
// Both modes carry the same bytes, one byte a symbol:
//
//	header, three copies:  0xB0|copy (1) || payload length (2, big endian)
//	                       || CRC-16/CCITT-FALSE("offpay/sound/v1 header" || length) (2)
//	k data shards, then m parity shards, each:
//	                       data (16) || CRC-16/CCITT-FALSE("opsd" || index || data) (2)
//
// The data shards hold payload || CRC-32 (IEEE) of the payload, zero-padded to k*16
// bytes, k = ceil((len+4)/16); the m = max(2, ceil(k/2)) parity shards are Reed-Solomon
// over GF(2^8) (github.com/klauspost/reedsolomon). Reed-Solomon here corrects erasures:
// a shard whose CRC-16 fails is treated as lost, and any k of the k+m shards restore the
// payload. A shard that fails is first retried with one or two of its least sure symbols
// replaced by their runner-up (Chase decoding on the demodulator's soft output: the
// power ratio of the two strongest tones, or the weakest bits of an AFSK byte). The
// header is read from the first copy that checks (also Chase-decoded), else from a
// bitwise vote of the three. A recording cut short loses its last shards, which are
// parity first.
//
// # Errors
//
// Decode returns the exact bytes sent or an error matching ErrNoSignal (no preamble, or
// no header), ErrDamaged (fewer than k shards survived) or ErrCorrupt (the restored
// payload fails its CRC-32). A wrong shard that passes its CRC-16 (about one in 65536,
// more with Chase decoding's tries) is caught by the CRC-32: wrong bytes are never
// returned without an error (soundtest's FER measurements count them, and find none).
//
// # What it is not
//
// Not secret: anyone in earshot hears the code, as anyone in sight can photograph a QR
// code. The pairing protocol (transport/channel) makes that a denial of service, not a
// loss. Not tested on real phone speakers and microphones, whose response above 17 kHz
// varies widely: soundtest simulates a room (noise, echo, resampling, clock offset,
// clipping), not a speaker's roll-off or a microphone's filter.
package sound
